/**
 * WADO-RS over a real storage, checked against pydicom reading the same de-identified bytes:
 * ct-fakephi through the edge, a BINARY SEG made on it by the pipeline's writer and stored as
 * its own series, and compressed instances from the pydicom corpus (JPEG-LS, RLE, JPEG 2000,
 * RGB RLE, baseline JPEG) and a multi-frame RT Dose.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dicom, scanResidualPhi } from '../../../anonymizer/index.js';
import { SEGMENTATION_STORAGE, writeSegmentation } from '../../../pipeline/seg/index.js';
import type { IngestOutcome } from '../../../gateway/ingest/index.js';
import { CT_FAKEPHI_FILES, CT_FAKEPHI_UIDS, CT_FAKEPHI_VALUES, insidePseudonymousUID } from '../../support/fakephi.js';
import { requirePeers } from '../../support/peers.js';
import { loadCtGrid, segInput, syntheticLabels } from '../../pipeline/seg/helpers.js';
import { compareNativeXml, dcmtkNativeXml, readNativeXml, type XmlDataset } from './dcmtk-xml.js';
import { compareJson, pydicomJsonOfBytes } from './pydicom-json.js';
import { pydicomFrames } from './pydicom-pixels.js';
import { makeReadHarness, splitMultipart, type ReadHarness } from './read-harness.js';
import { uid, variant } from './variants.js';

type Json = Record<string, { vr: string; Value?: any[]; BulkDataURI?: string; InlineBinary?: string }>;

const EVRLE = '1.2.840.10008.1.2.1';
const BINARY_SEG = new URL('../../fixtures/seg-references/dcmqi/segmentations/23x38x3/seg/label.seg', import.meta.url).pathname;
const CORPUS = new URL('../../fixtures/pydicom-corpus/test_files/', import.meta.url).pathname;
const MR_PIXELS = (() => {
  const ds = dicom.readPart10(readFileSync(join(CORPUS, 'MR_small.dcm'))).dataset;
  return Buffer.from(dicom.find(ds, dicom.T.PixelData)!.value!);
})();

interface Target {
  study: string;
  series: string;
  sop: string;
  path: string;
}

describe('gateway/dicomweb WADO-RS (real storage)', function () {
  this.timeout(120_000);
  let h: ReadHarness;
  let ct: Target[];
  let seg: Target & { frames: number };
  let binarySeg: Target & { frames: number };
  const c: Record<'jls' | 'rle' | 'j2k' | 'rgbRle' | 'jpegRgb' | 'dose', Target> = {} as never;
  /** Every body served about ct-fakephi and its SEG, for the PHI scan. */
  const served: Array<{ name: string; bytes: Uint8Array }> = [];

  const get = async (path: string, accept?: string) => {
    const r = await h.get(path, accept ? { accept } : {});
    const bytes = new Uint8Array(await r.arrayBuffer());
    if (path.includes(ct?.[0]?.study ?? '-')) served.push({ name: `GET ${path} (${accept ?? ''})`, bytes });
    return { status: r.status, type: r.headers.get('content-type'), bytes, json: () => JSON.parse(Buffer.from(bytes).toString()) };
  };
  const targetOf = async (outcome: IngestOutcome): Promise<Target> => {
    if (!outcome.ok) throw new Error('not stored');
    const blob = await h.storage.getInstanceBlob(outcome.sopInstanceUID);
    const t = { study: blob!.studyInstanceUID, series: blob!.seriesInstanceUID, sop: blob!.sopInstanceUID };
    return { ...t, path: `/dicomweb/studies/${t.study}/series/${t.series}/instances/${t.sop}` };
  };
  const blobOf = async (sop: string) => (await h.storage.getInstanceBlob(sop))!.bytes;

  before(async function () {
    requirePeers(this, 'python3-pydicom');
    h = await makeReadHarness();
    ct = await Promise.all((await h.seed(CT_FAKEPHI_FILES)).map(targetOf));
    // The pipeline's SEG over the de-identified CT, stored as Limen stores what it derives.
    const dir = mkdtempSync(join(tmpdir(), 'limen-wado-ct-'));
    try {
      for (const t of ct) writeFileSync(join(dir, `${t.sop}.dcm`), await blobOf(t.sop));
      const grid = loadCtGrid(dir);
      const written = writeSegmentation(
        segInput(syntheticLabels(grid.geometry), {
          source: { studyInstanceUID: grid.studyInstanceUID, seriesInstanceUID: grid.seriesInstanceUID, frameOfReferenceUID: grid.frameOfReferenceUID, sources: grid.sources },
          patientStudy: grid.firstDataset,
        }),
      );
      await h.storage.storeInstance({
        studyInstanceUID: ct[0].study,
        seriesInstanceUID: written.seriesInstanceUID,
        sopInstanceUID: written.sopInstanceUID,
        sopClassUID: SEGMENTATION_STORAGE,
        transferSyntaxUID: EVRLE,
        bytes: written.bytes,
        route: 'default',
        stableSeconds: 3600,
        retentionDays: 30,
        modality: 'SEG',
        seriesNumber: 901,
        instanceNumber: 1,
        seriesAttributes: { SeriesDescription: 'Segmentation (test)' },
        instanceAttributes: { Rows: 101, Columns: 122, NumberOfFrames: written.numberOfFrames },
      });
      const t = { study: ct[0].study, series: written.seriesInstanceUID, sop: written.sopInstanceUID };
      seg = { ...t, path: `/dicomweb/studies/${t.study}/series/${t.series}/instances/${t.sop}`, frames: written.numberOfFrames };
      // A BINARY SEG from another tool whose 38 × 23 frames start mid-byte (Limen writes such frames FRACTIONAL).
      const binary = readFileSync(BINARY_SEG);
      const ds = dicom.readPart10(binary).dataset;
      const b = { study: uid(), series: dicom.stringOf(dicom.find(ds, dicom.T.SeriesInstanceUID))!, sop: dicom.stringOf(dicom.find(ds, dicom.T.SOPInstanceUID))! };
      await h.storage.storeInstance({
        studyInstanceUID: b.study,
        seriesInstanceUID: b.series,
        sopInstanceUID: b.sop,
        sopClassUID: SEGMENTATION_STORAGE,
        transferSyntaxUID: EVRLE,
        bytes: binary,
        route: 'default',
        stableSeconds: 3600,
        retentionDays: 30,
        modality: 'SEG',
        instanceAttributes: { Rows: 38, Columns: 23, NumberOfFrames: 3 },
      });
      binarySeg = { ...b, path: `/dicomweb/studies/${b.study}/series/${b.series}/instances/${b.sop}`, frames: 3 };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const corpus: Record<keyof typeof c, string> = {
      jls: 'MR_small_jpeg_ls_lossless.dcm',
      rle: 'MR_small_RLE.dcm',
      j2k: 'MR_small_jp2klossless.dcm',
      rgbRle: 'SC_rgb_rle_2frame.dcm',
      jpegRgb: 'SC_rgb_jpeg_dcmtk.dcm',
      dose: 'rtdose.dcm',
    };
    for (const [name, file] of Object.entries(corpus)) {
      const [out] = await h.seed([variant(join(CORPUS, file))]);
      c[name as keyof typeof c] = await targetOf(out);
    }
  });
  after(async () => {
    await h?.dispose();
  });

  it('retrieves a study as multipart/related: every part is the stored de-identified instance, byte for byte', async () => {
    const r = await get(`/dicomweb/studies/${ct[0].study}`);
    expect(r.status).to.equal(200);
    expect(r.type).to.match(/^multipart\/related; type="application\/dicom"; boundary=/);
    const parts = splitMultipart(r.type, r.bytes);
    const stored = await h.storage.listInstances(ct[0].study);
    expect(parts).to.have.length(113);
    for (let i = 0; i < parts.length; i++) {
      expect(parts[i].headers['content-type']).to.equal(`application/dicom; transfer-syntax=${stored[i].transferSyntaxUID}`);
      expect(parts[i].headers['content-location']).to.equal(`http://localhost/dicomweb/studies/${ct[0].study}/series/${stored[i].seriesInstanceUID}/instances/${stored[i].sopInstanceUID}`);
      expect(parts[i].body.equals(await blobOf(stored[i].sopInstanceUID)), stored[i].sopInstanceUID).to.equal(true);
    }
    // pydicom reads them back as the instances they are.
    const read = pydicomJsonOfBytes([parts[0].body, parts[112].body]);
    expect(read.map((j) => j['00080018'].Value![0])).to.deep.equal([stored[0].sopInstanceUID, stored[112].sopInstanceUID]);
  });

  it('retrieves a series and an instance; Explicit VR Little Endian asked of one that is gives the same bytes', async () => {
    const series = splitMultipart(...typeBytes(await get(`/dicomweb/studies/${seg.study}/series/${seg.series}`)));
    expect(series).to.have.length(1);
    expect(series[0].body.equals(await blobOf(seg.sop))).to.equal(true);
    const one = await get(ct[5].path, `multipart/related; type="application/dicom"; transfer-syntax=${EVRLE}`);
    expect(one.status).to.equal(200);
    expect(splitMultipart(one.type, one.bytes)[0].body.equals(await blobOf(ct[5].sop))).to.equal(true);
  });

  it('gives metadata that equals pydicom\'s JSON of the same instances; BulkDataURIs give the bytes pydicom inlines', async () => {
    const series = await get(`/dicomweb/studies/${ct[0].study}/series/${ct[0].series}/metadata`);
    expect(series.status).to.equal(200);
    expect(series.type).to.equal('application/dicom+json');
    const all = series.json() as Json[];
    expect(all).to.have.length(112);
    expect(all.every((m) => m['7FE00010'].BulkDataURI && m['00083002'].Value![0] === EVRLE)).to.equal(true);
    const segMeta = (await get(`${seg.path}/metadata`)).json() as Json[];
    const mine = [...all.slice(0, 4), segMeta[0]];
    const sops = mine.map((m) => m['00080018'].Value![0] as string);
    const theirs = pydicomJsonOfBytes(await Promise.all(sops.map(blobOf)));
    const bulk = new Map<string, Buffer>();
    for (const m of mine) {
      for (const uri of bulkURIs(m)) {
        const r = await get(new URL(uri).pathname, 'application/octet-stream');
        expect(r.status, uri).to.equal(200);
        bulk.set(uri, Buffer.from(r.bytes));
      }
    }
    expect(bulk.size).to.be.greaterThan(4);
    mine.forEach((m, i) => expect(compareJson(m, theirs[i], { bulk: (u) => bulk.get(u)!, skip: ['00083002'] }), sops[i]).to.deep.equal([]));
  });

  it('gives metadata and search results as the Native DICOM Model in XML when asked: DCMTK\'s dcm2xml of the same instances agrees', async function () {
    requirePeers(this, 'dcmtk');
    const accept = 'multipart/related; type="application/dicom+xml"';
    const xmlParts = async (path: string) => {
      const r = await get(path, accept);
      expect(r.status, path).to.equal(200);
      expect(r.type).to.match(/^multipart\/related; type="application\/dicom\+xml"; boundary=/);
      const parts = splitMultipart(r.type, r.bytes);
      for (const part of parts) expect(part.headers['content-type']).to.equal('application/dicom+xml');
      return readNativeXml(parts.map((part) => part.body.toString('utf8')));
    };
    const targets = [ct[0], ct[1], seg, c.dose];
    const ours = (await Promise.all(targets.map((t) => xmlParts(`${t.path}/metadata`)))).map((docs) => {
      expect(docs).to.have.length(1);
      return docs[0];
    });
    const theirs = dcmtkNativeXml(await Promise.all(targets.map((t) => blobOf(t.sop))));
    const bulk = new Map<string, Buffer>();
    for (const uri of ours.flatMap((d) => xmlBulkURIs(d.dataset))) {
      const r = await get(new URL(uri).pathname, 'application/octet-stream');
      expect(r.status, uri).to.equal(200);
      bulk.set(uri, Buffer.from(r.bytes));
    }
    expect(bulk.size).to.be.at.least(targets.length);
    ours.forEach((doc, i) => {
      expect(doc.root).to.equal('{http://dicom.nema.org/PS3.19/models/NativeDICOM}NativeDicomModel');
      expect(doc.space).to.equal('preserve');
      expect(compareNativeXml(doc.dataset, theirs[i].dataset, { bulk: (u) => bulk.get(u)!, skip: ['00083002'] }), targets[i].sop).to.deep.equal([]);
    });
    // A document per instance of a series, and per match of a search.
    expect(await xmlParts(`/dicomweb/studies/${ct[0].study}/series/${ct[0].series}/metadata`)).to.have.length(112);
    const series = await xmlParts(`/dicomweb/studies/${ct[0].study}/series`);
    expect(series.map((d) => d.dataset['0020000E'].values[0]).map((v) => (v.kind === 'value' ? v.text : '')).sort()).to.deep.equal([ct[0].series, seg.series].sort());
    // No match is 204 with no body: a multipart body of no part would not be one (RFC 2046 §5.1.1).
    const none = await get('/dicomweb/studies?PatientID=NOBODY', accept);
    expect(none.status).to.equal(204);
    expect(none.bytes.length).to.equal(0);
  });

  it('gives CT frames and a multi-frame RT Dose\'s frames as pydicom\'s pixel bytes', async () => {
    const expected = pydicomFrames([{ bytes: await blobOf(ct[7].sop), mode: 'native' }, { bytes: await blobOf(c.dose.sop), mode: 'native' }]);
    const one = await get(`${ct[7].path}/frames/1`, 'multipart/related; type="application/octet-stream"');
    expect(one.status).to.equal(200);
    const [part] = splitMultipart(one.type, one.bytes);
    expect(part.headers['content-type']).to.equal(`application/octet-stream; transfer-syntax=${EVRLE}`);
    expect(part.body.equals(expected[0].frames[0])).to.equal(true);
    const dose = splitMultipart(...typeBytes(await get(`${c.dose.path}/frames/1,5,15`, 'multipart/related; type=application/octet-stream; transfer-syntax=*')));
    expect(dose.map((p) => p.body.toString('hex'))).to.deep.equal([0, 4, 14].map((k) => expected[1].frames[k].toString('hex')));
    const single = await get(`${ct[7].path}/frames/1`, 'application/octet-stream');
    expect(single.type).to.equal(`application/octet-stream; transfer-syntax=${EVRLE}`);
    expect(Buffer.from(single.bytes).equals(expected[0].frames[0])).to.equal(true);
  });

  it('shows the SEG as its own series, and gives its frames as pydicom unpacks them: byte-per-pixel ones, and one-bit ones starting mid-byte', async () => {
    const series = (await get(`/dicomweb/studies/${seg.study}/series`)).json() as Json[];
    expect(series.map((s) => s['00080060'].Value![0])).to.deep.equal(['CT', 'SEG']);
    const study = (await get(`/dicomweb/studies?StudyInstanceUID=${seg.study}`)).json() as Json[];
    expect(study[0]['00080061'].Value).to.deep.equal(['CT', 'SEG']);
    expect(study[0]['00201208'].Value).to.deep.equal([113]);
    const framesOf = async (target: Target & { frames: number }) => {
      const [expected] = pydicomFrames([{ bytes: await blobOf(target.sop), mode: 'native' }]);
      expect(expected.frames).to.have.length(target.frames);
      const all = Array.from({ length: target.frames }, (_, i) => i + 1).join(',');
      const parts = splitMultipart(...typeBytes(await get(`${target.path}/frames/${all}`, 'multipart/related; type="application/octet-stream"')));
      expect(parts.map((p) => p.body.toString('hex'))).to.deep.equal(expected.frames.map((f) => f.toString('hex')));
      return parts;
    };
    // Limen's SEG over 101 × 122 slices is FRACTIONAL: a byte a pixel.
    expect((await framesOf(seg))[0].body.length).to.equal(101 * 122);
    // 38 × 23 one-bit frames: the second starts at bit 874, two bits into a byte.
    expect((38 * 23) % 8).to.not.equal(0);
    expect((await framesOf(binarySeg))[0].body.length).to.equal(Math.ceil((38 * 23) / 8));
  });

  it('gives compressed frames as stored, with their media type, equal to pydicom\'s fragments', async () => {
    const expected = pydicomFrames([{ bytes: await blobOf(c.jls.sop), mode: 'encapsulated' }, { bytes: await blobOf(c.rgbRle.sop), mode: 'encapsulated' }]);
    const jls = await get(`${c.jls.path}/frames/1`, 'multipart/related; type="image/jls"');
    expect(jls.type).to.match(/^multipart\/related; type="image\/jls"/);
    const [part] = splitMultipart(jls.type, jls.bytes);
    expect(part.headers['content-type']).to.equal('image/jls; transfer-syntax=1.2.840.10008.1.2.4.80');
    expect(part.body.equals(expected[0].frames[0])).to.equal(true);
    const octet = splitMultipart(...typeBytes(await get(`${c.jls.path}/frames/1`, 'multipart/related; type=application/octet-stream; transfer-syntax=*')));
    expect(octet[0].headers['content-type']).to.equal('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.4.80');
    expect(octet[0].body.equals(expected[0].frames[0])).to.equal(true);
    const rgb = splitMultipart(...typeBytes(await get(`${c.rgbRle.path}/frames/2,1`)));
    expect(rgb.map((p) => p.headers['content-type'])).to.deep.equal(Array(2).fill('image/dicom-rle; transfer-syntax=1.2.840.10008.1.2.5'));
    expect(rgb.map((p) => p.body.toString('hex'))).to.deep.equal([expected[1].frames[1], expected[1].frames[0]].map((f) => f.toString('hex')));
  });

  it('decompresses JPEG-LS, RLE and JPEG 2000 frames asked as application/octet-stream: MR_small\'s pixels', async () => {
    for (const t of [c.jls, c.rle, c.j2k]) {
      const [part] = splitMultipart(...typeBytes(await get(`${t.path}/frames/1`, 'multipart/related; type="application/octet-stream"')));
      expect(part.headers['content-type'], t.sop).to.equal(`application/octet-stream; transfer-syntax=${EVRLE}`);
      expect(part.body.equals(MR_PIXELS), t.sop).to.equal(true);
    }
  });

  it('retrieves a compressed instance as Explicit VR Little Endian when asked: pydicom reads the same dataset with MR_small\'s pixels', async () => {
    const r = await get(c.j2k.path, `multipart/related; type="application/dicom"; transfer-syntax=${EVRLE}`);
    expect(r.status).to.equal(200);
    const [part] = splitMultipart(r.type, r.bytes);
    expect(part.headers['content-type']).to.equal(`application/dicom; transfer-syntax=${EVRLE}`);
    const [converted, stored] = pydicomJsonOfBytes([part.body, await blobOf(c.j2k.sop)]);
    expect(compareJson(converted, stored, { skip: ['7FE00010'] })).to.deep.equal([]);
    const [pixels] = pydicomFrames([{ bytes: part.body, mode: 'native' }]);
    expect(pixels.transferSyntax).to.equal(EVRLE);
    expect(pixels.frames[0].equals(MR_PIXELS)).to.equal(true);
  });

  it('answers 406, saying why, when the Accept header asks for what Limen cannot make', async () => {
    const refused = async (path: string, accept: string, why: RegExp) => {
      const r = await get(path, accept);
      expect(r.status, `${path} ${accept}`).to.equal(406);
      expect(r.json().error.code).to.equal('not-acceptable');
      expect(r.json().error.message).to.match(why);
    };
    await refused(c.rgbRle.path, `multipart/related; type="application/dicom"; transfer-syntax=${EVRLE}`, /3 samples per pixel/);
    await refused(c.jpegRgb.path, `multipart/related; type="application/dicom"; transfer-syntax=${EVRLE}`, /stored as 1\.2\.840\.10008\.1\.2\.4\.50/);
    await refused(ct[0].path, 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.80', /as stored or as 1\.2\.840\.10008\.1\.2\.1/);
    await refused(`${c.jpegRgb.path}/frames/1`, 'multipart/related; type="application/octet-stream"', /image\/jpeg/);
    await refused(`${ct[0].path}/frames/1`, 'multipart/related; type="image/jls"', /octet-stream/);
    await refused(`${ct[0].path}/metadata`, 'application/xml', /dicom\+json or multipart\/related; type="application\/dicom\+xml"/);
    await refused(`${ct[0].path}/metadata`, 'application/dicom+xml', /multipart\/related; type="application\/dicom\+xml"/);
  });

  it('serves bulk data single-part or multipart, encapsulated pixel data decompressed or as its frames as asked, and refuses bad paths', async () => {
    const [meta] = (await get(`${ct[3].path}/metadata`)).json() as Json[];
    const uri = new URL(meta['7FE00010'].BulkDataURI!).pathname;
    expect(uri).to.equal(`${ct[3].path}/bulk/7FE00010`);
    const single = await get(uri, 'application/octet-stream');
    const multi = splitMultipart(...typeBytes(await get(uri)));
    expect(Buffer.from(single.bytes).equals(multi[0].body)).to.equal(true);
    const [jlsMeta] = (await get(`${c.jls.path}/metadata`)).json() as Json[];
    const frames = splitMultipart(...typeBytes(await get(new URL(jlsMeta['7FE00010'].BulkDataURI!).pathname)));
    expect(frames[0].headers['content-type']).to.equal('image/jls; transfer-syntax=1.2.840.10008.1.2.4.80');
    // Asked for octet-stream, compressed pixel data comes decompressed (PS3.18 §8.7.3.3), as the frames route sends it;
    // asked for its own media type, as stored.
    const jlsBulk = new URL(jlsMeta['7FE00010'].BulkDataURI!).pathname;
    const octets = await get(jlsBulk, 'application/octet-stream');
    expect(octets.status).to.equal(200);
    expect(octets.type).to.equal(`application/octet-stream; transfer-syntax=${EVRLE}`);
    expect(Buffer.from(octets.bytes).equals(Buffer.from((await get(`${c.jls.path}/frames/1`, 'application/octet-stream')).bytes))).to.equal(true);
    const asked = splitMultipart(...typeBytes(await get(jlsBulk, 'multipart/related; type="image/jls"')));
    expect(asked.map((p) => p.headers['content-type'])).to.deep.equal(['image/jls; transfer-syntax=1.2.840.10008.1.2.4.80']);
    // RGB RLE cannot be decompressed here: the next acceptable range is taken, not a 406; several
    // compressed frames do not fit a single-part body.
    const [rgbMeta] = (await get(`${c.rgbRle.path}/metadata`)).json() as Json[];
    const rgbBulk = new URL(rgbMeta['7FE00010'].BulkDataURI!).pathname;
    const fallback = 'multipart/related; type="application/octet-stream", multipart/related; type="image/dicom-rle"; q=0.5';
    expect(splitMultipart(...typeBytes(await get(rgbBulk, fallback))).map((p) => p.headers['content-type'].split(';')[0])).to.deep.equal(['image/dicom-rle', 'image/dicom-rle']);
    expect(splitMultipart(...typeBytes(await get(`${c.rgbRle.path}/frames/1`, fallback)))[0].headers['content-type'].split(';')[0]).to.equal('image/dicom-rle');
    expect((await get(rgbBulk, 'image/dicom-rle')).status).to.equal(406);
    const asStored = await get(c.rgbRle.path, `multipart/related; type="application/dicom"; transfer-syntax=${EVRLE}, multipart/related; type="application/dicom"; transfer-syntax=*; q=0.5`);
    expect(asStored.status).to.equal(200);
    expect(splitMultipart(...typeBytes(asStored))[0].headers['content-type']).to.equal('application/dicom; transfer-syntax=1.2.840.10008.1.2.5');
    expect((await get(`${ct[3].path}/bulk/7FE0`)).status).to.equal(400);
    // A line break in the path is one more thing a bulk data path is not (it was a 405 that allowed GET).
    expect((await get(`${ct[3].path}/bulk/7FE00010%0A`)).status).to.equal(400);
    expect((await get(`${ct[3].path}/bulk/00420011`)).status).to.equal(404);
    expect((await get(`${ct[3].path}/bulk/00120064/7/00080100`)).status).to.equal(404);
  });

  it('answers 404 for what does not exist or is not where the path says, 400 for malformed frame lists', async () => {
    expect((await get(`/dicomweb/studies/${ct[0].study}/series/${seg.series}/instances/${ct[0].sop}`)).status).to.equal(404);
    expect((await get(`/dicomweb/studies/${c.jls.study}`)).status).to.equal(200);
    expect((await get(`/dicomweb/studies/2.25.1`)).status).to.equal(404);
    expect((await get(`/dicomweb/studies/2.25.1/metadata`)).status).to.equal(404);
    const past = await get(`${ct[0].path}/frames/2`);
    expect(past.status).to.equal(404);
    expect(past.json().error.code).to.equal('frame-not-found');
    expect((await get(`${ct[0].path}/frames/0`)).status).to.equal(400);
    expect((await get(`${ct[0].path}/frames/1-3`)).status).to.equal(400);
    // PS3.18: non-duplicate frame numbers (%2C is a comma too).
    const twice = await get(`${c.jls.path}/frames/1%2C1`);
    expect(twice.status).to.equal(400);
    expect(twice.json().error).to.deep.equal({ code: 'invalid-frame-list', message: 'frame 1 is listed more than once; a frame list names each frame once' });
    expect((await get(`/dicomweb/studies/${ct[0].study}/series/x.y/metadata`)).status).to.equal(400);
  });

  it('serves no PHI and no original UID of ct-fakephi in any search, retrieve, metadata or frame response', async () => {
    for (const path of [
      `/dicomweb/studies?includefield=all`,
      `/dicomweb/series?includefield=all`,
      `/dicomweb/studies/${ct[0].study}/instances?includefield=all`,
      `/dicomweb/studies/${ct[0].study}/metadata`,
      `${ct[9].path}/frames/1`,
    ]) {
      const r = await get(path);
      expect(r.status, path).to.equal(200);
      served.push({ name: path, bytes: r.bytes });
    }
    expect(served.length).to.be.greaterThan(20);
    const hits = scanResidualPhi(served, [...CT_FAKEPHI_VALUES, ...Object.values(CT_FAKEPHI_UIDS)]);
    const bytesOf = (source: string) =>
      source.endsWith(' (its name)') ? Buffer.from(source.slice(0, -' (its name)'.length)) : served.find((s) => s.name === source)?.bytes;
    expect(hits.filter((hit) => !insidePseudonymousUID(bytesOf(hit.source), hit.needle, hit.offset))).to.deep.equal([]);
  });
});


function typeBytes(r: { type: string | null; bytes: Uint8Array }): [string | null, Uint8Array] {
  return [r.type, r.bytes];
}

function bulkURIs(ds: Json): string[] {
  const out: string[] = [];
  for (const a of Object.values(ds)) {
    if (a.BulkDataURI) out.push(a.BulkDataURI);
    if (a.vr === 'SQ') for (const item of (a.Value ?? []) as Json[]) out.push(...bulkURIs(item));
  }
  return out;
}

function xmlBulkURIs(ds: XmlDataset): string[] {
  return Object.values(ds).flatMap((a) => a.values.flatMap((v) => (v.kind === 'bulk' && v.uri ? [v.uri] : v.kind === 'item' ? xmlBulkURIs(v.dataset) : [])));
}
