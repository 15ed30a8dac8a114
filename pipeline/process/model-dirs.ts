/**
 * Where a model id is found: the configured models directory first (a hospital's own models, or
 * its own version of a shipped one), then the models that ship with Limen (`default`).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `models/` directory next to Limen's package.json. */
export function shippedModelsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'models');
}

/** The directory holding model `id`, or undefined when no search directory has it. */
export function findModelDir(id: string, configuredDir: string | undefined): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) return undefined;
  for (const dir of [configuredDir, shippedModelsDir()]) {
    if (dir && existsSync(join(dir, id, 'manifest.json'))) return join(dir, id);
  }
  return undefined;
}
