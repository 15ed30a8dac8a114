/**
 * A stop while a study is being processed: the stop says which job it waits for, and past the
 * deadline it cuts the pipeline off and hands the job back, so the next start runs it at once
 * instead of after the 120 s lease.
 */
import { expect } from 'chai';
import { storeDirectory } from '../support/dcmtk.js';
import { CT_FAKEPHI_DIR } from '../support/fakephi.js';
import { requirePeers } from '../support/peers.js';
import { until } from '../support/wait.js';
import { startStopGateway, type StopGateway } from './stop-harness.js';

describe('gateway stop while a study is processed', function () {
  this.timeout(90_000);
  let g: StopGateway | undefined;
  let again: StopGateway | undefined;

  before(function () {
    requirePeers(this, 'dcmtk');
  });
  after(async () => {
    await g?.gw.stop();
    await again?.dispose();
  });

  it('logs the job it waits for, then past the deadline releases it: queued and due now, not waiting out its lease', async () => {
    const yaml = 'routes:\n  default:\n    stableSeconds: 1\nworker:\n  pollIntervalMs: 50\n';
    g = await startStopGateway(yaml, { stopDeadlineMs: 300 });
    await storeDirectory(g.gw.dimse.port, CT_FAKEPHI_DIR);
    const storage = g.gw.storage;
    // Under way in its worker thread: the thread reports its stage.
    const job = await until(async () => (await storage.jobs.list({ type: 'process', status: 'running' })).find((j) => j.stage !== null), 60_000, 'the pipeline under way', 50);

    const t0 = Date.now();
    const outcome = await g.gw.stop();
    expect(Date.now() - t0, 'not the whole pipeline run').to.be.below(3_000);
    expect(outcome).to.deep.include({ ok: true, cutOff: true });
    expect(g.records().find((r) => r.id === 'gateway.stop.job-waiting')).to.include({ level: 'info', job: job.id, type: 'process' });
    expect(g.records().find((r) => r.id === 'gateway.stop.job-released')).to.include({ level: 'warn', job: job.id });

    // The next start on the same data dir finds it due at once; the worker off, to look at it.
    again = await startStopGateway(yaml.replace('pollIntervalMs: 50', 'enabled: false'), {}, g.dataDir);
    const released = (await again.gw.storage.jobs.get(job.id))!;
    expect(released).to.include({ status: 'queued', workerId: null, leaseExpiresAt: null, attempts: 0 });
    expect(released.runAt.getTime()).to.be.at.most(Date.now());
  });
});
