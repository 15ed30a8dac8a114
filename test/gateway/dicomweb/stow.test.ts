import { expect } from 'chai';
import { createHttpApp } from '../../../gateway/http/index.js';
import { FailureReason } from '../../../gateway/dicomweb/index.js';
import { ReceiveMemory } from '../../../gateway/ingest/index.js';
import { requirePeers } from '../../support/peers.js';
import { parseExposition } from '../metrics/exposition-parser.js';
import {
  CT_STUDY_UID,
  ctFile,
  inOtherStudy,
  loadFixtures,
  makeHarness,
  multipart,
  sha256,
  STOW_TYPE,
  RecordingIngest,
  type Fixture,
  type Harness,
} from '../http/harness.js';

type Json = Record<string, { vr: string; Value?: unknown[] }>;

const auth = (token = 'modality-token') => ({ authorization: `Bearer ${token}` });

function post(h: Harness, body: Uint8Array, headers: Record<string, string>, path = '/dicomweb/studies') {
  return createHttpApp(h.deps).request(path, { method: 'POST', body: new Uint8Array(body), headers });
}

/** [ReferencedSOPClassUID, ReferencedSOPInstanceUID] of each item of a sequence. */
function refs(json: Json, tag: '00081199' | '00081198'): string[][] {
  return ((json[tag]?.Value ?? []) as Json[]).map((item) => [
    (item['00081150']?.Value?.[0] as string) ?? '',
    (item['00081155']?.Value?.[0] as string) ?? '',
  ]);
}
const reasons = (json: Json) => ((json['00081198']?.Value ?? []) as Json[]).map((i) => i['00081197'].Value?.[0]);

