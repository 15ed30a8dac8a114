/**
 * QIDO-RS over a real storage: instances made from the fixtures with chosen study attributes,
 * de-identified by the edge on a route that keeps dates, then searched for as a reviewer.
 * Identifiers are matched as Limen knows them: the pseudonymous PatientID and PatientName.
 */
import { expect } from 'chai';
import { dicom } from '../../../anonymizer/index.js';
import { CT_FAKEPHI_FILES } from '../../support/fakephi.js';
import { makeReadHarness, type ReadHarness } from './read-harness.js';
import { uid, variant } from './variants.js';

type Json = Record<string, { vr: string; Value?: any[] }>;

const MR_SMALL = new URL('../../fixtures/pydicom-corpus/test_files/MR_small.dcm', import.meta.url).pathname;

interface Made {
  name: string;
  patient: string;
  date: string;
  time: string;
  description: string;
  modality: 'CT' | 'MR';
  instances: number;
}

/** Five studies of three patients; one study has a CT and an MR series. */
const STUDIES: Made[] = [
  { name: 'a', patient: 'P-ANNA', date: '20230110', time: '081500', description: 'CT ABDOMEN', modality: 'CT', instances: 3 },
  { name: 'b', patient: 'P-ANNA', date: '20230315', time: '101530', description: 'CT CHEST', modality: 'CT', instances: 2 },
  { name: 'c', patient: 'P-BERT', date: '20230315', time: '140000', description: 'MR BRAIN', modality: 'MR', instances: 1 },
  { name: 'd', patient: 'P-CARL', date: '20231201', time: '093000', description: 'CT CHEST LOW DOSE', modality: 'CT', instances: 2 },
  { name: 'e', patient: 'P-CARL', date: '20240102', time: '120000', description: 'CT PELVIS', modality: 'CT', instances: 1 },
];

