/**
 * An instance that arrives while its study is being processed: the result, made without it, is
 * not put up for review (a radiologist would approve a segmentation of part of the series). The
 * study completes again and is processed whole. DCMTK sends ct-fakephi, its last slice late;
 * the real pipeline runs.
 */
import { expect } from 'chai';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CT_FAKEPHI_DIR } from '../../support/fakephi.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { requirePeers } from '../../support/peers.js';
import { until } from '../../support/wait.js';
import { storeDirectory } from '../../support/dcmtk.js';

const SEG = '1.2.840.10008.5.1.4.1.1.66.4';

describe('edge: an instance that arrives while its study is processed (real pipeline, DCMTK)', function () {
  this.timeout(300_000);
  let gw: TestGateway | undefined;
  let work = '';

  before(function () {
    requirePeers(this, 'dcmtk');
  });
  after(async () => {
    await gw?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('sets the partial result aside, completes the study again and puts up the result of every slice', async () => {
    work = mkdtempSync(join(tmpdir(), 'limen-late-'));
    const files = readdirSync(CT_FAKEPHI_DIR).sort();
    const [early, late] = [join(work, 'early'), join(work, 'late')];
    mkdirSync(early);
    mkdirSync(late);
    for (const f of files.slice(0, -1)) copyFileSync(join(CT_FAKEPHI_DIR, f), join(early, f));
    copyFileSync(join(CT_FAKEPHI_DIR, files.at(-1)!), join(late, files.at(-1)!));

    gw = await startTestGateway('routes:\n  default:\n    stableSeconds: 1\n');
    const storage = gw.storage;
    await storeDirectory(gw.dimse.port, early);
    const study = await until(async () => (await storage.listStudies()).studies.find((s) => s.status === 'processing')?.studyInstanceUID, 60_000, 'processing', 20);
    await storeDirectory(gw.dimse.port, late);
    // Processing the series takes seconds; the slice is stored in a fraction of one.
    expect((await storage.getStudy(study))!.status, 'the late slice arrived while the study was processed').to.equal('processing');

    const review = await until(async () => (await storage.reviews.list(['pending']))[0], 180_000, 'a review', 250);
    const events = (await storage.audit.list({ limit: 10_000 })).filter((e) => e.studyInstanceUID === study);
    const superseded = events.filter((e) => e.type === 'processing.superseded');
    expect(superseded.map((e) => e.detail)).to.deep.equal([{ processedInstances: files.length - 1, instancesNow: files.length, reason: superseded[0]?.detail.reason }]);
    expect(events.filter((e) => e.type === 'processing.completed')).to.have.length(1);
    // One SEG, the second run's, made of every slice.
    const segs = (await storage.listInstances(study)).filter((i) => i.sopClassUID === SEG);
    expect(segs.map((s) => s.sopInstanceUID)).to.deep.equal([review.segSOPInstanceUID]);
    const report = JSON.parse((await storage.results.get(study, 'report.json'))!.bytes.toString('utf8')) as { series: { slices: number } };
    expect(report.series.slices).to.equal(files.length);
    expect((await storage.getStudy(study))!).to.deep.include({ status: 'awaiting_review', instanceCount: files.length + 1 });
  });
});
