/**
 * One serving process per data directory on embedded SQLite: a second `limen start` would repair
 * and sweep the first one's writes in flight as if they were a crash's leftovers.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_DIR_LOCK_FILE, lockDataDir } from '../../storage/index.js';
import { TSX_LOADER } from '../support/limen-cli.js';
import { describeEachDatabase } from './harness.js';
import { instanceInput, rejection } from './fixtures.js';

describeEachDatabase('storage: the serving process', (h) => {
  it('on SQLite one storage serves a data directory, one-shot commands share it, and close hands it on', async function () {
    const first = await h.open({ serve: true });
    if (h.dialect === 'postgres') {
      // Several processes serve over PostgreSQL: no lock.
      await h.open({ serve: true });
      return;
    }
    const err = await rejection(h.open({ serve: true }));
    expect(err.code).to.equal('data-dir-locked');
    expect(err.message).to.contain(h.dataDir);
    const oneShot = await h.open();
    await oneShot.storeInstance(instanceInput());
    await first.close();
    await (await h.open({ serve: true })).close();
  });
});

describe('storage: the data directory lock', () => {
  let dir = '';
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'limen-lock-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is held by another process until it ends, however it ends, and leaves one file behind', async () => {
    const script = join(dir, 'hold.ts');
    writeFileSync(script, `import { lockDataDir } from ${JSON.stringify(new URL('../../storage/index.ts', import.meta.url).pathname)};\nlockDataDir(${JSON.stringify(dir)});\nconsole.log('locked');\nsetInterval(() => {}, 1000);\n`);
    const holder = spawn(process.execPath, ['--import', TSX_LOADER, script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((r) => holder.once('exit', r));
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
        holder.once('exit', (code) => reject(new Error(`the holder exited (${code})`)));
      });
      expect(() => lockDataDir(dir)).to.throw(/another limen start is serving/);
    } finally {
      holder.kill('SIGKILL');
      await exited;
    }
    // The kernel released the killed holder's lock: no stale lock to clear by hand.
    lockDataDir(dir).release();
    expect(readdirSync(dir).filter((f) => f.startsWith(DATA_DIR_LOCK_FILE))).to.deep.equal([DATA_DIR_LOCK_FILE]);
  });
});
