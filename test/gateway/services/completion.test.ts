/**
 * The completion sweep while the database is down: it logged `completion.sweep.failed` at every
 * tick (a line a second); it logs when the sweep starts failing and when it succeeds again.
 */
import { expect } from 'chai';
import { createLogger } from '../../../gateway/log/index.js';
import { createEdgeMetrics, MetricsRegistry } from '../../../gateway/metrics/index.js';
import { CompletionService } from '../../../gateway/services/completion.js';

type Completed = Awaited<ReturnType<ConstructorParameters<typeof CompletionService>[0]['completeStableStudies']>>;

function makeService() {
  const records: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', write: (line) => records.push(JSON.parse(line) as Record<string, unknown>) });
  const storage = {
    down: true,
    async completeStableStudies(): Promise<Completed> {
      if (storage.down) throw Object.assign(new Error('the database at postgres://127.0.0.1:1/test cannot be reached: ECONNREFUSED'), { code: 'ECONNREFUSED' });
      return [];
    },
  };
  const service = new CompletionService(storage, createEdgeMetrics(new MetricsRegistry()), logger);
  const ids = () => records.map((r) => r.id);
  return { service, storage, records, ids };
}

describe('gateway/services completion sweep', () => {
  it('logs a failing sweep once when it starts failing and once when it recovers, not at every tick', async () => {
    const { service, storage, records, ids } = makeService();
    for (let tick = 0; tick < 10; tick++) expect(await service.sweep()).to.equal(0);
    expect(ids()).to.deep.equal(['completion.sweep.failed']);
    expect(records[0]).to.include({ level: 'error' });
    expect(records[0].err).to.deep.include({ code: 'ECONNREFUSED' });

    storage.down = false;
    await service.sweep();
    await service.sweep();
    expect(ids()).to.deep.equal(['completion.sweep.failed', 'completion.sweep.recovered']);
    expect(records[1]).to.include({ level: 'info', failures: 10 });
    expect(records[1].failingMs).to.be.a('number');

    // A later outage is a new change of state, logged again.
    storage.down = true;
    await service.sweep();
    await service.sweep();
    expect(ids()).to.deep.equal(['completion.sweep.failed', 'completion.sweep.recovered', 'completion.sweep.failed']);
  });

  it('logs nothing for sweeps that succeed with nothing to complete', async () => {
    const { service, storage, ids } = makeService();
    storage.down = false;
    await service.sweep();
    await service.sweep();
    expect(ids()).to.deep.equal([]);
  });
});
