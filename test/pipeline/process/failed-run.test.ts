/**
 * A processing run that fails after its SEG is stored (its models cannot be written: a full disk)
 * takes the SEG back: the study holds, and counts, only what was sent, and no segmentation that
 * nobody is asked to review. The real pipeline on ct-fakephi, received from DCMTK.
 */
import { expect } from 'chai';
import { createProcessWorker } from '../../../pipeline/process/process-worker.js';
import type { Storage } from '../../../storage/index.js';
import { storeDirectory } from '../../support/dcmtk.js';
import { CT_FAKEPHI_DIR, CT_FAKEPHI_FILES } from '../../support/fakephi.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { requirePeers } from '../../support/peers.js';
import { until } from '../../support/wait.js';

const SEG = '1.2.840.10008.5.1.4.1.1.66.4';

describe('pipeline/process: a run that fails after storing its SEG', function () {
  this.timeout(180_000);
  let gw: TestGateway;

  before(async function () {
    requirePeers(this, 'dcmtk');
    // The gateway's own worker stays off: the run below is the only one.
    gw = await startTestGateway('routes:\n  default:\n    stableSeconds: 1\nworker:\n  enabled: false\n');
  });
  after(() => gw?.dispose());

  it('removes the SEG it stored, and the study counts what was sent', async () => {
    await storeDirectory(gw.dimse.port, CT_FAKEPHI_DIR);
    const study = await until(async () => (await gw.storage.listStudies({ limit: 10 })).studies.find((s) => s.status === 'complete')?.studyInstanceUID, 30_000, 'the study complete', 200);
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const results: Storage['results'] = Object.assign(Object.create(gw.storage.results), { put: async () => Promise.reject(full) });
    const storage: Storage = { ...gw.storage, results };
    const worker = createProcessWorker({ storage, config: { routes: {}, models: { dir: '/nonexistent' } } as never, workerId: 'full-disk' });
    expect(await worker.drain()).to.equal(1);

    const [job] = await gw.storage.jobs.list({ type: 'process', studyInstanceUID: study });
    expect(job.lastError).to.match(/ENOSPC/);
    const instances = await gw.storage.listInstances(study);
    expect(instances.filter((i) => i.sopClassUID === SEG)).to.deep.equal([]);
    const summary = (await gw.storage.getStudy(study))!;
    expect([summary.instanceCount, summary.seriesCount]).to.deep.equal([CT_FAKEPHI_FILES.length, 1]);
  });
});
