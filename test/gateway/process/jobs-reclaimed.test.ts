/**
 * On SQLite the serving process holds the data dir alone: a job still running when it starts is
 * one the previous process died working on, taken up at once rather than after its lease.
 */
import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

describe('gateway: jobs the previous process did not finish', () => {
  let first: TestGateway | undefined;
  let second: TestGateway | undefined;
  after(async () => {
    await second?.stop();
    await first?.stop();
    if (first) rmSync(first.dataDir, { recursive: true, force: true });
  });

  it('are taken up at the next start (SQLite), their leases ended, and said so', async () => {
    const yaml = 'worker:\n  enabled: false\n';
    first = await startTestGateway(yaml);
    const job = await first.storage.jobs.enqueue('orphan-test', null, {});
    // A worker that claimed it for an hour and died with the process.
    expect((await first.storage.jobs.claim('orphan-test', 'lost-worker', 3600))?.id).to.equal(job.id);
    await first.stop();

    const before = Date.now();
    second = await startTestGateway(yaml, {}, { dataDir: first.dataDir });
    const reclaimed = await second.storage.jobs.get(job.id);
    expect(reclaimed?.status).to.equal('running');
    expect(reclaimed!.leaseExpiresAt!.getTime(), 'the lease ended at the start, not in an hour').to.be.at.most(Date.now()).and.at.least(before);
    const logged = second.logs.map((l) => JSON.parse(l) as { id: string; count?: number }).find((l) => l.id === 'gateway.jobs.reclaimed');
    expect(logged?.count).to.equal(1);
    // The next claim takes it, as it would once the lease ran out.
    expect((await second.storage.jobs.claim('orphan-test', 'next-worker', 60))?.attempts).to.equal(2);
  });
});
