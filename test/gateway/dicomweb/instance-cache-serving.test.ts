/**
 * The cache of decrypted instances, as the read routes use it over a real storage: a series'
 * metadata fills it and the frame requests after it are served from it; it never holds, nor
 * serves, an instance that failed authentication; it serves nothing storage no longer lists as it
 * was decrypted; an erased study leaves it within its time to live.
 */
import { expect } from 'chai';
import { dicom } from '../../../anonymizer/index.js';
import { CT_FAKEPHI_FILES } from '../../support/fakephi.js';
import { makeReadHarness, splitMultipart, type ReadHarness } from './read-harness.js';
import { uid } from './variants.js';

const OCTET = 'multipart/related; type="application/octet-stream"';

describe('gateway/dicomweb instance cache over real storage', function () {
  this.timeout(60_000);
  let h: ReadHarness;
  let now: number;
  let study: string;
  let series: string;
  let sops: string[];
  let files: Uint8Array[];

  const seriesPath = () => `/dicomweb/studies/${study}/series/${series}`;
  const framePath = (sop: string) => `${seriesPath()}/instances/${sop}/frames/1`;
  const frame = async (sop: string): Promise<{ status: number; body?: Buffer; code?: string }> => {
    const r = await h.get(framePath(sop), { accept: OCTET });
    if (r.status !== 200) return { status: r.status, code: ((await r.json()) as { error: { code: string } }).error.code };
    return { status: 200, body: splitMultipart(r.headers.get('content-type'), new Uint8Array(await r.arrayBuffer()))[0].body };
  };
  /** The frame as storage gives it now, decrypted anew. */
  const storedFrame = async (sop: string): Promise<Buffer> => {
    const blob = await h.storage.getInstanceBlob(sop);
    return Buffer.from(dicom.find(dicom.readPart10(blob!.bytes).dataset, dicom.T.PixelData)!.value!);
  };

  beforeEach(async () => {
    now = 1_000_000;
    h = await makeReadHarness({ instanceCache: { ttlMs: 10_000, now: () => now } });
    ({ files, study, series, sops } = await h.seedSeries(CT_FAKEPHI_FILES.slice(0, 3)));
  });
  afterEach(async () => {
    await h?.dispose();
  });

  const tamper = (sop: string) => h.tamper(study, sop);

  it("fills from a series' metadata and serves the frames after it, byte for byte as storage decrypts them", async () => {
    expect((await h.get(`${seriesPath()}/metadata`)).status).to.equal(200);
    expect(h.cache.size).to.equal(3);
    for (const sop of sops) {
      const f = await frame(sop);
      expect(f.status).to.equal(200);
      expect(f.body!.equals(await storedFrame(sop))).to.equal(true);
    }
  });

  it('keeps no single-frame instance that only a frame request read: it was served whole', async () => {
    expect((await frame(sops[0])).status).to.equal(200);
    expect(h.cache.size).to.equal(0);
  });

  it('never holds, nor serves, an instance whose blob fails authentication', async () => {
    await tamper(sops[1]);
    const metadata = await h.get(`${seriesPath()}/metadata`);
    expect(metadata.status).to.equal(500);
    expect(h.cache.get(sops[1])).to.equal(undefined);
    const f = await frame(sops[1]);
    expect([f.status, f.code]).to.deep.equal([500, 'blob-corrupt']);
    expect(h.cache.get(sops[1])).to.equal(undefined);
    // The authentic ones still serve.
    expect((await frame(sops[0])).status).to.equal(200);
  });

  it('serves a cached instance only where storage lists it: not under another series, not once removed', async () => {
    await h.get(`${seriesPath()}/metadata`);
    expect(h.cache.size).to.equal(3);
    const elsewhere = await h.get(`/dicomweb/studies/${study}/series/${uid()}/instances/${sops[0]}/frames/1`, { accept: OCTET });
    expect(elsewhere.status).to.equal(404);
    await h.storage.removeSeries(study, series);
    expect((await frame(sops[0])).status).to.equal(404);
    expect(h.cache.get(sops[0])).to.equal(undefined);
  });

  it('serves the new bytes of an instance removed and stored again under the same UIDs', async () => {
    await h.get(`${seriesPath()}/metadata`);
    const before = await frame(sops[0]);
    await h.storage.removeSeries(study, series);
    await new Promise((r) => setTimeout(r, 5)); // a later arrival time
    // The same instance (same UIDs, so the same pseudonyms), one pixel changed: the same size.
    const parsed = dicom.readPart10(files[0]);
    const pixels = dicom.find(parsed.dataset, dicom.T.PixelData)!;
    pixels.value = Uint8Array.from(pixels.value!);
    pixels.value[0] ^= 0xff;
    const sop = dicom.stringOf(dicom.find(parsed.dataset, dicom.T.SOPInstanceUID))!;
    const meta = { mediaStorageSOPClassUID: dicom.stringOf(dicom.find(parsed.dataset, dicom.T.SOPClassUID))!, mediaStorageSOPInstanceUID: sop, transferSyntaxUID: dicom.EXPLICIT_VR_LITTLE_ENDIAN, implementationClassUID: '2.25.1', implementationVersionName: 'LIMEN_TEST' };
    await h.seed([dicom.writePart10(meta, parsed.dataset)]);
    const after = await frame(sops[0]);
    expect(after.status).to.equal(200);
    expect(after.body!.equals(before.body!)).to.equal(false);
    expect(after.body!.equals(await storedFrame(sops[0]))).to.equal(true);
  });

  it('stops serving an erased study (its key destroyed) once its entries outlive their time to live', async () => {
    await h.get(`${seriesPath()}/metadata`);
    expect(await h.storage.destroyStudyKey(study)).to.equal(true);
    now += 10_001;
    const f = await frame(sops[0]);
    expect([f.status, f.code]).to.deep.equal([410, 'erased']);
    expect((await h.get(`${seriesPath()}/metadata`)).status).to.equal(410);
  });
});
