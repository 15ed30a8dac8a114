/**
 * A conformance probe of the read side against PS3.18 (QIDO-RS §10.6, §8.3.4; WADO-RS §10.4),
 * ct-fakephi de-identified on the default route: what a probe found wrong stays fixed, and every
 * probe's answer (XML, warnings and error bodies included) carries no PHI nor original UID.
 */
import { expect } from 'chai';
import { scanResidualPhi } from '../../../anonymizer/index.js';
import { CT_FAKEPHI_FILES, CT_FAKEPHI_UIDS, CT_FAKEPHI_VALUES, insidePseudonymousUID } from '../../support/fakephi.js';
import { makeReadHarness, type ReadHarness } from './read-harness.js';

type Json = Record<string, { vr: string; Value?: unknown[] }>;

describe('gateway/dicomweb read side: PS3.18 conformance probe', function () {
  this.timeout(40_000);
  let h: ReadHarness;
  let study: string;
  let series: string;
  let sop: string;
  /** Every answer of this suite, headers and body, for the PHI scan. */
  const served: Array<{ name: string; bytes: Uint8Array }> = [];

  const get = async (path: string, accept?: string) => {
    const r = await h.get(`/dicomweb${path}`, accept ? { accept } : {});
    const bytes = new Uint8Array(await r.arrayBuffer());
    const head = [...r.headers].map(([k, v]) => `${k}: ${v}`).join('\n');
    served.push({ name: `GET ${path}`, bytes: Buffer.concat([Buffer.from(`${head}\n\n`), bytes]) });
    const text = Buffer.from(bytes).toString();
    return { status: r.status, warning: r.headers.get('warning'), json: () => JSON.parse(text) };
  };

  before(async () => {
    h = await makeReadHarness();
    const [first] = await h.seed(CT_FAKEPHI_FILES.slice(0, 3));
    if (!first.ok) throw new Error('not stored');
    study = first.studyInstanceUID;
    sop = first.sopInstanceUID;
    series = (await h.storage.listInstances(study))[0].seriesInstanceUID;
  });
  after(async () => {
    await h?.dispose();
  });

  it('returns no series or instance attribute that includefield names to a study search, no instance attribute to a series search (PS3.18 §10.6.3.3.1-2)', async () => {
    // SliceThickness and ImagePositionPatient are one slice's; Manufacturer is the series' equipment.
    const fields = 'includefield=SliceThickness,00200032,Manufacturer,PatientIdentityRemoved';
    const [s] = (await get(`/studies?StudyInstanceUID=${study}&${fields}`)).json() as Json[];
    expect(s).to.not.have.any.keys('00180050', '00200032', '00080070');
    expect(s['00120062']).to.deep.equal({ vr: 'CS', Value: ['YES'] }); // a study-level one still comes
    const [se] = (await get(`/studies/${study}/series?${fields}`)).json() as Json[];
    expect(se).to.not.have.any.keys('00180050', '00200032');
    expect(se).to.have.property('00080070'); // the series' own
    expect(se).to.have.property('00120062');
    const [i] = (await get(`/studies/${study}/series/${series}/instances?SOPInstanceUID=${sop}&${fields}`)).json() as Json[];
    expect(i).to.include.keys('00180050', '00200032', '00080070');
  });

  it('refuses with 400 a date or time key that names no day or time of day (PS3.18 §8.3.4, PS3.5 DA and TM)', async () => {
    for (const query of ['StudyDate=20230230', 'StudyDate=20231301-20231231', 'StudyDate=20230229', 'StudyDate=20230101-20230132&StudyTime=1000-1200', 'StudyTime=2500', 'StudyTime=1061']) {
      const r = await get(`/studies?${query}`);
      expect(r.status, query).to.equal(400);
      expect(r.json().error.code, query).to.equal('invalid-value');
    }
    // Real days and times, a leap day and a leap second among them, match as before.
    for (const query of ['StudyDate=20240229', 'StudyDate=19000101-', 'StudyTime=235960', 'StudyDate=20230101-20231231&StudyTime=0000-2359']) {
      expect((await get(`/studies?${query}`)).status, query).to.be.oneOf([200, 204]);
    }
  });

  it('serves no PHI and no original UID in any answer of the probe: XML, warnings and errors included', async () => {
    const instance = `/studies/${study}/series/${series}/instances/${sop}`;
    const xml = 'multipart/related; type="application/dicom+xml"';
    for (const [path, accept] of [
      ['/studies?includefield=all&fuzzymatching=true&PatientWeight=70&limit=1', xml],
      [`/series?includefield=all`, xml],
      [`/instances?includefield=all&limit=2&offset=1`, undefined],
      [`/studies/${study}/series/${series}/metadata`, xml],
      [`${instance}/metadata`, undefined],
      [`${instance}/frames/1,2`, undefined],
      [instance, 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50'],
      [`/studies?StudyDate=20231231-20230101`, undefined],
    ] as const) {
      expect((await get(path, accept)).status, path).to.be.oneOf([200, 400, 404, 406]);
    }
    const hits = scanResidualPhi(served, [...CT_FAKEPHI_VALUES, ...Object.values(CT_FAKEPHI_UIDS)]);
    expect(hits.filter((hit) => !insidePseudonymousUID(served.find((s) => s.name === hit.source)?.bytes, hit.needle, hit.offset))).to.deep.equal([]);
  });
});

