/**
 * A seeded fuzz of the gateway's HTTP API as one process serves it (health, studies, admin,
 * review, results, models, session, viewer, DICOMweb). A first round sends every route, with
 * every role's token (and none), every shape of body (JSON objects, `null`, arrays, broken JSON,
 * other media types, STOW bodies), each as the route is meant to be asked, a stored study's UID in
 * its path. Later rounds add noise: another method, path parameters that are near misses or
 * bytes that are no UID, query strings.
 *
 * Every answer must be complete and never a 5xx; every error a JSON `{ error: { code, message } }`;
 * no request may fail with an unexpected error in the log, and no log line may carry the fixture's
 * PHI, which the requests bring. LIMEN_FUZZ_SEED picks another run, LIMEN_FUZZ_CASES its length.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { multipartRelated } from '../../support/curl.js';
import { CT_FAKEPHI, CT_FAKEPHI_FILES, CT_FAKEPHI_VALUES } from '../../support/fakephi.js';
import { caseSeed, ODD_URL_PIECES, XorShift32 } from '../../support/fuzz.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

const SEED = Number(process.env.LIMEN_FUZZ_SEED ?? 0xa91) >>> 0;
const ROLES = ['admin', 'reviewer', 'requester', 'modality', 'auditor'] as const;

/** Every route, with the method it answers (the session route answers three). */
const ROUTES: ReadonlyArray<[string, string]> = [
  ['GET', '/healthz'],
  ['GET', '/readyz'],
  ['GET', '/metrics'],
  ['GET', '/api/v1/studies'],
  ['GET', '/api/v1/studies/:uid'],
  ['POST', '/api/v1/studies/:uid/reprocess'],
  ['GET', '/api/v1/studies/:uid/jobs'],
  ['POST', '/api/v1/jobs/:id/retry'],
  ['GET', '/api/v1/reviews'],
  ['GET', '/api/v1/reviews/:uid'],
  ['POST', '/api/v1/reviews/:uid/decision'],
  ['GET', '/api/v1/results/:uid'],
  ['GET', '/api/v1/results/:uid/:name'],
  ['GET', '/api/v1/models'],
  ['GET', '/api/v1/models/:id/card'],
  ['POST', '/api/v1/session'],
  ['GET', '/api/v1/session'],
  ['DELETE', '/api/v1/session'],
  ['GET', '/viewer/'],
  ['GET', '/viewer/app-config.js'],
  ['GET', '/viewer/sign-in'],
  ['GET', '/viewer/:name'],
  ['POST', '/dicomweb/studies'],
  ['POST', '/dicomweb/studies/:uid'],
  ['GET', '/dicomweb/studies'],
  ['GET', '/dicomweb/studies/:uid/metadata'],
];


function param(r: XorShift32, study: string): string {
  switch (r.int(10)) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
      return study;
    case 5:
      return `${study}.${r.range(0, 9)}`;
    case 6:
      return r.pick(['1', '0', '-1', '99999999999999999999', '1.2.3', 'default', 'model.glb', 'seg.dcm', 'x'.repeat(r.range(65, 3000))]);
    case 7:
      return encodeURIComponent(r.pick([CT_FAKEPHI.patientName, CT_FAKEPHI.patientID, CT_FAKEPHI.accessionNumber]));
    default:
      return Array.from({ length: r.range(1, 4) }, () => r.pick(ODD_URL_PIECES)).join('');
  }
}

function query(r: XorShift32): string {
  if (r.chance(0.5)) return '';
  const name = r.pick(['limit', 'offset', 'status', 'cursor', 'model', 'PatientName', r.pick(ODD_URL_PIECES)]);
  const value = r.pick(['-1', '0', 'abc', '1e9', '99999999999999', 'complete', 'awaiting_review', encodeURIComponent(CT_FAKEPHI.patientName), r.pick(ODD_URL_PIECES)]);
  return `?${name}=${value}`;
}

