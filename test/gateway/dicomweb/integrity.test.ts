/**
 * What WADO-RS does when a stored instance cannot be read: a tampered blob is never served
 * (500 with a JSON error, or a cut stream once parts went out), an erased study is gone (410).
 */
import { expect } from 'chai';
import { CT_FAKEPHI_FILES } from '../../support/fakephi.js';
import { makeReadHarness, type ReadHarness } from './read-harness.js';

describe('gateway/dicomweb WADO-RS integrity (real storage)', function () {
  this.timeout(60_000);
  let h: ReadHarness;
  let study: string;
  let series: string;
  /** In the order the study is retrieved in. */
  let sops: string[];

  const instancePath = (sop: string) => `/dicomweb/studies/${study}/series/${series}/instances/${sop}`;

  beforeEach(async () => {
    h = await makeReadHarness();
    ({ study, series, sops } = await h.seedSeries(CT_FAKEPHI_FILES.slice(0, 2)));
  });
  afterEach(async () => {
    await h?.dispose();
  });

  const tamper = (sop: string) => h.tamper(study, sop);

  it('answers 500 with a JSON error, and logs it, rather than serve a tampered instance', async () => {
    const bad = sops[0];
    await tamper(bad);
    for (const path of [instancePath(bad), `${instancePath(bad)}/metadata`, `${instancePath(bad)}/frames/1`, `${instancePath(bad)}/bulk/7FE00010`, `/dicomweb/studies/${study}/metadata`]) {
      const r = await h.get(path);
      expect(r.status, path).to.equal(500);
      expect(r.headers.get('content-type')).to.match(/^application\/json/);
      expect((await r.json()).error.code, path).to.equal('blob-corrupt');
    }
    expect(h.logs.filter((l) => l.includes('"dicomweb.instance.unreadable"') && l.includes(bad)).length).to.be.greaterThan(0);
    // The other instance still reads.
    const good = sops.find((s) => s !== bad)!;
    expect((await h.get(instancePath(good))).status).to.equal(200);
  });

  it('answers 500 when a study\'s first instance fails, before anything is sent', async () => {
    await tamper(sops[0]);
    const r = await h.get(`/dicomweb/studies/${study}`);
    expect(r.status).to.equal(500);
    expect((await r.json()).error.code).to.equal('blob-corrupt');
  });

  it('cuts a study retrieve short when an instance after the first fails: no close delimiter, an error logged', async () => {
    await tamper(sops[1]);
    const r = await h.get(`/dicomweb/studies/${study}`);
    expect(r.status).to.equal(200);
    let failed = false;
    await r.arrayBuffer().catch(() => (failed = true));
    expect(failed, 'the body ended normally').to.equal(true);
    expect(h.logs.some((l) => l.includes('"dicomweb.retrieve.aborted"'))).to.equal(true);
  });

  it('answers 410 for an erased study (its key destroyed)', async () => {
    expect(await h.storage.destroyStudyKey(study)).to.equal(true);
    const r = await h.get(instancePath(sops[0]));
    expect(r.status).to.equal(410);
    expect((await r.json()).error.code).to.equal('erased');
    expect((await h.get(`/dicomweb/studies/${study}/metadata`)).status).to.equal(410);
  });
});