describe('gateway/dicomweb STOW-RS (in process)', () => {
  let ct: Fixture[];
  before(function () {
    requirePeers(this, 'python3-pydicom');
    ct = loadFixtures([ctFile(1), ctFile(2), ctFile(3)]);
  });

  it('200: stores every instance one at a time and answers in DICOM JSON with the sender\'s own UIDs', async () => {
    const h = makeHarness();
    const res = await post(h, multipart(ct.map((f) => ({ bytes: f.bytes }))), { ...auth(), 'content-type': STOW_TYPE() });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/dicom+json');
    const json = (await res.json()) as Json;
    expect(json['00081199'].vr).to.equal('SQ');
    expect(refs(json, '00081199')).to.deep.equal(ct.map((f) => [f.sopClassUID, f.sopInstanceUID]));
    expect(json['00081198']).to.equal(undefined);
    expect(json['00081190']).to.deep.equal({ vr: 'UR' });
    const item = (json['00081199'].Value as Json[])[0];
    expect(item['00081150'].vr).to.equal('UI');
    expect(item['00081155'].vr).to.equal('UI');
    // The edge got each part as sent, with the sender's route and identity.
    expect(h.ingest.calls.map((c) => Buffer.from(c.bytes).equals(ct[h.ingest.calls.indexOf(c)].bytes))).to.deep.equal([true, true, true]);
    expect(h.ingest.calls[0]).to.deep.include({ format: 'part10', route: 'ct' });
    expect(h.ingest.calls[0].source).to.deep.equal({ kind: 'stow', tokenUser: 'ct-scanner-7', tokenId: 'tok-1', remoteAddress: undefined, requestId: res.headers.get('x-request-id') });
  });

  it('202 when some fail and 409 when none is stored, with the PS3.18 FailureReason of each', async () => {
    const h = makeHarness();
    h.ingest.failWith(ct[1].bytes, 'out-of-resources');
    let res = await post(h, multipart(ct.map((f) => ({ bytes: f.bytes }))), { ...auth(), 'content-type': STOW_TYPE() });
    expect(res.status).to.equal(202);
    let json = (await res.json()) as Json;
    expect(refs(json, '00081199')).to.deep.equal([ct[0], ct[2]].map((f) => [f.sopClassUID, f.sopInstanceUID]));
    expect(refs(json, '00081198')).to.deep.equal([[ct[1].sopClassUID, ct[1].sopInstanceUID]]);
    expect(reasons(json)).to.deep.equal([0xa700]);
    const failedItem = (json['00081198'].Value as Json[])[0];
    expect(failedItem['00081197'].vr).to.equal('US');
    expect(failedItem['00000902'].Value?.[0]).to.equal('test failure: out-of-resources');

    const h2 = makeHarness();
    h2.ingest.failWith(ct[0].bytes, 'sop-class-mismatch').failWith(ct[1].bytes, 'sop-class-not-supported').failWith(ct[2].bytes, 'cannot-understand');
    res = await post(h2, multipart(ct.map((f) => ({ bytes: f.bytes }))), { ...auth(), 'content-type': STOW_TYPE() });
    expect(res.status).to.equal(409);
    json = (await res.json()) as Json;
    expect(json['00081199']).to.equal(undefined);
    expect(reasons(json)).to.deep.equal([0xa900, 0x0122, 0xc000]);

    const h3 = makeHarness();
    h3.ingest.failWith(ct[0].bytes, 'transfer-syntax-not-supported');
    res = await post(h3, multipart([{ bytes: ct[0].bytes }]), { ...auth(), 'content-type': STOW_TYPE() });
    expect(reasons((await res.json()) as Json)).to.deep.equal([0xc122]);
    expect(refs(json, '00081198')).to.deep.equal(ct.map((f) => [f.sopClassUID, f.sopInstanceUID]));
  });

  it('a part the shared memory has no room for fails alone with A700, named by its file meta; a request waits for its own stores instead', async () => {
    // Room for one part: one alone always fits, and request A's is held until the edge answers it.
    const memory = new ReceiveMemory(ct[0].bytes.length);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const h = makeHarness({ receiveMemory: memory });
    const ingest = h.ingest.ingest.bind(h.ingest);
    h.ingest.ingest = async (i) => {
      await gate;
      return ingest(i);
    };
    const send = (files: Fixture[]) => post(h, multipart(files.map((f) => ({ bytes: f.bytes }))), { ...auth(), 'content-type': STOW_TYPE() });
    const a = send([ct[0]]);
    await new Promise((r) => setTimeout(r, 100));
    expect(memory.held).to.equal(ct[0].bytes.length);

    const b = await send([ct[1], ct[2]]);
    expect(b.status).to.equal(409);
    const json = (await b.json()) as Json;
    expect(refs(json, '00081198')).to.deep.equal([ct[1], ct[2]].map((f) => [f.sopClassUID, f.sopInstanceUID]));
    expect(reasons(json)).to.deep.equal([0xa700, 0xa700]);
    expect((json['00081198'].Value as Json[])[0]['00000902'].Value?.[0]).to.equal('too many instances in memory now; send it again later');

    open();
    expect((await a).status).to.equal(200);
    expect(memory.held).to.equal(0);
    // Sent again together: the second part is read once the first is stored, not refused for the first's memory.
    expect((await send([ct[1], ct[2]])).status).to.equal(200);
    expect(h.ingest.calls.map((c) => sha256(c.bytes))).to.deep.equal(ct.map((f) => sha256(f.bytes)));
    expect(memory.held).to.equal(0);
  });

  it('/studies/{study}: an instance of another study fails with A900 and never reaches the edge', async () => {
    const h = makeHarness();
    const stranger = inOtherStudy(ct[1]);
    const res = await post(h, multipart([{ bytes: ct[0].bytes }, { bytes: stranger.bytes }]), { ...auth(), 'content-type': STOW_TYPE() }, `/dicomweb/studies/${CT_STUDY_UID}`);
    expect(res.status).to.equal(202);
    const json = (await res.json()) as Json;
    expect(refs(json, '00081199')).to.deep.equal([[ct[0].sopClassUID, ct[0].sopInstanceUID]]);
    expect(refs(json, '00081198')).to.deep.equal([[stranger.sopClassUID, stranger.sopInstanceUID]]);
    expect(reasons(json)).to.deep.equal([FailureReason.dataSetDoesNotMatch]);
    expect(h.ingest.calls).to.have.length(1);

    const only = await post(h, multipart([{ bytes: stranger.bytes }]), { ...auth(), 'content-type': STOW_TYPE() }, `/dicomweb/studies/${CT_STUDY_UID}`);
    expect(only.status).to.equal(409);
    const metrics = parseExposition(h.deps.metrics.render());
    const rejected = metrics.get('limen_stow_parts_rejected_total')!.samples.find((s) => s.labels.reason === 'study-mismatch');
    expect(rejected?.value).to.equal(2);

    const bad = await post(h, multipart([{ bytes: ct[0].bytes }]), { ...auth(), 'content-type': STOW_TYPE() }, '/dicomweb/studies/not-a-uid');
    expect(bad.status).to.equal(400);
  });

  it('a part that is not a DICOM Part 10 file fails with C000; a throwing edge gives 0110 and the rest goes on', async () => {
    const h = makeHarness();
    h.ingest.throwing.add(sha256(ct[2].bytes));
    const res = await post(h, multipart([{ bytes: Buffer.from('not dicom at all') }, { bytes: ct[0].bytes }, { bytes: ct[2].bytes }]), { ...auth(), 'content-type': STOW_TYPE() });
    expect(res.status).to.equal(202);
    const json = (await res.json()) as Json;
    expect(reasons(json)).to.deep.equal([0xc000, 0x0110]);
    expect(refs(json, '00081198')[0]).to.deep.equal(['', '']);
    expect(refs(json, '00081198')[1]).to.deep.equal([ct[2].sopClassUID, ct[2].sopInstanceUID]);
    expect(h.logLines.some((l) => l.includes('"stow.ingest.error"'))).to.equal(true);
  });

  it('503 with Retry-After, nothing of it stored, for a request beyond maxConcurrentStowRequests that waited too long; a later one is admitted when a slot frees', async () => {
    const recording = new RecordingIngest();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let entered = 0;
    const ingest = {
      ingest: async (i: Parameters<RecordingIngest['ingest']>[0]) => {
        entered += 1;
        await gate;
        return recording.ingest(i);
      },
    };
    const h = makeHarness({ ingest, options: { maxInstanceBytes: 1 << 20, maxConcurrentStowRequests: 1, stowAdmissionWaitMs: 200 } });
    const app = createHttpApp(h.deps);
    const send = (f: Fixture) => app.request('/dicomweb/studies', { method: 'POST', body: new Uint8Array(multipart([{ bytes: f.bytes }])), headers: { ...auth(), 'content-type': STOW_TYPE() } });
    const first = send(ct[0]);
    while (entered === 0) await new Promise((r) => setTimeout(r, 5));
    const busy = await send(ct[1]);
    expect(busy.status).to.equal(503);
    expect(busy.headers.get('retry-after')).to.equal('10');
    expect(((await busy.json()) as { error: { code: string } }).error.code).to.equal('busy');
    expect(entered, 'the refused request reached the edge').to.equal(1);
    const waiting = send(ct[2]);
    open();
    expect((await first).status).to.equal(200);
    expect((await waiting).status).to.equal(200);
    expect(recording.calls).to.have.length(2);
  });

  it('400 for a broken body, with the reason', async () => {
    const h = makeHarness();
    const body = multipart([{ bytes: ct[0].bytes }, { bytes: ct[1].bytes }]);
    const cases: [Buffer, RegExp][] = [
      [body.subarray(0, multipart([{ bytes: ct[0].bytes }]).length - 30), /ends inside part 1/],
      [Buffer.from('\r\n--limen-test-boundary--\r\n'), /no part/],
      [Buffer.from('garbage without boundary'), /delimiter/],
      [Buffer.from(multipart([{ bytes: ct[0].bytes }]).toString('latin1').replace(/\r\n/g, '\n'), 'latin1'), /CRLF/],
    ];
    for (const [b, why] of cases) {
      const res = await post(h, b, { ...auth(), 'content-type': STOW_TYPE() });
      expect(res.status, String(why)).to.equal(400);
      const err = (await res.json()) as { error: { code: string; message: string } };
      expect(err.error.code).to.equal('invalid-multipart');
      expect(err.error.message).to.match(why);
    }
    const noBoundary = await post(h, body, { ...auth(), 'content-type': 'multipart/related; type="application/dicom"' });
    expect(noBoundary.status).to.equal(400);
  });

  it('202 when the body breaks after an instance was stored: the stored ones referenced, the break among the failures', async () => {
    const h = makeHarness();
    const body = multipart([{ bytes: ct[0].bytes }, { bytes: ct[1].bytes }]);
    const res = await post(h, body.subarray(0, body.length - 20), { ...auth(), 'content-type': STOW_TYPE() });
    // PS3.18 Table 10.5.3-1: 400 would say that nothing was stored.
    expect(res.status).to.equal(202);
    expect(res.headers.get('connection')).to.equal('close');
    const json = (await res.json()) as Record<string, { Value?: Array<Record<string, { Value?: unknown[] }>> }>;
    expect(json['00081199'].Value!.map((i) => i['00081155'].Value![0])).to.deep.equal([ct[0].sopInstanceUID]);
    const [broken] = json['00081198'].Value!;
    expect(broken['00081197'].Value).to.deep.equal([0xc000]);
    expect(broken['00000902'].Value![0]).to.match(/body broken here/);
    expect(broken).to.not.have.property('00081155');
    // The log says what was answered, not the 400 the broken body alone would have been.
    const refused = h.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.id === 'stow.request.refused');
    expect(refused).to.include({ status: 202, stored: 1 });
    // A body that ends after its last whole part, without the closing delimiter, broke no part.
    const unclosed = await post(h, body.subarray(0, body.length - 4), { ...auth(), 'content-type': STOW_TYPE() });
    expect(unclosed.status).to.equal(200);
    const all = (await unclosed.json()) as Record<string, { Value?: Array<Record<string, { Value?: unknown[] }>> }>;
    expect(all['00081199'].Value!.map((i) => i['00081155'].Value![0])).to.deep.equal([ct[0].sopInstanceUID, ct[1].sopInstanceUID]);
    expect(all).to.not.have.property('00081198');
  });

  it('a body that stops arriving (the sender went away) is a broken body, never a 500: 400 while nothing is stored, 202 after', async () => {
    // Found by stow-fuzz.test.ts (seed 0x5eed57, the "request aborted" cases): the socket's error
    // escaped the multipart reader, and the app answered 500 and logged an internal error.
    const h = makeHarness();
    const body = multipart([{ bytes: ct[0].bytes }, { bytes: ct[1].bytes }]);
    const secondPart = multipart([{ bytes: ct[0].bytes }]).length - 25;
    const send = (cut: number) => {
      let sent = false;
      const stream = new ReadableStream<Uint8Array>(
        {
          pull(c) {
            if (sent) c.error(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
            else c.enqueue(new Uint8Array(body.subarray(0, cut)));
            sent = true;
          },
        },
        { highWaterMark: 0 },
      );
      const req = new Request('http://limen.test/dicomweb/studies', { method: 'POST', body: stream, headers: { ...auth(), 'content-type': STOW_TYPE() }, duplex: 'half' } as RequestInit);
      return createHttpApp(h.deps).request(req);
    };

    const none = await send(5000);
    expect(none.status).to.equal(400);
    const err = (await none.json()) as { error: { code: string; message: string; reason: string } };
    expect(err.error.code).to.equal('invalid-multipart');
    expect(err.error.reason).to.equal('truncated');
    expect(err.error.message).to.match(/stopped arriving .* inside part 1/);
    expect(h.ingest.calls).to.have.length(0);

    const some = await send(secondPart + 5000);
    expect(some.status).to.equal(202);
    const json = (await some.json()) as Json;
    expect(refs(json, '00081199')).to.deep.equal([[ct[0].sopClassUID, ct[0].sopInstanceUID]]);
    expect(reasons(json)).to.deep.equal([0xc000]);
    expect(h.logLines.filter((l) => l.includes('"http.request.failed"'))).to.deep.equal([]);
  });

  it('413 for an instance above maxInstanceBytes, without reading the whole body', async () => {
    const h = makeHarness({ options: { maxInstanceBytes: 256 * 1024 } });
    let pulled = 0;
    let cancelled = false;
    const head = Buffer.from('\r\n--limen-test-boundary\r\nContent-Type: application/dicom\r\n\r\n');
    let first = true;
    const endless = new ReadableStream<Uint8Array>(
      {
        pull(c) {
          const chunk = first ? head : new Uint8Array(64 * 1024);
          first = false;
          pulled += chunk.length;
          c.enqueue(chunk);
        },
        cancel() {
          cancelled = true;
        },
      },
      { highWaterMark: 0 },
    );
    const req = new Request('http://limen.test/dicomweb/studies', {
      method: 'POST',
      body: endless,
      headers: { ...auth(), 'content-type': STOW_TYPE() },
      duplex: 'half',
    } as RequestInit);
    const res = await createHttpApp(h.deps).request(req);
    expect(res.status).to.equal(413);
    const err = (await res.json()) as { error: { code: string; message: string } };
    expect(err.error.code).to.equal('instance-too-large');
    expect(err.error.message).to.match(/part 1 is larger than the limit of 262144 bytes/);
    expect(pulled).to.be.below(256 * 1024 + 4 * 64 * 1024);
    expect(cancelled).to.equal(true);
    expect(h.ingest.calls).to.have.length(0);
  });

  it('415 for a wrong media type, or for a non-DICOM part before anything is stored', async () => {
    const h = makeHarness();
    const body = multipart([{ bytes: ct[0].bytes }]);
    for (const type of ['application/dicom', 'application/json', 'multipart/related; type="application/dicom+xml"; boundary=limen-test-boundary', 'multipart/form-data; boundary=limen-test-boundary']) {
      const res = await post(h, body, { ...auth(), 'content-type': type });
      expect(res.status, type).to.equal(415);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('unsupported-media-type');
    }
    const missing = await createHttpApp(h.deps).request('/dicomweb/studies', { method: 'POST', body: new Uint8Array(body), headers: auth() });
    expect(missing.status).to.equal(415);

    const first = await post(h, multipart([{ bytes: ct[0].bytes, contentType: 'application/octet-stream' }, { bytes: ct[1].bytes }]), { ...auth(), 'content-type': STOW_TYPE() });
    expect(first.status).to.equal(415);
    expect(((await first.json()) as { error: { message: string } }).error.message).to.match(/part 1 is "application\/octet-stream"/);
    expect(h.ingest.calls).to.have.length(0);

    // After an instance is stored, a stray part fails alone; a part without Content-Type is DICOM.
    const later = await post(h, multipart([{ bytes: ct[0].bytes, contentType: null }, { bytes: ct[1].bytes, contentType: 'text/plain' }]), { ...auth(), 'content-type': STOW_TYPE() });
    expect(later.status).to.equal(202);
    expect(reasons((await later.json()) as Json)).to.deep.equal([0xc000]);
    // Parameters of the part's type (transfer-syntax) are fine.
    const withTs = await post(h, multipart([{ bytes: ct[0].bytes, contentType: 'application/dicom; transfer-syntax=1.2.840.10008.1.2.1' }]), { ...auth(), 'content-type': STOW_TYPE() });
    expect(withTs.status).to.equal(200);
  });

  it('406 when Accept excludes both DICOM JSON and XML, before anything is stored; otherwise the preferred one', async () => {
    const h = makeHarness();
    const body = multipart([{ bytes: ct[0].bytes }]);
    // The most specific range decides (RFC 9110 12.5.1): a q=0 for DICOM JSON is not undone by */*.
    for (const accept of ['multipart/related; type="application/dicom+xml"', 'application/dicom+json; q=0', 'text/html', 'application/dicom+json;q=0, application/dicom+xml;q=0, application/json;q=0, */*']) {
      const res = await post(h, body, { ...auth(), 'content-type': STOW_TYPE(), accept });
      expect(res.status, accept).to.equal(406);
    }
    expect(h.ingest.calls).to.have.length(0);
    const answers: Record<string, string> = {
      'application/dicom+json': 'application/dicom+json',
      'application/dicom+xml, */*;q=0.1': 'application/dicom+xml',
      'application/dicom+xml': 'application/dicom+xml',
      'application/dicom+json;q=0, application/json;q=0, */*': 'application/dicom+xml',
      'application/json': 'application/json',
      'application/dicom+json; x="a,b"': 'application/dicom+json',
      'application/*': 'application/dicom+json',
    };
    for (const [accept, type] of Object.entries(answers)) {
      const res = await post(h, body, { ...auth(), 'content-type': STOW_TYPE(), accept });
      expect(res.status, accept).to.equal(200);
      expect(res.headers.get('content-type'), accept).to.equal(type);
    }
  });

  it('415 for a body in a content coding (gzip), before anything is stored, naming the coding it takes', async () => {
    const h = makeHarness();
    const res = await post(h, multipart([{ bytes: ct[0].bytes }]), { ...auth(), 'content-type': STOW_TYPE(), 'content-encoding': 'gzip' });
    expect(res.status).to.equal(415);
    expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('unsupported-content-encoding');
    expect(res.headers.get('accept-encoding'), 'what would be accepted (RFC 9110 §15.5.16)').to.equal('identity');
    expect(h.ingest.calls).to.have.length(0);
  });

  it('401 without or with a bad token (WWW-Authenticate: Bearer), 403 for a role other than modality/admin', async () => {
    const h = makeHarness();
    const body = multipart([{ bytes: ct[0].bytes }]);
    const none = await post(h, body, { 'content-type': STOW_TYPE() });
    expect(none.status).to.equal(401);
    expect(none.headers.get('www-authenticate')).to.equal('Bearer realm="limen"');
    expect(((await none.json()) as { error: { code: string } }).error.code).to.equal('unauthenticated');
    for (const a of ['Bearer expired-or-unknown', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b']) {
      const res = await post(h, body, { authorization: a, 'content-type': STOW_TYPE() });
      expect(res.status, a).to.equal(401);
      expect(res.headers.get('www-authenticate'), a).to.match(/^Bearer realm="limen", error="invalid_token"$/);
    }
    const reviewer = await post(h, body, { ...auth('reviewer-token'), 'content-type': STOW_TYPE() });
    expect(reviewer.status).to.equal(403);
    expect(reviewer.headers.get('www-authenticate')).to.contain('insufficient_scope');
    expect(h.ingest.calls).to.have.length(0);
    const admin = await post(h, body, { ...auth('admin-token'), 'content-type': STOW_TYPE() });
    expect(admin.status).to.equal(200);
    expect(h.ingest.calls[0].route).to.equal('default');
  });

  it('logs carry no sender UID nor the study path, and metrics label routes by pattern', async () => {
    const h = makeHarness();
    h.ingest.failWith(ct[1].bytes, 'cannot-understand');
    await post(h, multipart(ct.map((f) => ({ bytes: f.bytes }))), { ...auth(), 'content-type': STOW_TYPE() }, `/dicomweb/studies/${CT_STUDY_UID}`);
    await post(h, Buffer.from('x'), { ...auth(), 'content-type': STOW_TYPE() }, `/dicomweb/studies/${CT_STUDY_UID}`);
    const logs = h.logLines.join('');
    expect(h.logLines.length).to.be.greaterThan(1);
    expect(logs).to.contain('stow.request.completed');
    for (const f of ct) expect(logs).not.to.contain(f.sopInstanceUID);
    expect(logs).not.to.contain(CT_STUDY_UID);
    const text = h.deps.metrics.render();
    expect(text).not.to.contain(CT_STUDY_UID);
    const fam = parseExposition(text).get('limen_http_requests_total')!;
    expect(fam.samples).to.deep.include({
      name: 'limen_http_requests_total',
      labels: { method: 'POST', route: '/dicomweb/studies/:study', status: '202' },
      value: 1,
    });
  });
});
