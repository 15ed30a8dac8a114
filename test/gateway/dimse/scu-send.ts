/**
 * Runs `storeInstances` as a separate process, for tests that need it inside a network
 * namespace next to DCMTK's storescp. Usage: scu-send.ts <port> <calledAE> <part10 file>...
 * Prints the outcome as JSON.
 */
import { storeInstances } from '../../../gateway/dimse/index.js';
import { readPart10 } from './helpers.js';

const [port, calledAETitle, ...files] = process.argv.slice(2);
const outcome = await storeInstances({
  host: '127.0.0.1',
  port: Number(port),
  callingAETitle: 'LIMEN',
  calledAETitle,
  instances: files.map((file) => {
    const p = readPart10(file);
    return { sopClassUID: p.sopClassUID, sopInstanceUID: p.sopInstanceUID, transferSyntaxUID: p.transferSyntaxUID, bytes: p.dataSet };
  }),
});
process.stdout.write(JSON.stringify(outcome));
