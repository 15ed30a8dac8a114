/**
 * The gateway's log of failed processing: a failure that will be retried is a warning, a job
 * that ran out of attempts (dead) an error, never both at info where nobody alerts on them.
 */
import { expect } from 'chai';
import { until } from '../support/wait.js';
import { startStopGateway, type StopGateway } from './stop-harness.js';

describe('gateway pipeline log levels', function () {
  this.timeout(20_000);
  let g: StopGateway;

  before(async () => {
    g = await startStopGateway('worker:\n  pollIntervalMs: 50\n');
  });
  after(async () => g?.dispose());

  it('logs a processing failure to be retried at warn and a dead job at error', async () => {
    // A database hiccup while processing: not the study's fault, so retried while attempts last.
    g.gw.storage.getStudy = async () => {
      throw new Error('database hiccup');
    };
    const retried = await g.gw.storage.jobs.enqueue('process', '2.25.101', null, { maxAttempts: 2 });
    const dead = await g.gw.storage.jobs.enqueue('process', '2.25.102', null, { maxAttempts: 1 });
    const failures = await until(() => {
      const found = g.records().filter((r) => r.id === 'process.failed');
      return found.length >= 2 ? found : undefined;
    }, 10_000, 'both failures logged');
    const of = (study: string) => failures.find((r) => r.study === study);
    expect(of('2.25.101')).to.include({ level: 'warn', outcome: 'queued', service: 'pipeline' });
    expect(of('2.25.102')).to.include({ level: 'error', outcome: 'dead', service: 'pipeline' });
    expect((await g.gw.storage.jobs.get(retried.id))!.status).to.equal('queued');
    expect((await g.gw.storage.jobs.get(dead.id))!.status).to.equal('dead');
  });
});
