/**
 * The disk's flush floor: what the durable edge cannot go below on this machine, whatever the
 * code does. Times, on the filesystem of the data dir (medians over many repetitions):
 *   - blob     create a file, write one instance's worth of bytes, fdatasync (the blob flush)
 *   - blob+dir the same, then fsync its directory (a new name must be durable too)
 *   - wal      append 8 KiB to a growing file and fdatasync it (one SQLite WAL commit)
 *   - nothing  the blob write without any flush (page cache only, what storescp does)
 * One association sends one instance at a time and waits for the answer, so a durable receiver
 * pays at least blob+dir and one wal flush in a row per instance, two wal flushes when the audit
 * event commits apart from the instance.
 *
 *   node --import tsx bench/edge/flush-floor.ts [--bytes 533000] [--repeat 200] [--dir bench/out]
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from '../measure.js';

export interface FlushFloor {
  bytes: number;
  repeat: number;
  /** Median milliseconds per operation. */
  blob: number;
  blobAndDir: number;
  wal: number;
  nothing: number;
}

/** Measures the floor in a scratch directory under `parent` (removed afterwards). */
export function measureFlushFloor(parent: string, bytes: number, repeat: number): FlushFloor {
  const dir = mkdtempSync(join(parent, 'flush-floor-'));
  const data = randomBytes(bytes);
  const frame = randomBytes(8192);
  const times: Record<'blob' | 'blobAndDir' | 'wal' | 'nothing', number[]> = { blob: [], blobAndDir: [], wal: [], nothing: [] };
  const wal = openSync(join(dir, 'wal'), 'w');
  try {
    for (let i = 0; i < repeat; i++) {
      // Interleaved, so a slow moment of the disk hits every kind alike.
      for (const kind of ['nothing', 'blob', 'blobAndDir', 'wal'] as const) {
        const started = performance.now();
        if (kind === 'wal') {
          writeSync(wal, frame);
          fdatasyncSync(wal);
        } else {
          const fd = openSync(join(dir, `${kind}-${i}`), 'wx', 0o600);
          writeSync(fd, data);
          if (kind !== 'nothing') fdatasyncSync(fd);
          closeSync(fd);
          if (kind === 'blobAndDir') {
            const d = openSync(dir, 'r');
            fsyncSync(d);
            closeSync(d);
          }
        }
        times[kind].push(performance.now() - started);
      }
    }
  } finally {
    closeSync(wal);
    rmSync(dir, { recursive: true, force: true });
  }
  return { bytes, repeat, blob: median(times.blob), blobAndDir: median(times.blobAndDir), wal: median(times.wal), nothing: median(times.nothing) };
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      bytes: { type: 'string', default: '533000' },
      repeat: { type: 'string', default: '200' },
      dir: { type: 'string', default: fileURLToPath(new URL('../out/', import.meta.url)) },
    },
  });
  const f = measureFlushFloor(resolve(values.dir), Number(values.bytes), Number(values.repeat));
  const ms = (v: number): string => `${v.toFixed(2)} ms`;
  process.stdout.write(
    `medians of ${f.repeat}, ${f.bytes} bytes per blob:\n` +
      `  write, no flush         ${ms(f.nothing)}\n` +
      `  blob: write + fdatasync ${ms(f.blob)}\n` +
      `  blob + directory fsync  ${ms(f.blobAndDir)}\n` +
      `  WAL append + fdatasync  ${ms(f.wal)}\n` +
      `one association, durable: at least ${ms(f.blobAndDir + f.wal)} per instance in flushes alone ` +
      `(${(1000 / (f.blobAndDir + f.wal)).toFixed(0)}/s); with the audit event in a transaction of its own ` +
      `${ms(f.blobAndDir + 2 * f.wal)} (${(1000 / (f.blobAndDir + 2 * f.wal)).toFixed(0)}/s)\n`,
  );
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
