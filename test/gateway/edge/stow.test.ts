/**
 * STOW-RS into a real gateway (the edge, storage and HTTP server in process, on a temporary
 * data dir) with independent clients: dicomweb-client (OHIF's client, through the xhr2
 * polyfill) and curl. What is stored is de-identified and visible in the admin API; bad
 * requests get their status (400, 401, 403, 413, 415) and store nothing; no PHI stays at rest.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { api as dicomweb } from 'dicomweb-client';
import { PROCESS_JOB } from '../../../storage/index.js';
import { curl, multipartRelated } from '../../support/curl.js';
import { CT_FAKEPHI_FILES, CT_FAKEPHI_UIDS, phiAtRest } from '../../support/fakephi.js';
import { readTree } from '../../support/files.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { requirePeers } from '../../support/peers.js';
import { until } from '../../support/wait.js';

const run = promisify(execFile);
// xhr2 ships no types; dicomweb-client only needs a constructor on globalThis. dicomweb-client's
// own option types are wrong in places, hence the `as never` on its options below.
const XMLHttpRequestPolyfill: unknown = createRequire(import.meta.url)('xhr2');

const MAX_INSTANCE_BYTES = 64 * 1024;
const CONFIG = `
http:
  maxInstanceBytes: ${MAX_INSTANCE_BYTES}
routes:
  default:
    # Long enough that a loaded machine's pause between two of the requests below does not
    # complete the study early (a later one would reopen it); short enough to wait out.
    stableSeconds: 4
# The edge alone: processing is another suite's business.
worker:
  enabled: false
`;

type Json = Record<string, { vr: string; Value?: unknown[] }>;
/** [SOP Class UID, SOP Instance UID] of each item of a Store Instances Response sequence. */
const references = (json: Json, tag: string) =>
  ((json[tag]?.Value ?? []) as Json[]).map((i) => [i['00081150']?.Value?.[0], i['00081155']?.Value?.[0]]);
const REFERENCED = '00081199';
const FAILED = '00081198';

/** The original SOP Class and Instance UIDs as DCMTK's dcmdump reads them (an independent reader). */
async function originalUIDs(files: string[]): Promise<string[][]> {
  const { stdout } = await run('dcmdump', ['-q', '-Un', '+P', '0008,0016', '+P', '0008,0018', ...files], { maxBuffer: 16 << 20 });
  const values = [...stdout.matchAll(/\[([0-9.]+)\]/g)].map((m) => m[1]);
  return files.map((_, i) => [values[2 * i], values[2 * i + 1]]);
}

