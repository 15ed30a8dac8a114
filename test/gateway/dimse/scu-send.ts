/**
 * Runs `storeInstances` as a separate process, for tests that need it inside a network
 * namespace next to DCMTK's storescp. Usage:
 *   scu-send.ts <port> <calledAE> [--tls <ca> [<certificate> <key>]] <part10 file>...
 * Prints the outcome as JSON.
 */
import { readFileSync } from 'node:fs';
import { storeInstances, type StoreScuTls } from '../../../gateway/dimse/index.js';
import { readPart10 } from './helpers.js';

const [port, calledAETitle, ...rest] = process.argv.slice(2);
let tls: StoreScuTls | undefined;
let files = rest;
if (rest[0] === '--tls') {
  const pem = rest.slice(1).filter((a) => a.endsWith('.crt') || a.endsWith('.key'));
  const [ca, certificate, privateKey] = pem.map((f) => readFileSync(f));
  tls = { ca, certificate, privateKey };
  files = rest.slice(1 + pem.length);
}
const outcome = await storeInstances({
  host: '127.0.0.1',
  port: Number(port),
  callingAETitle: 'LIMEN',
  calledAETitle,
  ...(tls && { tls }),
  instances: files.map((file) => {
    const p = readPart10(file);
    return { sopClassUID: p.sopClassUID, sopInstanceUID: p.sopInstanceUID, transferSyntaxUID: p.transferSyntaxUID, bytes: p.dataSet };
  }),
});
process.stdout.write(JSON.stringify(outcome));
