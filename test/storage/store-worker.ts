/**
 * A separate process for the crash tests: stores instances of one study as fast as it can and
 * prints each SOP Instance UID once `storeInstance` resolved (what a sender would be acked
 * for), until killed. Bytes derive from the UID so the test can check them. With a concurrency
 * above 1 that many stores run at once (sharing group commits); with `audit` each store appends
 * its `instance.stored` event in its own transaction.
 * Usage: node --import tsx store-worker.ts <dataDir> <databaseUrl|-> <masterKeyHex> <studyUID> <seriesUID> [concurrency] [audit]
 */
import { openStorage } from '../../storage/index.js';
import { instanceInput, uid } from './fixtures.js';

/** The bytes the worker stores for `sopInstanceUID`. */
export function bytesFor(sopInstanceUID: string): Buffer {
  return Buffer.from(`DICM ${sopInstanceUID} `.repeat(4000));
}

if (process.argv[1]?.endsWith('store-worker.ts')) {
  const [dataDir, url, keyHex, studyInstanceUID, seriesInstanceUID, concurrency = '1', audit = ''] = process.argv.slice(2);
  const storage = await openStorage({ dataDir, databaseUrl: url === '-' ? undefined : url, masterKey: Buffer.from(keyHex, 'hex') });
  const loop = async (): Promise<never> => {
    for (;;) {
      const sopInstanceUID = uid();
      await storage.storeInstance({
        ...instanceInput({ studyInstanceUID, seriesInstanceUID, sopInstanceUID, bytes: bytesFor(sopInstanceUID) }),
        audit: audit === 'audit' ? (r) => ({ type: 'instance.stored', actor: 'WORKER', studyInstanceUID, detail: { sopInstanceUID: r.sopInstanceUID, duplicate: r.duplicate } }) : undefined,
      });
      process.stdout.write(`${sopInstanceUID}\n`);
    }
  };
  await Promise.all(Array.from({ length: Number(concurrency) }, loop));
}
