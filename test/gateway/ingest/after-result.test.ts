/**
 * A new instance of a study whose result is approved or delivered does not reopen it: what was
 * reviewed or sent stays as it was. The instance is stored, and the trail and the log say that the
 * result lacks it. (One that arrives while the study is processed supersedes that run.)
 */
import { expect } from 'chai';
import { makeReadHarness, type ReadHarness } from '../dicomweb/read-harness.js';
import { uid, variant } from '../dicomweb/variants.js';

const CT = new URL('../../fixtures/pydicom-corpus/test_files/CT_small.dcm', import.meta.url).pathname;

describe('ingest: an instance that arrives after its study has a result', () => {
  let h: ReadHarness;
  beforeEach(async () => (h = await makeReadHarness()));
  afterEach(async () => h.dispose());

  it('is stored and counted, its event says which result lacks it, and the log warns; before a result, or while one is made, it is an ordinary arrival', async () => {
    const study = uid();
    const [first] = await h.seed([variant(CT, {}, { study })]);
    expect(first.ok).to.equal(true);
    const pseudonymous = (first as { studyInstanceUID: string }).studyInstanceUID;
    const arrivals = async () => (await h.storage.audit.list({ type: 'instance.stored', studyInstanceUID: pseudonymous })).map((e) => e.detail.afterResult);
    expect(await arrivals()).to.deep.equal([undefined]);

    for (const status of ['processing', 'approved', 'delivered'] as const) {
      // Processing: the run's result is set aside when it ends (processing.superseded), not flagged here.
      await h.storage.setStudyStatus(pseudonymous, status);
      const [late] = await h.seed([variant(CT, {}, { study })]);
      expect(late.ok, status).to.equal(true);
      expect((await h.storage.getStudy(pseudonymous))?.status, 'not reopened').to.equal(status);
    }
    expect(await arrivals()).to.deep.equal([undefined, undefined, 'approved', 'delivered']);
    const warnings = h.logs.map((l) => JSON.parse(l) as { id: string; status?: string; msg: string }).filter((l) => l.id === 'edge.instance.after-result');
    expect(warnings.map((w) => w.status)).to.deep.equal(['approved', 'delivered']);
    expect(warnings[1].msg).to.equal('instance stored in a study whose result is delivered: that result does not include it');
    expect((await h.storage.getStudy(pseudonymous))?.instanceCount).to.equal(4);
  });
});
