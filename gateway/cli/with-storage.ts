/** Opening the configured storage for a one-shot command, and closing it whatever happens. */
import type { LimenConfig } from '../../config/index.js';
import { loadConfiguredMasterKey, openStorage, type Storage } from '../../storage/index.js';

export async function withStorage<T>(config: LimenConfig, fn: (storage: Storage) => Promise<T>): Promise<T> {
  const master = await loadConfiguredMasterKey(config.masterKey, (path) => process.stderr.write(`warning: generated a development master key in ${path}\n`));
  const storage = await openStorage({ dataDir: config.dataDir, databaseUrl: config.database.kind === 'postgres' ? config.database.url : undefined, masterKey: master.key });
  try {
    return await fn(storage);
  } finally {
    await storage.close();
  }
}