describe('edge: STOW-RS into a real gateway with dicomweb-client and curl', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let tmp: string;
  let tokens: { admin: string; modality: string; requester: string };

  before(async function () {
    requirePeers(this, 'dcmtk');
    if (!existsSync('/usr/bin/curl')) {
      if (process.env.CI === 'true') throw new Error('curl is missing (apt-get install curl)');
      this.skip();
    }
    gw = await startTestGateway(CONFIG);
    tmp = mkdtempSync(join(tmpdir(), 'limen-stow-edge-'));
    const create = async (role: 'admin' | 'modality' | 'requester') => (await gw.storage.createToken({ role, user: `test-${role}`, ttlSeconds: 3600 })).token;
    tokens = { admin: await create('admin'), modality: await create('modality'), requester: await create('requester') };
  });

  after(async () => {
    await gw?.dispose();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const studies = async (): Promise<Array<{ studyInstanceUID: string; instanceCount: number; status: string }>> => {
    const r = await fetch(`${gw.base}/api/v1/studies`, { headers: { authorization: `Bearer ${tokens.admin}` } });
    expect(r.status).to.equal(200);
    return ((await r.json()) as { studies: Array<{ studyInstanceUID: string; instanceCount: number; status: string }> }).studies;
  };
  const instanceTotal = async () => (await studies()).reduce((n, s) => n + s.instanceCount, 0);

  /** Posts a body with curl; the body goes through a file so curl sends it byte for byte. */
  const post = async (body: Buffer, headers: Record<string, string>, path = '/dicomweb/studies', curlArgs: string[] = []) => {
    const file = join(tmp, `body-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, body);
    const args = ['-X', 'POST', '--data-binary', `@${file}`, ...curlArgs];
    for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
    return curl([...args, `${gw.base}${path}`]);
  };
  const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });

  describe('dicomweb-client (xhr2 polyfill)', () => {
    const saved = (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest;
    before(() => {
      (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = XMLHttpRequestPolyfill;
    });
    after(() => {
      (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = saved;
    });

    it('stores 10 instances of ct-fakephi: 200, all referenced, and the de-identified study appears in /api/v1/studies', async () => {
      const files = CT_FAKEPHI_FILES.slice(0, 10);
      const requests: Array<{ status: number }> = [];
      const client = new dicomweb.DICOMwebClient({
        url: `${gw.base}/dicomweb`,
        headers: bearer(tokens.modality),
        verbose: false,
        requestHooks: [(request: { status: number }, _metadata: unknown) => (requests.push(request), request)],
      } as never);
      const datasets = files.map((f) => {
        const b = readFileSync(f);
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
      });
      const response = await client.storeInstances({ datasets } as never);
      expect(requests.map((r) => r.status)).to.deep.equal([200]);
      const json = JSON.parse(response as unknown as string) as Json;
      expect(references(json, REFERENCED)).to.deep.equal(await originalUIDs(files));
      expect(json[FAILED]).to.equal(undefined);

      const listed = await studies();
      expect(listed).to.have.length(1);
      expect(listed[0].studyInstanceUID).to.match(/^2\.25\.\d+$/).and.not.equal(CT_FAKEPHI_UIDS.studyInstanceUID);
      expect(listed[0].instanceCount).to.equal(10);
    });

    it('is refused with 401 for a wrong token, and nothing is stored', async () => {
      const client = new dicomweb.DICOMwebClient({ url: `${gw.base}/dicomweb`, headers: bearer('limen_not-a-real-token'), verbose: false } as never);
      const b = readFileSync(CT_FAKEPHI_FILES[10]);
      const err = await client.storeInstances({ datasets: [b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)] } as never).then(
        () => expect.fail('storeInstances resolved'),
        (e: { status?: number }) => e,
      );
      expect(err.status).to.equal(401);
      expect(await instanceTotal()).to.equal(10);
    });
  });

  describe('curl', () => {
    it('posts a hand-framed multipart/related body into the named study: 200 with every instance referenced, each traced to its token and address', async () => {
      const files = CT_FAKEPHI_FILES.slice(10, 20);
      const { body, contentType } = multipartRelated(files.map((f) => readFileSync(f)));
      const headerFile = join(tmp, 'hand-framed.headers');
      const anonymous = await gw.storage.createToken({ role: 'modality', ttlSeconds: 3600 });
      const r = await post(body, { ...bearer(anonymous.token), 'Content-Type': contentType, Accept: 'application/dicom+json', 'X-Request-Id': 'ACC-2023-0042' }, `/dicomweb/studies/${CT_FAKEPHI_UIDS.studyInstanceUID}`, ['-D', headerFile]);
      expect(r.status, r.body).to.equal(200);
      // Each instance's audit event names the request it came in, by the id the sender was answered
      // (Limen's own: the sender's free text is not taken).
      const requestId = /^x-request-id: *(\S+)/im.exec(readFileSync(headerFile, 'latin1'))?.[1];
      expect(requestId).to.match(/^[0-9a-f-]{36}$/);
      const events = (await gw.storage.audit.list({ type: 'instance.stored', limit: 1000 } as never)).filter((e: { detail: { requestId?: string } }) => e.detail.requestId === requestId);
      expect(events).to.have.length(files.length);
      for (const e of events) expect(e.detail).to.include({ source: 'stow' }).and.not.have.property('associationId');
      // The token that sent it, named as `limen token list` names it: accountable when the token has no user.
      expect(new Set(events.map((e) => e.actor))).to.deep.equal(new Set([`token:${anonymous.id}`]));
      // The request's own event, written before its instances: the token and the address it came from.
      const [request] = (await gw.storage.audit.list({ type: 'stow.request', limit: 1000 } as never)).filter((e: { detail: { requestId?: string } }) => e.detail.requestId === requestId);
      expect(request.actor).to.equal(`token:${anonymous.id}`);
      expect(request.detail).to.deep.equal({ requestId, route: 'default', tokenId: anonymous.id, role: 'modality', remoteAddress: '127.0.0.1' });
      expect(request.seq).to.be.below(Math.min(...events.map((e) => e.seq)));
      expect(r.contentType).to.equal('application/dicom+json');
      const json = JSON.parse(r.body) as Json;
      expect(references(json, REFERENCED)).to.deep.equal(await originalUIDs(files));
      expect(json[FAILED]).to.equal(undefined);
      const listed = await studies();
      expect(listed).to.have.length(1);
      expect(listed[0].instanceCount).to.equal(20);
    });

    it('curl -F with type=application/dicom parts: 200', async () => {
      const files = CT_FAKEPHI_FILES.slice(20, 22);
      const r = await curl([
        '-H', `Authorization: Bearer ${tokens.modality}`,
        '-H', 'Content-Type: multipart/related; type="application/dicom"',
        ...files.flatMap((f, i) => ['-F', `part${i}=@${f};type=application/dicom`]),
        `${gw.base}/dicomweb/studies`,
      ]);
      expect(r.status, r.body).to.equal(200);
      expect(references(JSON.parse(r.body) as Json, REFERENCED)).to.have.length(2);
      expect(await instanceTotal()).to.equal(22);
    });

    it('a broken multipart body (the closing delimiter never comes): 400 with the reason, nothing half-stored', async () => {
      const part = readFileSync(CT_FAKEPHI_FILES[30]);
      const body = Buffer.concat([Buffer.from('--cut-short\r\nContent-Type: application/dicom\r\n\r\n'), part.subarray(0, 5000)]);
      const r = await post(body, { ...bearer(tokens.modality), 'Content-Type': 'multipart/related; type="application/dicom"; boundary=cut-short' });
      expect(r.status, r.body).to.equal(400);
      const error = (JSON.parse(r.body) as { error: { code: string; message: string } }).error;
      expect(error.code).to.equal('invalid-multipart');
      expect(error.message).to.have.length.greaterThan(10);
      expect(await instanceTotal()).to.equal(22);
    });

    it('a body without any boundary delimiter: 400', async () => {
      const r = await post(Buffer.from('this is not multipart at all\r\n'), { ...bearer(tokens.modality), 'Content-Type': 'multipart/related; type="application/dicom"; boundary=nowhere' });
      expect(r.status, r.body).to.equal(400);
      expect((JSON.parse(r.body) as { error: { code: string } }).error.code).to.equal('invalid-multipart');
    });

    it(`a part larger than http.maxInstanceBytes (${MAX_INSTANCE_BYTES}): 413, nothing stored, the server stays up`, async () => {
      // A real instance with padding past the cap: the size is checked as the part streams in, before parsing.
      const big = Buffer.concat([readFileSync(CT_FAKEPHI_FILES[40]), Buffer.alloc(3 * MAX_INSTANCE_BYTES, 0)]);
      const { body, contentType } = multipartRelated([big]);
      const r = await post(body, { ...bearer(tokens.modality), 'Content-Type': contentType });
      expect(r.status, r.body || r.stderr).to.equal(413);
      expect((JSON.parse(r.body) as { error: { code: string } }).error.code).to.equal('instance-too-large');
      expect((await fetch(`${gw.base}/healthz`)).status).to.equal(200);
      expect(await instanceTotal()).to.equal(22);
    });

    it('the wrong media type: 415', async () => {
      const r = await post(readFileSync(CT_FAKEPHI_FILES[41]), { ...bearer(tokens.modality), 'Content-Type': 'application/dicom' });
      expect(r.status, r.body).to.equal(415);
    });

    it('no token, a malformed header or an unknown token: 401 with a Bearer challenge', async () => {
      const { body, contentType } = multipartRelated([readFileSync(CT_FAKEPHI_FILES[42])]);
      for (const auth of [{}, { Authorization: 'Basic dXNlcjpwYXNz' }, bearer('limen_0000000000000000000000000000')]) {
        const r = await post(body, { ...auth, 'Content-Type': contentType });
        expect(r.status, JSON.stringify(auth)).to.equal(401);
      }
      const head = await curl(['-o', '/dev/null', '-D', '-', '-X', 'POST', '-H', `Content-Type: ${contentType}`, `${gw.base}/dicomweb/studies`]);
      expect(head.body).to.match(/^www-authenticate: Bearer realm="limen"/im);
      expect(await instanceTotal()).to.equal(22);
    });

    it('a requester token (a person, not a modality): 403', async () => {
      const { body, contentType } = multipartRelated([readFileSync(CT_FAKEPHI_FILES[43])]);
      const r = await post(body, { ...bearer(tokens.requester), 'Content-Type': contentType });
      expect(r.status, r.body).to.equal(403);
      expect((JSON.parse(r.body) as { error: { code: string } }).error.code).to.equal('forbidden');
      expect(await instanceTotal()).to.equal(22);
    });
  });

  describe('an instance that is not what its file meta says', () => {
    it('fails alone with 0xA900 under the UID its meta announced, the other part is stored: 202', async () => {
      // The data set's SOP Instance UID gets another last digit; the file meta keeps it (PS3.10 7.1 wants them equal).
      // (dcmodify would rewrite the meta to match, so the bytes are edited in place: same length, nothing else moves.)
      const mismatched = readFileSync(CT_FAKEPHI_FILES[50]);
      const [[, sop]] = await originalUIDs([CT_FAKEPHI_FILES[50]]);
      const inDataSet = mismatched.indexOf(sop, mismatched.indexOf(sop) + sop.length) + sop.length - 1;
      mismatched[inDataSet] = mismatched[inDataSet] === 0x31 ? 0x32 : 0x31;
      const { body, contentType } = multipartRelated([mismatched, readFileSync(CT_FAKEPHI_FILES[51])]);
      const r = await post(body, { ...bearer(tokens.modality), 'Content-Type': contentType, Accept: 'application/dicom+json' });
      expect(r.status, r.body).to.equal(202);
      const json = JSON.parse(r.body) as Json;
      expect(references(json, FAILED)).to.deep.equal(await originalUIDs([CT_FAKEPHI_FILES[50]]));
      expect(((json[FAILED].Value as Json[])[0]['00081197'].Value as number[])[0]).to.equal(0xa900);
      expect(references(json, REFERENCED)).to.deep.equal(await originalUIDs([CT_FAKEPHI_FILES[51]]));
      expect(await instanceTotal()).to.equal(23);
    });

    it('fails alone with 0xC122 (Referenced Transfer Syntax not supported) when its transfer syntax is one Limen cannot read: 202', async () => {
      // The file meta's Transfer Syntax UID becomes a private one of the same length (20 bytes, padded); nothing else moves.
      const unknown = readFileSync(CT_FAKEPHI_FILES[52]);
      const at = unknown.indexOf('1.2.840.10008.1.2.1\0');
      expect(at).to.be.greaterThan(0).and.lessThan(unknown.readUInt32LE(140) + 144);
      unknown.write('1.2.826.0.1.3680043\0', at, 'latin1');
      const { body, contentType } = multipartRelated([unknown, readFileSync(CT_FAKEPHI_FILES[53])]);
      const r = await post(body, { ...bearer(tokens.modality), 'Content-Type': contentType, Accept: 'application/dicom+json' });
      expect(r.status, r.body).to.equal(202);
      const json = JSON.parse(r.body) as Json;
      expect(references(json, FAILED)).to.deep.equal(await originalUIDs([CT_FAKEPHI_FILES[52]]));
      expect(((json[FAILED].Value as Json[])[0]['00081197'].Value as number[])[0]).to.equal(0xc122);
      expect(await instanceTotal()).to.equal(24);
    });
  });

  describe('afterwards', () => {
    it('the study completes after its stable time, once, with one process job', async () => {
      const status = await until(async () => {
        const s = (await studies())[0].status;
        return s !== 'receiving' ? s : undefined;
      }, 30_000, 'the study to complete');
      expect(status).to.equal('complete');
      const uid = (await studies())[0].studyInstanceUID;
      expect(await gw.storage.audit.list({ type: 'study.complete', studyInstanceUID: uid })).to.have.length(1);
      expect(await gw.storage.jobs.list({ type: PROCESS_JOB, studyInstanceUID: uid })).to.have.length(1);
    });

    it('worker.enabled: false is honoured: the process job stays queued and the study stays complete', async () => {
      const uid = (await studies())[0].studyInstanceUID;
      await new Promise((r) => setTimeout(r, 2_500)); // more than two worker poll intervals (1 s)
      expect((await studies())[0].status).to.equal('complete');
      expect((await gw.storage.jobs.list({ type: PROCESS_JOB, studyInstanceUID: uid })).map((j) => j.status)).to.deep.equal(['queued']);
    });

    it("records who read the study's images: one study.accessed event per person and study, however many requests", async () => {
      const uid = (await studies())[0].studyInstanceUID;
      for (const path of ['metadata', 'series']) {
        const r = await fetch(`${gw.base}/dicomweb/studies/${uid}/${path}`, { headers: bearer(tokens.admin) });
        expect(r.status, path).to.equal(200);
      }
      const events = await gw.storage.audit.list({ type: 'study.accessed', studyInstanceUID: uid });
      expect(events.map((e) => [e.actor, e.detail])).to.deep.equal([['test-admin', { role: 'admin', tokenId: events[0].detail.tokenId, via: 'dicomweb' }]]);
      // A search for the study's instances outside its path reads as much as its metadata does.
      const reviewer = (await gw.storage.createToken({ role: 'reviewer', user: 'dr-search', ttlSeconds: 3600 })).token;
      const search = await fetch(`${gw.base}/dicomweb/instances?StudyInstanceUID=${uid}&includefield=all`, { headers: bearer(reviewer) });
      expect(search.status).to.equal(200);
      const after = await gw.storage.audit.list({ type: 'study.accessed', studyInstanceUID: uid });
      expect(after.map((e) => e.actor)).to.deep.equal(['test-admin', 'dr-search']);
    });

    it('records viewer sign-ins and sign-outs in the audit trail, and logs a refused person as a refused sender', async () => {
      const reviewer = (await gw.storage.createToken({ role: 'reviewer', user: 'dr-session', ttlSeconds: 3600 })).token;
      const opened = await fetch(`${gw.base}/api/v1/session`, { method: 'POST', headers: bearer(reviewer) });
      expect(opened.status).to.equal(201);
      const cookie = opened.headers.get('set-cookie')!.split(';')[0];
      expect((await fetch(`${gw.base}/api/v1/session`, { method: 'DELETE', headers: { cookie, origin: gw.base } })).status).to.equal(204);
      const events = (await gw.storage.audit.list({ limit: 10_000 })).filter((e) => e.type.startsWith('session.') && e.actor === 'dr-session');
      expect(events.map((e) => [e.type, e.detail.role, e.detail.method])).to.deep.equal([
        ['session.opened', 'reviewer', 'api-token'],
        ['session.closed', 'reviewer', 'api-token'],
      ]);
      expect((await fetch(`${gw.base}/api/v1/reviews`, { headers: bearer('not-a-token') })).status).to.equal(401);
      expect(gw.logs.some((l) => l.includes('"http.auth.rejected"') && l.includes('/api/v1/reviews'))).to.equal(true);
    });

    it('keeps no PHI at rest: the whole data dir, decrypted blobs and logs', async () => {
      const files = readTree(gw.dataDir);
      let decrypted = 0;
      for (const s of await studies()) {
        for (const i of await gw.storage.listInstances(s.studyInstanceUID)) {
          const blob = await gw.storage.getInstanceBlob(i.sopInstanceUID);
          files.push({ name: `decrypted ${i.sopInstanceUID}`, bytes: blob!.bytes });
          decrypted += 1;
        }
      }
      files.push({ name: 'logs', bytes: Buffer.from(gw.logs.join('')) });
      expect(decrypted).to.equal(24);
      expect(phiAtRest(files)).to.deep.equal([]);
    });
  });
});
