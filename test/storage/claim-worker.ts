/**
 * A separate process for the multi-process tests: opens the storage named by argv and
 * claims `process` jobs until none is left, then prints the ids it got as JSON.
 * Usage: node --import tsx claim-worker.ts <dataDir> <databaseUrl|-> <masterKeyHex> <workerId>
 */
import { openStorage } from '../../storage/index.js';

const [dataDir, url, keyHex, workerId] = process.argv.slice(2);
const storage = await openStorage({ dataDir, databaseUrl: url === '-' ? undefined : url, masterKey: Buffer.from(keyHex, 'hex') });
const ids: number[] = [];
for (;;) {
  const job = await storage.jobs.claim('process', workerId, 60);
  if (!job) break;
  ids.push(job.id);
  await storage.jobs.complete(job.id, workerId);
}
await storage.audit.append({ type: 'worker.done', actor: workerId, detail: { claimed: ids.length } });
await storage.close();
process.stdout.write(JSON.stringify(ids));
