/**
 * Validating audit messages with jing (an independent RELAX NG validator) against the PS3.15 A.5.1
 * schema in test/fixtures/dicom-audit. The schema's text writes `##` (RELAX NG documentation
 * comments) after the last value of a choice, where the compact syntax allows none, so jing reads
 * it with each `##` made a plain `#`: only comments change, no pattern (PROVENANCE.txt).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PEERS } from '../../support/peers.js';

export const AUDIT_SCHEMA = fileURLToPath(new URL('../../fixtures/dicom-audit/audit-message.rnc', import.meta.url));
const JING = PEERS.jing;

let readable: string | undefined;
function schemaForJing(): string {
  if (!readable) {
    readable = join(mkdtempSync(join(tmpdir(), 'limen-rnc-')), 'audit-message.rnc');
    writeFileSync(readable, readFileSync(AUDIT_SCHEMA, 'utf8').replaceAll('##', '#'));
  }
  return readable;
}

/** jing's errors for these files (one per line, naming the file), empty when all are valid. */
export function jing(files: readonly string[]): Promise<{ code: number; errors: string[] }> {
  return new Promise((resolve) => {
    execFile(JING, ['-c', schemaForJing(), ...files], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      // Debian's wrapper warns on stderr of optional jars it cannot find: not about the files.
      const errors = `${stdout}\n${stderr}`.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('[warning]'));
      resolve({ code, errors });
    });
  });
}
