/**
 * Where a model id is found: the configured models directory first (a hospital's own models, or
 * its own version of a shipped one), then the models that ship with Limen (`default`).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { safeParseManifest } from '../models/manifest.js';

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

/** A model an admin can choose: what its manifest says, or why it cannot be used. */
export type AvailableModel =
  | { id: string; source: 'configured' | 'shipped'; name: string; version: string; algorithm: string; labels: string[] }
  | { id: string; source: 'configured' | 'shipped'; error: string };

/**
 * Every model id `findModelDir` resolves, with its manifest validated (the ONNX graph is
 * checked when a job loads it). A configured model hides a shipped one of the same id.
 */
export async function listAvailableModels(configuredDir: string | undefined): Promise<AvailableModel[]> {
  const byId = new Map<string, AvailableModel>();
  for (const [dir, source] of [[shippedModelsDir(), 'shipped'], [configuredDir, 'configured']] as const) {
    if (!dir) continue;
    const ids = await readdir(dir).catch(() => [] as string[]);
    for (const id of ids) {
      if (findModelDir(id, source === 'configured' ? dir : undefined) !== join(dir, id)) continue;
      byId.set(id, await describeModel(join(dir, id), id, source));
    }
  }
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}

async function describeModel(dir: string, id: string, source: 'configured' | 'shipped'): Promise<AvailableModel> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  } catch (e) {
    return { id, source, error: `manifest.json is not readable JSON: ${(e as Error).message}` };
  }
  const r = safeParseManifest(json);
  if (!r.ok) return { id, source, error: r.issues.map((i) => `${i.path}: ${i.message}`).join('; ') };
  const m = r.manifest;
  return { id, source, name: m.name, version: m.algorithm.version, algorithm: m.algorithm.name, labels: m.labels.map((l) => l.name) };
}