describe('gateway/dicomweb QIDO-RS (real storage)', function () {
  this.timeout(60_000);
  let h: ReadHarness;
  /** Pseudonymous Study Instance UID of each made study, by name. */
  const studyOf = new Map<string, string>();
  /** The original (pre-de-identification) UIDs of each made study's first series. */
  const originals = new Map<string, { study: string; series: string }>();
  /** The pseudonymous PatientID of each made patient. */
  const pseudonym = new Map<string, string>();

  const search = async (path: string, headers: Record<string, string> = {}) => {
    const r = await h.get(`/dicomweb${path}`, headers);
    const text = await r.text();
    // 204 No Content is the answer with no match: no body, read here as no results.
    if (r.status === 204) expect(text).to.equal('');
    return { status: r.status, type: r.headers.get('content-type'), warning: r.headers.get('warning'), json: (r.status === 204 ? [] : JSON.parse(text || '{}')) as any };
  };
  const studyUIDs = (json: Json[]) => json.map((s) => s['0020000D'].Value![0] as string);
  const names = (json: Json[]) => studyUIDs(json).map((u) => [...studyOf].find(([, v]) => v === u)?.[0] ?? '?').sort();

  before(async () => {
    h = await makeReadHarness();
    for (const s of STUDIES) {
      const ids = { study: uid(), series: uid() };
      originals.set(s.name, ids);
      const values: Record<number, [dicom.VR, string]> = {
        [dicom.T.PatientID]: ['LO', s.patient],
        [dicom.T.PatientName]: ['PN', `${s.patient}^TEST`],
        [dicom.T.StudyDate]: ['DA', s.date],
        [dicom.T.StudyTime]: ['TM', s.time],
        [dicom.T.StudyDescription]: ['LO', s.description],
        [dicom.T.SeriesNumber]: ['IS', '1'],
      };
      const files = Array.from({ length: s.instances }, (_, i) => variant(s.modality === 'CT' ? CT_FAKEPHI_FILES[i] : MR_SMALL, { ...values, [dicom.T.InstanceNumber]: ['IS', String(i + 1)] }, ids));
      if (s.name === 'a') files.push(variant(MR_SMALL, { ...values, [dicom.T.SeriesNumber]: ['IS', '2'] }, { study: ids.study, series: uid() }));
      const stored = await h.seed(files, 'dated');
      const out = stored[0];
      if (!out.ok) throw new Error('not stored');
      studyOf.set(s.name, out.studyInstanceUID);
    }
    const all = await search('/studies');
    for (const s of all.json as Json[]) {
      const name = names([s])[0];
      pseudonym.set(STUDIES.find((x) => x.name === name)!.patient, s['00100020'].Value![0]);
    }
  });
  after(async () => {
    await h?.dispose();
  });

  it('lists every study with the default return keys, counts and modalities', async () => {
    const r = await search('/studies');
    expect(r.status).to.equal(200);
    expect(r.type).to.equal('application/dicom+json');
    expect(names(r.json)).to.deep.equal(['a', 'b', 'c', 'd', 'e']);
    const a = (r.json as Json[]).find((s) => s['0020000D'].Value![0] === studyOf.get('a'))!;
    expect(Object.keys(a)).to.include.members(['00080020', '00080030', '00080050', '00080056', '00080061', '00080090', '00081190', '00100010', '00100020', '0020000D', '00200010', '00201206', '00201208']);
    expect(a['00080061'].Value).to.deep.equal(['CT', 'MR']);
    expect(a['00201206'].Value).to.deep.equal([2]);
    expect(a['00201208'].Value).to.deep.equal([4]);
    expect(a['00080020'].Value).to.deep.equal(['20230110']);
    expect(a['00081030'].Value).to.deep.equal(['CT ABDOMEN']);
    expect(a['00081190'].Value![0]).to.match(new RegExp(`/dicomweb/studies/${studyOf.get('a')!.replace(/\./g, '\\.')}$`));
    // Identity as Limen knows it: a pseudonym, never the original.
    expect(a['00100020'].Value![0]).to.match(/^LIMEN-/);
    expect(JSON.stringify(r.json)).to.not.match(/P-ANNA|P-BERT|P-CARL/);
  });

  it('matches the pseudonymous PatientID, and PatientName with wildcards and without case', async () => {
    expect(names((await search(`/studies?PatientID=${pseudonym.get('P-ANNA')}`)).json)).to.deep.equal(['a', 'b']);
    expect(names((await search(`/studies?00100020=${pseudonym.get('P-CARL')}`)).json)).to.deep.equal(['d', 'e']);
    expect((await search('/studies?PatientID=P-ANNA')).json).to.deep.equal([]);
    const name = (await search(`/studies?PatientID=${pseudonym.get('P-BERT')}`)).json[0]['00100010'].Value[0].Alphabetic as string;
    expect(names((await search(`/studies?PatientName=${encodeURIComponent(name.toLowerCase())}`)).json)).to.deep.equal(['c']);
    expect(names((await search(`/studies?PatientName=${encodeURIComponent(name.slice(0, 8))}*`)).json)).to.deep.equal(['c']);
    expect(names((await search(`/studies?PatientName=${encodeURIComponent(name.slice(0, 6) + '?' + name.slice(7))}`)).json)).to.deep.equal(['c']);
  });

  it('matches StudyDate singly and in ranges, and StudyTime, a date range with a time as one date-time range', async () => {
    const dates = async (q: string) => names((await search(`/studies?StudyDate=${q}`)).json);
    expect(await dates('20230315')).to.deep.equal(['b', 'c']);
    expect(await dates('20230201-20231231')).to.deep.equal(['b', 'c', 'd']);
    expect(await dates('-20230315')).to.deep.equal(['a', 'b', 'c']);
    expect(await dates('20231201-')).to.deep.equal(['d', 'e']);
    expect(names((await search('/studies?StudyDate=20230315&StudyTime=1015')).json)).to.deep.equal(['b']);
    // Combined date-time matching (PS3.4 C.2.2.2.5): from 15 March 12:00 to 1 December 09:30.
    expect(names((await search('/studies?StudyDate=20230315-20231201&StudyTime=1200-0930')).json)).to.deep.equal(['c', 'd']);
    expect(names((await search('/studies?StudyDate=20230110-20230315&StudyTime=0900-')).json)).to.deep.equal(['b', 'c']);
    expect((await search('/studies?StudyDate=20231201-20230101&StudyTime=1000')).status).to.equal(400);
    const bad = await search('/studies?StudyDate=15.03.2023');
    expect(bad.status).to.equal(400);
    expect(bad.json.error).to.include({ code: 'invalid-value', parameter: 'StudyDate' });
  });

  it('matches StudyInstanceUID lists, ModalitiesInStudy, StudyDescription wildcards and AccessionNumber', async () => {
    expect(names((await search(`/studies?StudyInstanceUID=${studyOf.get('a')},${studyOf.get('e')}`)).json)).to.deep.equal(['a', 'e']);
    expect(names((await search(`/studies?StudyInstanceUID=${studyOf.get('b')}%5C${studyOf.get('c')}`)).json)).to.deep.equal(['b', 'c']);
    expect(names((await search('/studies?ModalitiesInStudy=MR')).json)).to.deep.equal(['a', 'c']);
    expect(names((await search('/studies?ModalitiesInStudy=CT&PatientID=' + pseudonym.get('P-ANNA'))).json)).to.deep.equal(['a', 'b']);
    expect(names((await search('/studies?StudyDescription=*CHEST*')).json)).to.deep.equal(['b', 'd']);
    expect(names((await search('/studies?StudyDescription=CT%20CHEST')).json)).to.deep.equal(['b']);
    // The Basic Profile empties the accession number: nothing has one to match.
    expect((await search('/studies?AccessionNumber=A1')).json).to.deep.equal([]);
  });

  it('pages with limit and offset: the pages together are the whole list, once each, and a Warning counts what remains', async () => {
    const whole = studyUIDs((await search('/studies')).json);
    const pages: string[] = [];
    const warnings: Array<string | null> = [];
    for (let offset = 0; offset < 7; offset += 2) {
      const page = await search(`/studies?limit=2&offset=${offset}`);
      pages.push(...studyUIDs(page.json));
      warnings.push(page.warning);
    }
    expect(pages).to.deep.equal(whole);
    // PS3.18 §8.3.4.4.1: the remaining count, with the service's base URI as the warn-agent.
    expect(warnings.slice(0, 3)).to.deep.equal([3, 1, 0].map((n) => (n ? `299 http://localhost/dicomweb "There are ${n} additional results that can be requested"` : null)));
    expect((await search('/studies?offset=5')).status).to.equal(204);
    // Instances across the archive: pages, and the count of what remains, without listing every series.
    const all = (await search('/instances')).json as Json[];
    const second = await search('/instances?limit=3&offset=3');
    expect((second.json as Json[]).map((i) => i['00080018'].Value![0])).to.deep.equal(all.slice(3, 6).map((i) => i['00080018'].Value![0]));
    expect(second.warning).to.equal(`299 http://localhost/dicomweb "There are ${all.length - 6} additional results that can be requested"`);
    expect((await search('/studies?limit=0')).status).to.equal(204);
  });

  it('returns what includefield names, from the index or from a de-identified instance, and all', async () => {
    const r = await search(`/studies?StudyInstanceUID=${studyOf.get('c')}&includefield=PatientSex,00100030&includefield=StudyID`);
    const s = r.json[0] as Json;
    expect(s['00100040']).to.deep.equal({ vr: 'CS', Value: ['F'] }); // MR_small's, kept by Retain Patient Characteristics
    expect(s['00100030']).to.deep.equal({ vr: 'DA' }); // the birth date is gone
    const all = (await search(`/studies?StudyInstanceUID=${studyOf.get('c')}&includefield=all`)).json[0] as Json;
    expect(all['00120062']).to.deep.equal({ vr: 'CS', Value: ['YES'] }); // PatientIdentityRemoved
    const instances = (await search(`/studies/${studyOf.get('c')}/instances?includefield=all`)).json as Json[];
    expect(instances[0]['00280100']).to.deep.equal({ vr: 'US', Value: [16] }); // BitsAllocated, from the instance
    expect(instances[0]).to.not.have.property('7FE00010');
  });

  it('answers OHIF\'s study list query from the index alone, without opening an instance', async () => {
    const storage = h.storage as { getInstanceBlob: typeof h.storage.getInstanceBlob };
    const original = storage.getInstanceBlob;
    let opened = 0;
    storage.getInstanceBlob = (sop) => {
      opened++;
      return original(sop);
    };
    try {
      const r = await search('/studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030%2C00080060');
      expect(r.status).to.equal(200);
      expect(r.json).to.have.length(5);
      expect(r.warning).to.equal(null);
      expect((r.json as Json[]).every((s) => s['00081030'] && !s['00080060'])).to.equal(true);
      expect(opened).to.equal(0);
    } finally {
      storage.getInstanceBlob = original;
    }
  });

  it('searches series in a study and across studies, with the study attributes when across', async () => {
    const inA = (await search(`/studies/${studyOf.get('a')}/series`)).json as Json[];
    expect(inA.map((s) => [s['00080060'].Value![0], s['00200011'].Value![0], s['00201209'].Value![0]])).to.deep.equal([['CT', 1, 3], ['MR', 2, 1]]);
    expect(inA[0]).to.not.have.property('00100020');
    const mr = (await search('/series?Modality=MR')).json as Json[];
    expect(mr).to.have.length(2);
    expect(mr.map((s) => s['00100020'].Value![0]).sort()).to.deep.equal([pseudonym.get('P-ANNA'), pseudonym.get('P-BERT')].sort());
    expect(mr[0]['00081190'].Value![0]).to.match(/\/series\/2\.25\.\d+$/);
    expect((await search('/series?SeriesNumber=2')).json).to.have.length(1);
    expect((await search(`/studies/${studyOf.get('a')}/series?Modality=MR&StudyDate=20230110`)).json).to.have.length(1);
  });

  it('searches instances in a series, a study and everywhere', async () => {
    const series = (await search(`/studies/${studyOf.get('a')}/series?Modality=CT`)).json[0]['0020000E'].Value[0];
    const inSeries = (await search(`/studies/${studyOf.get('a')}/series/${series}/instances`)).json as Json[];
    expect(inSeries.map((i) => i['00200013'].Value![0])).to.deep.equal([1, 2, 3]);
    expect(inSeries[0]['00080016'].Value).to.deep.equal(['1.2.840.10008.5.1.4.1.1.2']);
    expect(inSeries[0]['00280010'].Value).to.deep.equal([101]);
    expect(inSeries[0]['00083002'].Value).to.deep.equal(['1.2.840.10008.1.2.1']);
    const sop = inSeries[1]['00080018'].Value![0];
    expect((await search(`/studies/${studyOf.get('a')}/instances?SOPInstanceUID=${sop}`)).json.map((i: Json) => i['00080018'].Value![0])).to.deep.equal([sop]);
    const inStudy = (await search(`/studies/${studyOf.get('a')}/instances`)).json as Json[];
    expect(inStudy).to.have.length(4);
    expect(inStudy.every((i) => i['00080060'])).to.equal(true); // series attributes come along
    // Across the archive, by SOP Instance UID: found by its key, only its own series listed.
    const listed: string[] = [];
    const listInstances = h.storage.listInstances.bind(h.storage);
    h.storage.listInstances = (study, series) => (listed.push(`${study}/${series}`), listInstances(study, series));
    try {
      const other = inStudy.find((i) => i['0020000E'].Value![0] !== series)!['00080018'].Value![0] as string;
      const found = (await search(`/instances?SOPInstanceUID=${sop},${other},1.2.3.999`)).json as Json[];
      expect(found.map((i) => i['00080018'].Value![0]).sort()).to.deep.equal([sop, other].sort());
      expect(found[0]['0020000D'].Value).to.deep.equal([studyOf.get('a')]);
      expect(listed).to.have.length(2);
      expect((await search('/instances?SOPInstanceUID=1.2.3.999')).status).to.equal(204);
      expect(listed).to.have.length(2);
    } finally {
      h.storage.listInstances = listInstances;
    }
    const mrEverywhere = (await search('/instances?Modality=MR&limit=10')).json as Json[];
    expect(mrEverywhere).to.have.length(2);
    expect(mrEverywhere.every((i) => i['00100020'] && i['0020000E'])).to.equal(true);
    expect((await search('/instances?limit=3')).json).to.have.length(3);
  });

  it('returns the default keys PS3.18 Table 10.6.3-3 and -5 ask for: patient birth date and sex, bits allocated, availability', async () => {
    const c = (await search(`/studies?StudyInstanceUID=${studyOf.get('c')}`)).json[0] as Json;
    expect(c['00100040']).to.deep.equal({ vr: 'CS', Value: ['F'] }); // kept by Retain Patient Characteristics
    expect(c['00100030']).to.deep.equal({ vr: 'DA' }); // removed by the profile: present, empty
    // Returned, not matched (studies indexed before they were kept would drop out): said so.
    expect((await search('/studies?PatientSex=F')).warning).to.match(/not supported for matching.*PatientSex/);
    const [instance] = (await search(`/studies/${studyOf.get('c')}/instances`)).json as Json[];
    expect(instance['00280100']).to.deep.equal({ vr: 'US', Value: [16] });
    expect(instance['00080056']).to.deep.equal({ vr: 'CS', Value: ['ONLINE'] });
  });

  it('answers an empty search with 204 and no body, ignored keys with a 299 Warning', async () => {
    const none = await search('/studies?PatientID=NOBODY');
    expect(none.status).to.equal(204);
    expect(none.type).to.equal(null);
    const warned = await search('/studies?fuzzymatching=true&PatientWeight=70');
    expect(warned.json).to.have.length(5);
    expect(warned.warning).to.match(/^299 http:\/\/localhost\/dicomweb "The fuzzymatching parameter is not supported. Only literal matching has been performed."/).and.match(/PatientWeight/);
    expect((await search(`/studies/${uid()}/series`)).status).to.equal(204);
    // A name quoted in a Warning as the client sent it, percent-encoded where a header cannot carry it (it was a 500).
    const odd = await search('/studies?Patient%0AWeight=1&%E2%98%83=2&%22q%22=3');
    expect(odd.status).to.equal(200);
    expect(odd.warning).to.match(/were ignored: Patient%0AWeight, %E2%98%83, q"$/);
  });

  it('takes the accept and charset query parameters (PS3.18 §8.3.3), a + in a query value as itself', async () => {
    const xml = await h.get('/dicomweb/studies?accept=multipart/related;type="application/dicom+xml"', { accept: '*/*' });
    expect(xml.status).to.equal(200);
    expect(xml.headers.get('content-type')).to.match(/^multipart\/related; type="application\/dicom\+xml"; boundary=/);
    // A + left unencoded in the query is not a space: application/dicom+json, not "application/dicom json".
    const plus = await h.get('/dicomweb/studies?accept=application/dicom+json', { accept: 'multipart/related; type="application/dicom+xml"' });
    expect(plus.headers.get('content-type')).to.equal('application/dicom+json');
    // Encoded as a form, the spaces of the accept parameter came as +.
    const form = await h.get('/dicomweb/studies?accept=multipart%2Frelated%3B+type%3D%22application%2Fdicom%2Bxml%22', { accept: '*/*' });
    expect(form.headers.get('content-type')).to.match(/^multipart\/related; type="application\/dicom\+xml"/);
    // Elsewhere + is a space, as forms send it.
    expect(names((await search(`/studies?StudyDescription=MR+BRAIN`)).json)).to.deep.equal(['c']);
    // What the query parameter asks for and cannot be had leaves the header to decide.
    expect((await search('/studies?accept=image/png', { accept: 'application/dicom+json' })).type).to.equal('application/dicom+json');
    expect((await search('/studies?charset=UTF-8')).status).to.equal(200);
    expect((await search('/studies?charset=*')).status).to.equal(200);
    expect((await search('/studies?charset=ISO-8859-1;q=1,utf-8;q=0.5')).status).to.equal(200);
    const latin = await search('/studies?charset=ISO-8859-1');
    expect(latin.status).to.equal(400);
    expect(latin.json.error.code).to.equal('unsupported-charset');
    expect((await search('/studies?accept=application/dicom+json&charset=utf-8&PatientID=NOBODY')).status).to.equal(204);
    // DICOM and non-DICOM media types together in the parameter: 400 (§8.3.3.1), whichever comes first.
    for (const mixed of ['application/dicom+json,image/png', 'image/jpeg&accept=multipart/related;type="application/dicom+xml"']) {
      const refused = await search(`/studies?accept=${mixed}`);
      expect(refused.status, mixed).to.equal(400);
      expect(refused.json.error.code).to.equal('mixed-accept');
      expect(refused.json.error.message).to.match(/DICOM media type \(application\/dicom\+(json|xml)\) and another \(image\/(png|jpeg)\)/);
    }
    // Nor a wildcard, which only the header may have.
    for (const wild of ['*/*', 'multipart/related;type="image/*"']) {
      const refused = await search(`/studies?accept=${encodeURIComponent(wild)}`);
      expect(refused.status, wild).to.equal(400);
      expect(refused.json.error.code).to.equal('accept-wildcard');
    }
    // The header may mix them: only the parameter may not.
    expect((await search('/studies', { accept: 'application/dicom+json, image/png' })).status).to.equal(200);
  });

  it('shows what arrives at once: a new study, and a new instance in an older study', async () => {
    const before = (await search('/studies')).json as Json[];
    expect(before).to.have.length(5);
    const [late] = await h.seed([variant(MR_SMALL, { [dicom.T.StudyDate]: ['DA', '20220202'] })], 'dated');
    const after = (await search('/studies')).json as Json[];
    expect(after).to.have.length(6);
    const oldest = STUDIES[0];
    await h.seed([variant(CT_FAKEPHI_FILES[9], { [dicom.T.PatientID]: ['LO', oldest.patient], [dicom.T.StudyDate]: ['DA', oldest.date] }, originals.get('a'))], 'dated');
    const a = ((await search(`/studies?StudyInstanceUID=${studyOf.get('a')}`)).json as Json[])[0];
    expect(a['00201208'].Value).to.deep.equal([5]);
    if (late.ok) studyOf.set('late', late.studyInstanceUID);
  });

  it('answers and matches descriptions in the character set they were sent in (ISO 2022 IR 87, ISO_IR 144, ISO_IR 192)', async () => {
    // 胸部 CT in JIS X 0208 within ISO 2022 escapes; КТ ГРУДИ in ISO 8859-5; Poumons élargis in UTF-8.
    const jis = Uint8Array.from([0x1b, 0x24, 0x42, 0x36, 0x3b, 0x49, 0x74, 0x1b, 0x28, 0x42, 0x20, 0x43, 0x54]);
    const cyrillic = Uint8Array.from([0xba, 0xc2, 0x20, 0xb3, 0xc0, 0xc3, 0xb4, 0xb8]);
    const made = [
      { charset: 'ISO 2022 IR 87', description: jis, text: '胸部 CT' },
      { charset: 'ISO_IR 144', description: cyrillic, text: 'КТ ГРУДИ' },
      { charset: 'ISO_IR 192', description: new TextEncoder().encode('Poumons élargis'), text: 'Poumons élargis' },
    ];
    for (const m of made) {
      const [stored] = await h.seed(
        [variant(MR_SMALL, { [dicom.T.SpecificCharacterSet]: ['CS', m.charset], [dicom.T.StudyDescription]: ['LO', m.description], [dicom.T.StudyDate]: ['DA', '20220303'] })],
        'dated',
      );
      if (!stored.ok) throw new Error('not stored');
      const found = (await search(`/studies?StudyInstanceUID=${stored.studyInstanceUID}`)).json as Json[];
      expect(found[0]['00081030'].Value, m.charset).to.deep.equal([m.text]);
      const matched = (await search(`/studies?StudyDescription=${encodeURIComponent(m.text.slice(0, 3))}*`)).json as Json[];
      expect(studyUIDs(matched), m.charset).to.include(stored.studyInstanceUID);
    }
  });

  it('refuses no token (401), a role that may not read (403), a bad UID (400) and an unacceptable type (406)', async () => {
    expect((await h.get('/dicomweb/studies', {}, null)).status).to.equal(401);
    expect((await h.get('/dicomweb/studies', {}, h.tokens.auditor)).status).to.equal(403);
    expect((await h.get('/dicomweb/studies', {}, h.tokens.modality)).status).to.equal(403);
    expect((await h.get('/dicomweb/studies', {}, h.tokens.admin)).status).to.equal(200);
    expect((await h.get('/dicomweb/studies/not-a-uid/series')).status).to.equal(400);
    const r = await search('/studies', { accept: 'application/xml' });
    expect(r.status).to.equal(406);
    expect(r.json.error.code).to.equal('not-acceptable');
    expect((await search('/studies', { accept: 'application/json' })).type).to.equal('application/json');
  });
});
