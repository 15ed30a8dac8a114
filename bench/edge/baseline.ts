/** Before/after in one run: this source tree with `storage/` as it was at another git revision. */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A copy of this source tree whose `storage/` is the one of git revision `rev`: the same gateway
 * over the storage as it was, for a before/after in one run (`--baseline-storage <rev>`).
 */
export function baselineTree(rev: string): string {
  // Outside the project: the project's tsconfig takes in everything under bench/.
  const tree = mkdtempSync(join(tmpdir(), 'limen-edge-baseline-'));
  for (const dir of ['anonymizer', 'config', 'gateway', 'pipeline', 'ohif-extension', 'models']) {
    if (existsSync(join(ROOT, dir))) cpSync(join(ROOT, dir), join(tree, dir), { recursive: true });
  }
  const archive = execFileSync('git', ['-C', ROOT, 'archive', rev, 'storage'], { maxBuffer: 1 << 28 });
  execFileSync('tar', ['-x', '-C', tree], { input: archive });
  // Packages resolve from the project's node_modules (run through tsx); a bundle keeps them external anyway.
  symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'), 'dir');
  return tree;
}

