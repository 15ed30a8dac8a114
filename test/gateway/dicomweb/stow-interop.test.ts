/**
 * STOW-RS against the real server, with independent clients: curl (its own multipart
 * encoder) and dicomweb-client (the OHIF ecosystem's client, through the xhr2 polyfill).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { api } from 'dicomweb-client';
import { createHttpApp, HttpService } from '../../../gateway/http/index.js';
import { requirePeers } from '../../support/peers.js';
import { readNativeXml, type XmlDataset } from './dcmtk-xml.js';
import { CT_STUDY_UID, ctFile, inOtherStudy, loadFixtures, makeHarness, type Fixture, type Harness } from '../http/harness.js';

const run = promisify(execFile);
// xhr2 ships no types; it only needs to be a constructor for dicomweb-client.
const XMLHttpRequestPolyfill: unknown = createRequire(import.meta.url)('xhr2');

type Json = Record<string, { vr: string; Value?: unknown[] }>;
const referenced = (json: Json, tag = '00081199') =>
  ((json[tag]?.Value ?? []) as Json[]).map((i) => [i['00081150'].Value?.[0], i['00081155'].Value?.[0]]);

describe('gateway/dicomweb STOW-RS interop (real server)', () => {
  let ct: Fixture[];
  let h: Harness;
  let svc: HttpService;
  let base: string;
  let tmp: string;

  before(async function () {
    requirePeers(this, 'python3-pydicom');
    ct = loadFixtures([ctFile(1), ctFile(2)]);
    h = makeHarness({ options: { maxInstanceBytes: 1024 * 1024 } });
    svc = new HttpService({ fetch: createHttpApp(h.deps).fetch, host: '127.0.0.1', port: 0, logger: h.deps.logger });
    await svc.start();
    base = `http://127.0.0.1:${svc.address!.port}`;
    tmp = mkdtempSync(join(tmpdir(), 'limen-stow-'));
  });

  after(async () => {
    await svc?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  beforeEach(() => {
    h.ingest.calls.length = 0;
  });

  it('curl posts two ct-fakephi instances as multipart/related: 200, both referenced by their own UIDs', async () => {
    const { stdout } = await run('curl', [
      '-sS',
      '-w', '\n%{http_code} %{content_type}',
      '-H', 'Authorization: Bearer modality-token',
      '-H', 'Content-Type: multipart/related; type="application/dicom"',
      '-F', `part1=@${ct[0].file};type=application/dicom`,
      '-F', `part2=@${ct[1].file};type=application/dicom`,
      `${base}/dicomweb/studies/${CT_STUDY_UID}`,
    ]);
    const [body, statusLine] = stdout.split('\n');
    expect(statusLine).to.equal('200 application/dicom+json');
    expect(referenced(JSON.parse(body))).to.deep.equal(ct.map((f) => [f.sopClassUID, f.sopInstanceUID]));
    expect(h.ingest.calls.map((c) => Buffer.from(c.bytes).equals(ct[h.ingest.calls.indexOf(c)].bytes))).to.deep.equal([true, true]);
    expect(h.ingest.calls[0].source.remoteAddress).to.match(/127\.0\.0\.1$/);
  });

  it('curl asking for application/dicom+xml gets the Store Instances Response as the Native DICOM Model: 202, one stored, one failed', async () => {
    const stranger = inOtherStudy(ct[1]);
    const file = join(tmp, 'stranger.dcm');
    writeFileSync(file, stranger.bytes);
    const { stdout } = await run('curl', [
      '-sS',
      '-w', '\n%{http_code} %{content_type}',
      '-H', 'Authorization: Bearer modality-token',
      '-H', 'Accept: application/dicom+json; q=0.5, application/dicom+xml',
      '-H', 'Content-Type: multipart/related; type="application/dicom"',
      '-F', `part1=@${ct[0].file};type=application/dicom`,
      '-F', `part2=@${file};type=application/dicom`,
      `${base}/dicomweb/studies/${CT_STUDY_UID}`,
    ]);
    const statusLine = stdout.slice(stdout.lastIndexOf('\n') + 1);
    expect(statusLine).to.equal('202 application/dicom+xml');
    const [doc] = readNativeXml([stdout.slice(0, stdout.lastIndexOf('\n'))]);
    expect(doc.root).to.equal('{http://dicom.nema.org/PS3.19/models/NativeDICOM}NativeDicomModel');
    const items = (tag: string) => doc.dataset[tag].values.map((v) => (v.kind === 'item' ? v.dataset : {}));
    const text = (ds: XmlDataset, tag: string) => ds[tag].values.map((v) => (v.kind === 'value' ? v.text : ''));
    expect(doc.dataset['00081190']).to.deep.equal({ vr: 'UR', keyword: 'RetrieveURL', privateCreator: null, values: [] });
    expect(items('00081199').map((i) => [...text(i, '00081150'), ...text(i, '00081155')])).to.deep.equal([[ct[0].sopClassUID, ct[0].sopInstanceUID]]);
    const [failed] = items('00081198');
    expect(text(failed, '00081155')).to.deep.equal([stranger.sopInstanceUID]);
    expect(text(failed, '00081197')).to.deep.equal([String(0xa900)]);
    expect(text(failed, '00000902')[0]).to.match(/StudyInstanceUID differs/);
  });

  it('answers 406 before reading the body when Accept takes neither DICOM JSON nor XML', async () => {
    const r = await fetch(`${base}/dicomweb/studies`, {
      method: 'POST',
      headers: { authorization: 'Bearer modality-token', accept: 'application/dicom+json; q=0, text/html', 'content-type': 'multipart/related; type="application/dicom"; boundary=x' },
      body: '--x--',
    });
    expect(r.status).to.equal(406);
    expect(((await r.json()) as { error: { message: string } }).error.message).to.match(/application\/dicom\+json or application\/dicom\+xml/);
    expect(h.ingest.calls).to.have.length(0);
  });

  it('curl gets 413 for an instance over the limit, and the server stays up', async () => {
    const big = join(tmp, 'big.bin');
    writeFileSync(big, Buffer.alloc(48 * 1024 * 1024, 7));
    const { stdout } = await run('curl', [
      '-sS',
      '-w', '\n%{http_code}',
      '-H', 'Authorization: Bearer modality-token',
      '-H', 'Content-Type: multipart/related; type="application/dicom"',
      '-F', `part1=@${big};type=application/dicom`,
      `${base}/dicomweb/studies`,
    ]).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
    const lines = stdout.trim().split('\n');
    expect(lines.at(-1)).to.equal('413');
    expect(JSON.parse(lines[0]).error.code).to.equal('instance-too-large');
    expect(h.ingest.calls).to.have.length(0);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).to.equal(200);
  });

  describe('dicomweb-client storeInstances', () => {
    const saved = (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest;
    before(() => {
      (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = XMLHttpRequestPolyfill;
    });
    after(() => {
      (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = saved;
    });

    const client = (token: string) =>
      new api.DICOMwebClient({ url: `${base}/dicomweb`, headers: { Authorization: `Bearer ${token}` }, verbose: false } as never);
    const buffers = (fs: Fixture[]) => fs.map((f) => f.bytes.buffer.slice(f.bytes.byteOffset, f.bytes.byteOffset + f.bytes.byteLength));

    it('stores two instances (200) and gets the Store Instances Response', async () => {
      const response = await client('modality-token').storeInstances({ datasets: buffers(ct) } as never);
      const json = JSON.parse(response as unknown as string) as Json;
      expect(referenced(json)).to.deep.equal(ct.map((f) => [f.sopClassUID, f.sopInstanceUID]));
      expect(h.ingest.calls).to.have.length(2);
      expect(h.ingest.calls[1].source.tokenUser).to.equal('ct-scanner-7');
    });

    it('into a named study: 409 when every instance belongs to another study', async () => {
      const strangers = ct.map(inOtherStudy);
      try {
        await client('modality-token').storeInstances({ datasets: buffers(strangers), studyInstanceUID: CT_STUDY_UID } as never);
        expect.fail('storeInstances resolved');
      } catch (err) {
        const e = err as { status?: number; response?: string };
        expect(e.status).to.equal(409);
        const json = JSON.parse(e.response!) as Json;
        expect(referenced(json, '00081198')).to.deep.equal(strangers.map((f) => [f.sopClassUID, f.sopInstanceUID]));
      }
      expect(h.ingest.calls).to.have.length(0);
    });

    it('is refused with 401 for an unknown token', async () => {
      try {
        await client('nope').storeInstances({ datasets: buffers(ct.slice(0, 1)) } as never);
        expect.fail('storeInstances resolved');
      } catch (err) {
        expect((err as { status?: number }).status).to.equal(401);
      }
    });
  });
});
