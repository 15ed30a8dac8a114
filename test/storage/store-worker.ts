/**
 * A separate process for the crash test: stores instances of one study as fast as it can and
 * prints each SOP Instance UID once `storeInstance` resolved (what a sender would be acked
 * for), until killed. Bytes derive from the UID so the test can check them.
 * Usage: node --import tsx store-worker.ts <dataDir> <databaseUrl|-> <masterKeyHex> <studyUID> <seriesUID>
 */
import { openStorage } from '../../storage/index.js';
import { instanceInput, uid } from './fixtures.js';

/** The bytes the worker stores for `sopInstanceUID`. */
export function bytesFor(sopInstanceUID: string): Buffer {
  return Buffer.from(`DICM ${sopInstanceUID} `.repeat(4000));
}

if (process.argv[1]?.endsWith('store-worker.ts')) {
  const [dataDir, url, keyHex, studyInstanceUID, seriesInstanceUID] = process.argv.slice(2);
  const storage = await openStorage({ dataDir, databaseUrl: url === '-' ? undefined : url, masterKey: Buffer.from(keyHex, 'hex') });
  for (;;) {
    const sopInstanceUID = uid();
    await storage.storeInstance(instanceInput({ studyInstanceUID, seriesInstanceUID, sopInstanceUID, bytes: bytesFor(sopInstanceUID) }));
    process.stdout.write(`${sopInstanceUID}\n`);
  }
}
