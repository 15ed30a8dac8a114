import { expect } from 'chai';
import { createHttpApp, httpRouteDocs } from '../../../gateway/http/index.js';
import { parseExposition } from '../metrics/exposition-parser.js';
import { makeHarness, STUDIES } from './harness.js';

const admin = { authorization: 'Bearer admin-token' };

describe('gateway/http app', () => {
  it('/healthz answers 200 while the process is up', async () => {
    const res = await createHttpApp(makeHarness().deps).request('/healthz');
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ status: 'ok' });
  });

  it('/readyz is 200 when ready, 503 when not or when the check throws', async () => {
    const h = makeHarness();
    const app = createHttpApp(h.deps);
    let res = await app.request('/readyz');
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ ready: true, checks: { database: 'ok' } });
    h.setReadiness({ ready: false, checks: { database: { ok: false, message: 'connection refused' } } });
    res = await app.request('/readyz');
    expect(res.status).to.equal(503);
    expect(((await res.json()) as { checks: unknown }).checks).to.deep.equal({ database: 'unavailable' });
    h.setReadiness(new Error('pool exhausted'));
    res = await app.request('/readyz');
    expect(res.status).to.equal(503);
    expect(await res.json()).to.deep.equal({ ready: false, checks: {} });
    expect(h.logLines.some((l) => l.includes('"http.readiness.failed"'))).to.equal(true);
  });

  it('/metrics serves the registry in the Prometheus text format 0.0.4', async () => {
    const h = makeHarness();
    const app = createHttpApp(h.deps);
    h.deps.metrics.counter({ name: 'limen_test_total', help: 'test' }).inc({}, 3);
    await app.request('/healthz');
    await app.request('/healthz');
    await app.request('/no/such/thing');
    const res = await app.request('/metrics');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/plain; version=0.0.4; charset=utf-8');
    const fams = parseExposition(await res.text());
    expect(fams.get('limen_test_total')?.samples[0].value).to.equal(3);
    const reqs = fams.get('limen_http_requests_total')!;
    expect(reqs.samples).to.deep.include({ name: 'limen_http_requests_total', labels: { method: 'GET', route: '/healthz', status: '200' }, value: 2 });
    expect(reqs.samples).to.deep.include({ name: 'limen_http_requests_total', labels: { method: 'GET', route: 'unmatched', status: '404' }, value: 1 });
    expect(fams.get('limen_http_request_duration_seconds')?.type).to.equal('histogram');
  });

  it('GET /api/v1/studies: 401 without a token, 403 for non-admins, 200 with the list for admin', async () => {
    const h = makeHarness();
    const app = createHttpApp(h.deps);
    const none = await app.request('/api/v1/studies');
    expect(none.status).to.equal(401);
    expect(none.headers.get('www-authenticate')).to.match(/^Bearer /);
    expect(await none.json()).to.deep.equal({ error: { code: 'unauthenticated', message: 'an Authorization: Bearer token is required' } });
    const expired = await app.request('/api/v1/studies', { headers: { authorization: 'Bearer revoked' } });
    expect(expired.status).to.equal(401);
    for (const t of ['modality-token', 'reviewer-token']) {
      const res = await app.request('/api/v1/studies', { headers: { authorization: `Bearer ${t}` } });
      expect(res.status, t).to.equal(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('forbidden');
    }
    expect(h.listCalls).to.have.length(0);

    const res = await app.request('/api/v1/studies', { headers: admin });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { studies: Record<string, unknown>[]; limit: number; offset: number };
    expect(body.limit).to.equal(100);
    expect(body.offset).to.equal(0);
    expect(body.studies).to.deep.equal(JSON.parse(JSON.stringify(STUDIES)));
    expect(body.studies[1].receivedAt).to.equal('2025-01-02T10:00:00.000Z');

    const page = await app.request('/api/v1/studies?limit=1&offset=1', { headers: admin });
    expect(((await page.json()) as { studies: { studyInstanceUID: string }[] }).studies.map((s) => s.studyInstanceUID)).to.deep.equal(['2.25.1002']);
    expect(h.listCalls.at(-1)).to.deep.equal({ limit: 1, offset: 1 });
    const complete = (await (await app.request('/api/v1/studies?status=complete', { headers: admin })).json()) as { studies: { status: string }[]; status: string };
    expect(complete.status).to.equal('complete');
    expect(complete.studies.map((s) => s.status)).to.deep.equal(['complete']);
    // An unknown status is an error, not the whole list.
    const bogus = await app.request('/api/v1/studies?status=bogus', { headers: admin });
    expect(await bogus.json()).to.deep.equal({ error: { code: 'invalid-parameter', parameter: 'status', message: 'status must be one of receiving, complete' } });
    for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'offset=-1', 'status=bogus']) {
      const bad = await app.request(`/api/v1/studies?${q}`, { headers: admin });
      expect(bad.status, q).to.equal(400);
      expect(((await bad.json()) as { error: { code: string } }).error.code).to.equal('invalid-parameter');
    }
    expect(h.logLines.some((l) => l.includes('"http.auth.rejected"') && !l.includes('admin-token'))).to.equal(true);
  });

  it('keeps what is behind a token out of caches (private, no-store), errors included; the health probes are no such thing', async () => {
    const app = createHttpApp(makeHarness().deps);
    for (const [path, headers] of [['/api/v1/studies', admin], ['/api/v1/studies', {}], ['/dicomweb/studies', admin]] as const) {
      expect((await app.request(path, { headers })).headers.get('cache-control'), path).to.equal('private, no-store');
    }
    expect((await app.request('/healthz')).headers.get('cache-control')).to.equal(null);
  });

  it('never lets an answer be sniffed into a page, nor a URL leave in a Referer, errors included', async () => {
    const app = createHttpApp(makeHarness().deps);
    for (const [path, headers] of [['/api/v1/studies', admin], ['/api/v1/studies', {}], ['/dicomweb/studies', admin], ['/nowhere', {}], ['/healthz', {}]] as const) {
      const res = await app.request(path, { headers });
      expect(res.headers.get('x-content-type-options'), path).to.equal('nosniff');
      expect(res.headers.get('referrer-policy'), path).to.equal('no-referrer');
    }
  });

  it('answers a known path asked with another method 405 with an Allow header, an unknown path 404', async () => {
    const app = createHttpApp(makeHarness().deps);
    for (const [method, path, allow] of [
      ['PUT', '/dicomweb/studies', 'POST'],
      ['DELETE', '/dicomweb/studies/1.2.3', 'POST'],
      ['POST', '/api/v1/studies/1.2.3', 'GET, HEAD'],
      ['POST', '/healthz', 'GET, HEAD'],
    ]) {
      const res = await app.request(path, { method, headers: admin });
      expect(res.status, `${method} ${path}`).to.equal(405);
      expect(res.headers.get('allow')).to.equal(allow);
      expect(await res.json()).to.deep.equal({ error: { code: 'method-not-allowed', message: `${method} is not allowed here; allowed: ${allow}` } });
    }
    expect((await app.request('/dicomweb/nothing', { method: 'PUT' })).status).to.equal(404);
    // Routes match paths exactly, a trailing slash included: not a 405 that lists the method it refuses.
    const slash = await app.request('/api/v1/studies/', { headers: admin });
    expect(slash.status).to.equal(404);
    expect(await slash.json()).to.deep.equal({ error: { code: 'not-found', message: 'no resource GET /api/v1/studies/' } });
  });

  it('GET /api/v1/studies/{uid}: the study, 404 JSON for an unknown one, 400 for a non-UID', async () => {
    const app = createHttpApp(makeHarness().deps);
    const ok = await app.request('/api/v1/studies/2.25.1001', { headers: admin });
    expect(ok.status).to.equal(200);
    expect(((await ok.json()) as { instanceCount: number }).instanceCount).to.equal(112);
    const missing = await app.request('/api/v1/studies/2.25.999', { headers: admin });
    expect(missing.status).to.equal(404);
    expect(missing.headers.get('content-type')).to.match(/^application\/json/);
    expect(await missing.json()).to.deep.equal({ error: { code: 'not-found', message: 'no study with this Study Instance UID' } });
    const bad = await app.request('/api/v1/studies/1.02.x', { headers: admin });
    expect(bad.status).to.equal(400);
    const unauth = await app.request('/api/v1/studies/2.25.999');
    expect(unauth.status).to.equal(401);
  });

  it('answers unknown paths and unexpected errors with JSON errors, without leaking the error', async () => {
    const h = makeHarness({
      studies: {
        statuses: ['receiving'],
        listStudies: async () => {
          throw new Error('SQLITE_CORRUPT: secret detail');
        },
        getStudy: async () => null,
      },
    });
    const app = createHttpApp(h.deps);
    const nf = await app.request('/api/v1/nothing', { headers: admin });
    expect(nf.status).to.equal(404);
    expect(nf.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
    expect(((await nf.json()) as { error: { code: string } }).error.code).to.equal('not-found');
    // A sender's own id is not taken: it is free text that would reach the log unvetted.
    const res = await app.request('/api/v1/studies', { headers: { ...admin, 'x-request-id': 'ACC-2023-0042' } });
    expect(res.status).to.equal(500);
    const id = res.headers.get('x-request-id');
    expect(id).to.match(/^[0-9a-f-]{36}$/);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).to.equal('internal-error');
    expect(body.error.message).to.contain(id);
    expect(body.error.message).not.to.contain('SQLITE');
    const logged = h.logLines.find((l) => l.includes('"http.request.failed"'));
    expect(logged).to.contain(id!).and.to.contain('SQLITE_CORRUPT');
    expect(h.logLines.join('')).not.to.contain('ACC-2023-0042');
  });

  it('documents every route it serves', () => {
    const app = createHttpApp(makeHarness().deps);
    const served = app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`);
    const documented = httpRouteDocs.map((d) => `${d.method} ${d.path}`);
    expect([...new Set(served)].sort()).to.deep.equal([...documented].sort());
  });
});
