import { expect } from 'chai';
import { SyncGroup } from '../../storage/sync-group.js';

/** A flush whose completion the test controls, recording when each one started. */
function controlledFlush() {
  const pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  let started = 0;
  return {
    flush: () =>
      new Promise<void>((resolve, reject) => {
        started += 1;
        pending.push({ resolve, reject });
      }),
    get started() {
      return started;
    },
    finishNext(error?: Error) {
      const p = pending.shift();
      if (!p) throw new Error('no flush is running');
      if (error) p.reject(error);
      else p.resolve();
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('storage: SyncGroup (group commit of a flush)', () => {
  it('starts a flush at once when none is running', async () => {
    const f = controlledFlush();
    const g = new SyncGroup(f.flush);
    let done = false;
    const p = g.sync().then(() => (done = true));
    expect(f.started).to.equal(1);
    await tick();
    expect(done).to.equal(false);
    f.finishNext();
    await p;
    expect(g.idle).to.equal(true);
  });

  it('never counts a flush that started before the request: callers during a flush wait for the next one', async () => {
    const f = controlledFlush();
    const g = new SyncGroup(f.flush);
    const first = g.sync();
    let laterDone = 0;
    const later = [g.sync(), g.sync(), g.sync()].map((p) => p.then(() => (laterDone += 1)));
    expect(f.started).to.equal(1);
    f.finishNext();
    await first;
    await tick();
    // The running flush may have started before their writes: not enough for them.
    expect(laterDone).to.equal(0);
    expect(f.started).to.equal(2);
    f.finishNext();
    await Promise.all(later);
    expect(laterDone).to.equal(3);
    expect(f.started, 'three waiting callers shared one flush').to.equal(2);
  });

  it('many concurrent callers cost at most two flushes', async () => {
    let flushes = 0;
    const g = new SyncGroup(async () => {
      flushes += 1;
      await new Promise((r) => setTimeout(r, 5));
    });
    await Promise.all(Array.from({ length: 50 }, () => g.sync()));
    expect(flushes).to.be.within(1, 2);
  });

  it('a failed flush fails its callers; a later one is attempted again unless sticky', async () => {
    const f = controlledFlush();
    const g = new SyncGroup(f.flush);
    const p = g.sync();
    f.finishNext(new Error('EIO'));
    await p.then(
      () => expect.fail('resolved'),
      (e: Error) => expect(e.message).to.equal('EIO'),
    );
    const q = g.sync();
    expect(f.started).to.equal(2);
    f.finishNext();
    await q;
  });

  it('sticky: after one failed flush every later request fails without flushing', async () => {
    const f = controlledFlush();
    const g = new SyncGroup(f.flush, { sticky: true });
    const first = g.sync();
    const waiting = g.sync();
    f.finishNext(new Error('EIO'));
    for (const p of [first, waiting, g.sync()]) {
      await p.then(
        () => expect.fail('resolved after a failed flush'),
        (e: Error) => expect(e.message).to.equal('EIO'),
      );
    }
    expect(f.started).to.equal(1);
  });
});
