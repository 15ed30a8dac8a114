/**
 * The read side with an independent client over a real socket: dicomweb-client (the OHIF
 * ecosystem's, through the xhr2 polyfill) searches, reads metadata, frames, bulk data and
 * instances of ct-fakephi as Limen stored it.
 */
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { api } from 'dicomweb-client';
import { CT_FAKEPHI_FILES } from '../../support/fakephi.js';
import { makeReadHarness, type ReadHarness } from './read-harness.js';
import { variant } from './variants.js';

// xhr2 ships no types; it only needs to be a constructor for dicomweb-client.
const XMLHttpRequestPolyfill: unknown = createRequire(import.meta.url)('xhr2');
const MR_JLS = new URL('../../fixtures/pydicom-corpus/test_files/MR_small_jpeg_ls_lossless.dcm', import.meta.url).pathname;

type Json = Record<string, { vr: string; Value?: any[]; BulkDataURI?: string }>;
const value = (ds: Json, tag: string) => ds[tag].Value![0];

describe('gateway/dicomweb read side with dicomweb-client (real server)', function () {
  this.timeout(60_000);
  let h: ReadHarness;
  let client: any;
  let study: string;
  let jlsStudy: string;
  const saved = (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest;

  before(async () => {
    h = await makeReadHarness();
    const out = await h.seed(CT_FAKEPHI_FILES.slice(0, 10));
    const [jls] = await h.seed([variant(MR_JLS)]);
    if (!out[0].ok || !jls.ok) throw new Error('not stored');
    study = out[0].studyInstanceUID;
    jlsStudy = jls.studyInstanceUID;
    const base = await h.listen();
    (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = XMLHttpRequestPolyfill;
    client = new api.DICOMwebClient({ url: `${base}/dicomweb`, headers: { Authorization: `Bearer ${h.tokens.reviewer}` }, verbose: false } as never);
  });
  after(async () => {
    (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = saved;
    await h?.dispose();
  });

  it('searchForStudies, searchForSeries and searchForInstances', async () => {
    const studies = (await client.searchForStudies({ queryParams: { ModalitiesInStudy: 'CT' } })) as Json[];
    expect(studies.map((s) => value(s, '0020000D'))).to.deep.equal([study]);
    expect(value(studies[0], '00201208')).to.equal(10);
    expect(await client.searchForStudies({ queryParams: { PatientID: 'NOBODY' } })).to.deep.equal([]);
    const series = (await client.searchForSeries({ studyInstanceUID: study })) as Json[];
    expect(series.map((s) => value(s, '00080060'))).to.deep.equal(['CT']);
    const instances = (await client.searchForInstances({ studyInstanceUID: study, seriesInstanceUID: value(series[0], '0020000E'), queryParams: { limit: '4' } })) as Json[];
    expect(instances).to.have.length(4);
  });

  it('retrieveStudyMetadata, retrieveInstanceFrames and retrieveBulkData agree with one another', async () => {
    const metadata = (await client.retrieveStudyMetadata({ studyInstanceUID: study })) as Json[];
    expect(metadata).to.have.length(10);
    const m = metadata.find((x) => value(x, '00200013') === 4)!;
    const ids = { studyInstanceUID: study, seriesInstanceUID: value(m, '0020000E'), sopInstanceUID: value(m, '00080018') };
    const frames = (await client.retrieveInstanceFrames({ ...ids, frameNumbers: [1] })) as ArrayBuffer[];
    expect(frames).to.have.length(1);
    expect(frames[0].byteLength).to.equal(value(m, '00280010') * value(m, '00280011') * 2);
    const bulk = (await client.retrieveBulkData({ BulkDataURI: m['7FE00010'].BulkDataURI })) as ArrayBuffer[];
    expect(Buffer.from(bulk[0]).equals(Buffer.from(frames[0]))).to.equal(true);
    const stored = await h.storage.getInstanceBlob(ids.sopInstanceUID);
    const instance = (await client.retrieveInstance(ids)) as ArrayBuffer;
    expect(Buffer.from(instance).equals(stored!.bytes)).to.equal(true);
  });

  it('retrieveStudy gives every instance; compressed frames come as stored when asked by media type', async () => {
    const parts = (await client.retrieveStudy({ studyInstanceUID: study })) as ArrayBuffer[];
    expect(parts).to.have.length(10);
    const [meta] = (await client.retrieveStudyMetadata({ studyInstanceUID: jlsStudy })) as Json[];
    const ids = { studyInstanceUID: jlsStudy, seriesInstanceUID: value(meta, '0020000E'), sopInstanceUID: value(meta, '00080018') };
    const asStored = (await client.retrieveInstanceFrames({ ...ids, frameNumbers: [1], mediaTypes: [{ mediaType: 'image/x-jls', transferSyntaxUID: '1.2.840.10008.1.2.4.80' }] })) as ArrayBuffer[];
    expect(Buffer.from(asStored[0]).subarray(0, 2).toString('hex')).to.equal('ffd8'); // a JPEG-LS codestream
    const decoded = (await client.retrieveInstanceFrames({ ...ids, frameNumbers: [1] })) as ArrayBuffer[];
    expect(decoded[0].byteLength).to.equal(64 * 64 * 2);
  });
});
