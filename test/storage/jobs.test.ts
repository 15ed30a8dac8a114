import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describeEachDatabase } from './harness.js';
import { instanceInput, manualClock, rejection } from './fixtures.js';

const WORKER = fileURLToPath(new URL('./claim-worker.ts', import.meta.url));

describeEachDatabase('storage: job queue', (h) => {
  it('claims the oldest due job, leases it, records progress and completion', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const first = await s.jobs.enqueue('process', '1.2.3', { n: 1 });
    clock.advance(1);
    await s.jobs.enqueue('process', '1.2.4', { n: 2 });
    await s.jobs.enqueue('export', null, {});
    await s.jobs.enqueue('process', null, {}, { runAt: new Date(clock.now().getTime() + 3600_000) });

    const job = await s.jobs.claim('process', 'w1', 30);
    expect(job).to.include({ id: first.id, status: 'running', workerId: 'w1', attempts: 1 });
    expect(job!.payload).to.deep.equal({ n: 1 });
    expect(job!.leaseExpiresAt!.getTime()).to.equal(clock.now().getTime() + 30_000);

    expect(await s.jobs.progress(job!.id, 'w1', { stage: 'segment', percent: 40 })).to.equal(true);
    expect(await s.jobs.progress(job!.id, 'intruder', { stage: 'x' })).to.equal(false);
    expect(await s.jobs.get(job!.id)).to.include({ stage: 'segment', percent: 40 });
    expect(await s.jobs.complete(job!.id, 'w1', { seg: 'ok' })).to.equal(true);
    const done = await s.jobs.get(job!.id);
    expect(done).to.include({ status: 'done', percent: 100 });
    expect(done!.result).to.deep.equal({ seg: 'ok' });

    expect((await s.jobs.claim('process', 'w1', 30))!.payload).to.deep.equal({ n: 2 });
    // The future job is not due; the export job is another type.
    expect(await s.jobs.claim('process', 'w1', 30)).to.equal(null);
  });

  it('an expired lease makes the job claimable again; the old worker learns it lost it', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const { id } = await s.jobs.enqueue('process', null, {});
    await s.jobs.claim('process', 'crashed', 30);
    clock.advance(20);
    expect(await s.jobs.claim('process', 'other', 30)).to.equal(null);
    // The heartbeat moves the lease to 50 s from the claim.
    expect(await s.jobs.heartbeat(id, 'crashed', 30)).to.equal(true);
    clock.advance(25);
    expect(await s.jobs.claim('process', 'other', 30)).to.equal(null);
    clock.advance(6);
    const again = await s.jobs.claim('process', 'other', 30);
    expect(again).to.include({ id, workerId: 'other', attempts: 2 });
    expect(await s.jobs.heartbeat(id, 'crashed', 30)).to.equal(false);
    expect(await s.jobs.complete(id, 'crashed')).to.equal(false);
    expect(await s.jobs.complete(id, 'other')).to.equal(true);
  });

  it('records what a job did with its completion, and nothing for a worker that lost the job', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const { id } = await s.jobs.enqueue('export', null, {});
    await s.jobs.claim('export', 'crashed', 30);
    clock.advance(31);
    await s.jobs.claim('export', 'other', 30);
    const event = (worker: string) => ({ type: 'exported', actor: worker, detail: { destination: 'pacs' } });
    expect(await s.jobs.complete(id, 'crashed', undefined, event('crashed'))).to.equal(false);
    expect(await s.jobs.complete(id, 'other', { sent: 1 }, event('other'))).to.equal(true);
    expect((await s.jobs.get(id))!.status).to.equal('done');
    expect((await s.audit.list({ type: 'exported' })).map((e) => e.actor)).to.deep.equal(['other']);
    expect((await s.audit.verify()).ok).to.equal(true);
  });

  it('retries a failure with exponential backoff, then keeps it dead with its error', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now, jobs: { backoffBaseSeconds: 10, backoffMaxSeconds: 15 } });
    const { id } = await s.jobs.enqueue('process', null, {}, { maxAttempts: 3 });

    await s.jobs.claim('process', 'w', 30);
    const r1 = await s.jobs.fail(id, 'w', 'model crashed');
    expect(r1).to.deep.include({ status: 'queued', attempts: 1 });
    expect((r1 as { nextRunAt: Date }).nextRunAt.getTime()).to.equal(clock.now().getTime() + 10_000);
    expect(await s.jobs.claim('process', 'w', 30)).to.equal(null);
    clock.advance(10);
    expect((await s.jobs.claim('process', 'w', 30))!.attempts).to.equal(2);
    const r2 = await s.jobs.fail(id, 'w', 'model crashed again');
    expect((r2 as { nextRunAt: Date }).nextRunAt.getTime()).to.equal(clock.now().getTime() + 15_000);
    clock.advance(15);
    await s.jobs.claim('process', 'w', 30);
    expect(await s.jobs.fail(id, 'w', 'third time')).to.deep.equal({ status: 'dead', attempts: 3 });
    const dead = await s.jobs.get(id);
    expect(dead).to.include({ status: 'dead', lastError: 'third time' });
    expect(dead!.finishedAt).to.not.equal(null);
    clock.advance(3600);
    expect(await s.jobs.claim('process', 'w', 30)).to.equal(null);
    expect(await s.jobs.fail(id, 'w', 'x')).to.deep.equal({ status: 'not-owner' });
  });

  it('retrying a dead job records its request with it, and nothing for a job that is not dead', async () => {
    const s = await h.open();
    const { id } = await s.jobs.enqueue('export', null, {}, { maxAttempts: 1 });
    const audit = { type: 'export.retry-requested', actor: 'admin', detail: { jobId: id } };
    expect(await s.jobs.retry(id, audit)).to.equal(false);
    await s.jobs.claim('export', 'w', 30);
    await s.jobs.fail(id, 'w', 'PACS refused');
    expect(await s.jobs.retry(id, audit)).to.equal(true);
    // A new round of one attempt; the count goes on, so the next attempt is the second.
    expect(await s.jobs.get(id)).to.include({ status: 'queued', attempts: 1, maxAttempts: 2 });
    expect((await s.audit.list({ type: 'export.retry-requested' })).map((e) => e.detail)).to.deep.equal([{ jobId: id }]);
    expect(await s.audit.verify()).to.include({ ok: true });
    // Done at last: the earlier attempt's error no longer shows on the job.
    expect(await s.jobs.claim('export', 'w', 30)).to.include({ id, attempts: 2 });
    expect(await s.jobs.complete(id, 'w', { ok: true })).to.equal(true);
    expect(await s.jobs.get(id)).to.include({ status: 'done', lastError: null });
  });

  it('a non-retryable failure is dead at once', async () => {
    const s = await h.open();
    const { id } = await s.jobs.enqueue('process', null, {}, { maxAttempts: 5 });
    await s.jobs.claim('process', 'w', 30);
    expect(await s.jobs.fail(id, 'w', 'no CT series in study', { retryable: false })).to.deep.equal({ status: 'dead', attempts: 1 });
  });

  it('a job whose worker keeps dying goes dead after its last lease instead of looping', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const { id } = await s.jobs.enqueue('process', null, {}, { maxAttempts: 2 });
    await s.jobs.claim('process', 'w1', 10);
    clock.advance(11);
    await s.jobs.claim('process', 'w2', 10);
    clock.advance(11);
    const buried: number[] = [];
    expect(await s.jobs.claim('process', 'w3', 10, { onDead: (job) => buried.push(job.id) })).to.equal(null);
    const dead = await s.jobs.get(id);
    expect(dead!.status).to.equal('dead');
    expect(dead!.lastError).to.match(/lease expired/);
    // Told to the claimer, whose failure handling no worker ran: its own worker was lost.
    expect(buried).to.deep.equal([id]);
  });

  it('a claim that buries a job hands out the next one even when the failure handler throws', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const lost = await s.jobs.enqueue('process', null, {}, { maxAttempts: 1 });
    await s.jobs.claim('process', 'w1', 10);
    const next = await s.jobs.enqueue('process', null, {});
    clock.advance(11);
    const claimed = await s.jobs.claim('process', 'w2', 10, {
      onDead: () => {
        throw new Error('the handler failed');
      },
    });
    expect(claimed?.id, 'not stranded running behind the handler that threw').to.equal(next.id);
    expect((await s.jobs.get(lost.id))!.status).to.equal('dead');
  });

  it('a released job (its worker stopped) is claimable at once, its lease not waited out and its attempt given back', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const { id } = await s.jobs.enqueue('process', null, {}, { maxAttempts: 2 });
    await s.jobs.claim('process', 'stopping', 120);
    expect(await s.jobs.release(id, 'intruder'), 'only the holder releases').to.equal(false);
    expect(await s.jobs.release(id, 'stopping')).to.equal(true);
    expect(await s.jobs.get(id)).to.include({ status: 'queued', attempts: 0, workerId: null, leaseExpiresAt: null });
    // No time passes: without the release this claim would wait 120 s for the lease.
    expect(await s.jobs.claim('process', 'next-start', 120)).to.include({ id, workerId: 'next-start', attempts: 1 });
    expect(await s.jobs.release(id, 'stopping'), 'no longer its job').to.equal(false);
    expect(await s.jobs.complete(id, 'stopping')).to.equal(false);
  });

  it('concurrent claims never hand out the same job', async function () {
    // Several pools on PostgreSQL; on SQLite one process has one connection (see the multi-process test).
    const storages = h.dialect === 'postgres' ? await Promise.all([h.open(), h.open(), h.open()]) : [await h.open()];
    for (let i = 0; i < 20; i++) await storages[0].jobs.enqueue('process', null, { i });
    const claims = await Promise.all(Array.from({ length: 30 }, (_, n) => storages[n % storages.length].jobs.claim('process', `w${n}`, 60)));
    const ids = claims.filter((j) => j !== null).map((j) => j!.id);
    expect(ids).to.have.length(20);
    expect(new Set(ids).size).to.equal(20);
  });

  it('the last job of a set to complete moves its study, also when they complete at once', async function () {
    this.timeout(30_000);
    // Two pools on PostgreSQL, so the two completions run as concurrent transactions.
    const [a, b] = h.dialect === 'postgres' ? await Promise.all([h.open(), h.open()]) : [await h.open(), undefined];
    const other = b ?? a;
    const settles = { from: 'approved', to: 'delivered' } as const;
    const approvedStudyWithExports = async (): Promise<{ study: string; ids: number[] }> => {
      const input = instanceInput();
      await a.storeInstance(input);
      await a.setStudyStatus(input.studyInstanceUID, 'approved');
      const ids: number[] = [];
      for (const destination of ['pacs', 'archive']) ids.push((await a.jobs.enqueue('export', input.studyInstanceUID, { destination })).id);
      expect((await a.jobs.claim('export', 'w1', 60))!.id).to.equal(ids[0]);
      expect((await other.jobs.claim('export', 'w2', 60))!.id).to.equal(ids[1]);
      return { study: input.studyInstanceUID, ids };
    };

    // One after the other: the first leaves the study approved, the second delivers it.
    const one = await approvedStudyWithExports();
    expect(await a.jobs.complete(one.ids[0], 'w1', {}, undefined, settles)).to.equal(true);
    expect((await a.getStudy(one.study))!.status).to.equal('approved');
    expect(await other.jobs.complete(one.ids[1], 'w2', {}, { type: 'exported', actor: 'exporter', studyInstanceUID: one.study }, settles)).to.equal(true);
    expect((await a.getStudy(one.study))!.status).to.equal('delivered');

    // At once, many times over: each study ends delivered, never stuck at approved.
    for (let round = 0; round < 10; round++) {
      const { study, ids } = await approvedStudyWithExports();
      const done = await Promise.all([a.jobs.complete(ids[0], 'w1', {}, undefined, settles), other.jobs.complete(ids[1], 'w2', {}, undefined, settles)]);
      expect(done).to.deep.equal([true, true]);
      expect((await a.getStudy(study))!.status, `round ${round}`).to.equal('delivered');
    }

    // A destination that failed for good keeps the study approved: it was not delivered everywhere.
    const dead = await approvedStudyWithExports();
    await a.jobs.fail(dead.ids[0], 'w1', 'rejected', { retryable: false });
    expect(await other.jobs.complete(dead.ids[1], 'w2', {}, undefined, settles)).to.equal(true);
    expect((await a.getStudy(dead.study))!.status).to.equal('approved');
    expect(await a.audit.verify()).to.include({ ok: true });
  });

  it('worker processes sharing the database never claim the same job', async function () {
    this.timeout(60_000);
    const s = await h.open();
    for (let i = 0; i < 60; i++) await s.jobs.enqueue('process', null, { i });
    const keyHex = Buffer.from(h.masterKey).toString('hex');
    const outputs = await Promise.all(
      ['p1', 'p2', 'p3'].map(
        (w) =>
          new Promise<number[]>((resolve, reject) => {
            execFile(process.execPath, ['--import', 'tsx', WORKER, h.dataDir, h.databaseUrl ?? '-', keyHex, w], { timeout: 50_000 }, (err, stdout, stderr) => {
              if (err) reject(new Error(`${w}: ${err.message}\n${stderr}`));
              else resolve(JSON.parse(stdout) as number[]);
            });
          }),
      ),
    );
    const all = outputs.flat();
    expect(all).to.have.length(60);
    expect(new Set(all).size).to.equal(60);
    expect((await s.jobs.list({ status: 'done', limit: 1000 })).length).to.equal(60);
    // Their audit appends, interleaved across processes, still form one chain.
    expect(await s.audit.verify()).to.deep.include({ ok: true, count: 3 });
  });

  it('refuses a job type or lease that makes no sense', async () => {
    const s = await h.open();
    expect((await rejection(s.jobs.enqueue('', null, {}))).code).to.equal('invalid-input');
    expect((await rejection(s.jobs.enqueue('x', null, {}, { maxAttempts: 0 }))).code).to.equal('invalid-input');
    expect((await rejection(s.jobs.claim('x', 'w', 0))).code).to.equal('invalid-input');
  });
});
