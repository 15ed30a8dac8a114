/** Every file under a directory, for residual-PHI scans and leftover checks of a data dir. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

/** Paths of every regular file under `dir`, recursively. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else if (s.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Every regular file under `dir` with its bytes (the database, its WAL, blobs, keys...). */
export function readTree(dir: string): NamedBytes[] {
  return listTree(dir).map((name) => ({ name, bytes: readFileSync(name) }));
}