/** The shapes of body every case is sent with in turn: nothing, JSON of every kind, other media types, STOW bodies. */
const BODIES: ReadonlyArray<(r: XorShift32, instance: Uint8Array) => { contentType?: string; bytes?: Uint8Array | string }> = [
  () => ({}),
  () => ({ contentType: 'application/json', bytes: '{}' }),
  // JSON, but not the object every body of the API is.
  (r) => ({ contentType: 'application/json', bytes: r.pick(['null', '[]', '42']) }),
  (r) => ({ contentType: 'application/json', bytes: r.pick(['"approve"', '{bad', '', ' ', '{"decision":']) }),
  (r) => ({ contentType: 'application/json', bytes: JSON.stringify({ decision: r.pick(['approve', 'reject', 'maybe', null, 1]), comment: r.pick([undefined, null, 7, 'looks right', CT_FAKEPHI.patientName]) }) }),
  (r) => ({ contentType: 'application/json', bytes: JSON.stringify({ model: r.pick(['default', 'nope', '../..', 7, null, CT_FAKEPHI.patientID]) }) }),
  (r) => ({ contentType: 'application/json', bytes: JSON.stringify({ segSOPInstanceUID: r.pick(['1.2', 5]), glbSha256: r.pick(['00', []]), decision: 'approve' }) }),
  (r) => ({ contentType: r.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']), bytes: `decision=approve&${CT_FAKEPHI.patientID}` }),
  (r, instance) => {
    const { body: b, contentType } = multipartRelated([instance]);
    return { contentType: r.chance(0.7) ? contentType : 'multipart/related', bytes: r.chance(0.7) ? b : b.subarray(0, r.int(b.length)) };
  },
  (r) => ({ contentType: 'application/json', bytes: `{"decision":"approve","comment":"${'x'.repeat(r.range(1, 200_000))}"}` }),
];

/** One round: every route × every role (and none) × every body shape. */
const ROUND = ROUTES.length * (ROLES.length + 1) * BODIES.length;
/** Two rounds unless told otherwise: the first as each route is meant to be asked, the second with noise. */
const CASES = Number(process.env.LIMEN_FUZZ_CASES ?? 2 * ROUND);

const phiIn = (text: string): string[] => CT_FAKEPHI_VALUES.filter((v) => text.toLowerCase().includes(v.toLowerCase()));

describe('HTTP API: a seeded fuzz of every route, method, parameter, body and role', function () {
  this.timeout(300_000);
  let g: TestGateway;
  let study: string;
  const tokens: Record<string, string> = {};
  const instance = readFileSync(CT_FAKEPHI_FILES[0]);

  before(async () => {
    g = await startTestGateway('routes:\n  default:\n    stableSeconds: 3600\nworker:\n  enabled: false\n');
    for (const role of ROLES) tokens[role] = (await g.storage.createToken({ role, user: `fuzz-${role}`, ttlSeconds: 3600 })).token;
    const { body: b, contentType } = multipartRelated([instance]);
    const stored = await fetch(`${g.base}/dicomweb/studies`, { method: 'POST', body: new Uint8Array(b), headers: { 'content-type': contentType, authorization: `Bearer ${tokens.modality}` } });
    expect(stored.status, await stored.clone().text()).to.equal(200);
    study = (await g.storage.listStudies({})).studies[0].studyInstanceUID;
    // A result and its review, as the pipeline leaves them, so that results are served and decisions decided.
    const glb = await g.storage.results.put(study, 'model.glb', 'model/gltf-binary', new Uint8Array(64));
    await g.storage.reviews.create({ studyInstanceUID: study, summary: {}, segSOPInstanceUID: '2.25.1', glbSha256: glb.sha256 });
  });
  after(async () => {
    await g?.dispose();
  });

  it(`${CASES} requests (seed ${SEED}): never a 5xx, errors as JSON, nothing unexpected or identifying in the log`, async () => {
    const statuses: Record<number, number> = {};
    for (let n = 0; n < CASES; n++) {
      const r = new XorShift32(caseSeed(SEED, n));
      // Every route with every role (and none) with every shape of body, in turn; the rest at random.
      const [own, template] = ROUTES[n % ROUTES.length];
      const role = [...ROLES, undefined][Math.floor(n / ROUTES.length) % (ROLES.length + 1)];
      const shape = BODIES[Math.floor(n / (ROUTES.length * (ROLES.length + 1))) % BODIES.length];
      // The first round asks each route as it is meant to be asked, the stored study in its path.
      const first = n < ROUND;
      const method = first || r.chance(0.85) ? own : r.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']);
      const right = (p: string) => (p === ':name' ? 'model.glb' : p === ':id' ? (template.includes('/models/') ? 'default' : '1') : study);
      const path = first ? template.replace(/:\w+/g, right) : template.replace(/:\w+/g, () => param(r, study)) + query(r);
      const { contentType, bytes } = method === 'GET' || method === 'HEAD' ? {} : shape(r, instance);
      const headers: Record<string, string> = {};
      if (role) headers.authorization = `Bearer ${tokens[role]}`;
      else if (r.chance(0.5)) headers.authorization = r.pick(['Bearer', 'Bearer lmn_nope', 'Basic YTpi', 'bearer  x', `Bearer ${'a'.repeat(5000)}`]);
      if (contentType) headers['content-type'] = contentType;
      const name = `case ${n} (LIMEN_FUZZ_SEED=${SEED}): ${method} ${path.slice(0, 300)} as ${role ?? headers.authorization?.slice(0, 40) ?? 'nobody'} ${contentType ?? ''}`;
      const res = await fetch(`${g.base}${path}`, { method, headers, body: typeof bytes === 'string' || bytes === undefined ? bytes : new Uint8Array(bytes), signal: AbortSignal.timeout(20_000) });
      const text = await res.text();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      expect(res.status, `${name}: ${text.slice(0, 300)}`).to.be.lessThan(500);
      // A STOW-RS 409 or 202 is a Store Instances Response (DICOM JSON), as PS3.18 has it.
      if (method === 'HEAD' || res.status === 204) expect(text, name).to.equal('');
      else if (res.headers.get('content-type')?.startsWith('application/dicom+json')) expect(() => JSON.parse(text), name).not.to.throw();
      else if (res.status >= 400) {
        const json = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
        expect(json.error?.code, name).to.be.a('string');
        expect(json.error?.message, name).to.be.a('string').and.not.equal('');
      }
    }
    const failed = g.logs.filter((l) => l.includes('"http.request.failed"'));
    expect(failed, failed.join('\n')).to.deep.equal([]);
    expect(phiIn(g.logs.join('\n')), 'PHI in the log').to.deep.equal([]);
    expect((await fetch(`${g.base}/healthz`)).status).to.equal(200);
    console.log(`      statuses: ${JSON.stringify(statuses)}`);
  });
});
