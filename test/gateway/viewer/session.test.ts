/**
 * The session exchange (`/api/v1/session`) and the cookie-or-bearer middleware, in process.
 */
import { expect } from 'chai';
import { Hono } from 'hono';
import { errorResponse, HttpError, type AppEnv, type Identity } from '../../../gateway/http/index.js';
import { MemorySessionStore, sessionOrBearerAuth, sessionRoutes, TokenBoundSessionStore, type SessionEvent, type SessionStore, type TokenLifetime } from '../../../gateway/viewer/index.js';

const TOKENS: Record<string, Identity> = {
  'reviewer-token': { role: 'reviewer', user: 'dr-who', id: 'tok-r' },
  'admin-token': { role: 'admin', user: 'it', id: 'tok-a' },
  'modality-token': { role: 'modality', user: 'ct-1', id: 'tok-m' },
  'unnamed-reviewer-token': { role: 'reviewer', id: 'tok-u' },
};

function harness(clock = { now: Date.parse('2025-03-01T08:00:00Z') }, bind?: (memory: MemorySessionStore) => SessionStore) {
  const tokens = { verifyToken: async (t: string) => TOKENS[t] ?? null };
  const sessions = new MemorySessionStore({ ttlMs: 60 * 60 * 1000, now: () => clock.now });
  const store = bind ? bind(sessions) : sessions;
  const events: SessionEvent[] = [];
  const app = new Hono<AppEnv>();
  app.route('/api/v1', sessionRoutes({ tokens, sessions: store, onSessionEvent: (e) => void events.push(e) }));
  const reviewer = sessionOrBearerAuth({ tokens, sessions: store, roles: ['reviewer'] });
  app.get('/dicomweb/studies', reviewer, (c) => c.json({ who: c.get('identity') }));
  app.post('/api/v1/reviews/:uid/decision', reviewer, (c) => c.json({ decidedBy: c.get('identity').user }));
  app.onError((err) => (err instanceof HttpError ? err.getResponse() : errorResponse(500, 'internal-error', String(err))));
  return { app, sessions, events, clock };
}

async function signIn(app: Hono<AppEnv>, token = 'reviewer-token'): Promise<{ res: Response; cookie: string }> {
  const res = await app.request('/api/v1/session', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { res, cookie: setCookie.split(';')[0] };
}

describe('gateway/viewer: sessions', () => {
  it('exchanges a reviewer token for an HttpOnly, SameSite=Strict session cookie holding no token', async () => {
    const { app, events, sessions } = harness();
    const { res, cookie } = await signIn(app);
    expect(res.status).to.equal(201);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const header = res.headers.get('set-cookie')!;
    expect(header).to.match(/^limen_session=[A-Za-z0-9_-]{43}; /);
    expect(header).to.include('HttpOnly').and.include('SameSite=Strict').and.include('Path=/').and.not.include('Secure');
    expect(header).to.not.include('reviewer-token');
    expect(await res.json()).to.deep.equal({ session: { role: 'reviewer', user: 'dr-who', actor: 'dr-who', method: 'api-token', expiresAt: '2025-03-01T09:00:00.000Z' } });
    expect(events).to.have.length(1);
    expect(events[0]).to.include({ type: 'session.opened', method: 'api-token', role: 'reviewer', user: 'dr-who', tokenId: 'tok-r' });
    expect(events[0].sessionId).to.match(/^[0-9a-f]{64}$/).and.not.equal(cookie.split('=')[1]);
    expect(sessions.size).to.equal(1);
  });

  it('names the session as reviews and decisions record it: its user, or token:<id> for a token issued to nobody', async () => {
    const { app } = harness();
    const { res, cookie } = await signIn(app, 'unnamed-reviewer-token');
    expect((await res.json()).session).to.not.have.property('user');
    const session = await app.request('/api/v1/session', { headers: { cookie } });
    expect((await session.json()).session).to.deep.include({ role: 'reviewer', actor: 'token:tok-u' });
  });

  it('marks the cookie Secure over HTTPS', async () => {
    const { app } = harness();
    const res = await app.request('https://limen.example/api/v1/session', { method: 'POST', headers: { authorization: 'Bearer reviewer-token' } });
    expect(res.headers.get('set-cookie')).to.include('Secure');
  });

  it('refuses no token, an unknown token (401) and a machine role (403)', async () => {
    const { app, sessions } = harness();
    expect((await app.request('/api/v1/session', { method: 'POST' })).status).to.equal(401);
    expect((await signIn(app, 'forged')).res.status).to.equal(401);
    const machine = await signIn(app, 'modality-token');
    expect(machine.res.status).to.equal(403);
    expect(machine.res.headers.get('set-cookie')).to.equal(null);
    expect(sessions.size).to.equal(0);
  });

  it('the cookie authenticates DICOMweb and API requests as the person, like the bearer header does', async () => {
    const { app } = harness();
    const { cookie } = await signIn(app);
    const viaCookie = await app.request('/dicomweb/studies', { headers: { cookie } });
    expect(viaCookie.status).to.equal(200);
    expect(await viaCookie.json()).to.deep.equal({ who: TOKENS['reviewer-token'] });
    const viaBearer = await app.request('/dicomweb/studies', { headers: { authorization: 'Bearer reviewer-token' } });
    expect(await viaBearer.json()).to.deep.equal({ who: TOKENS['reviewer-token'] });
    const session = await app.request('/api/v1/session', { headers: { cookie } });
    expect((await session.json()).session.user).to.equal('dr-who');
  });

  it('refuses without either (401 with a challenge), with a forged cookie, and a role not allowed (403)', async () => {
    const { app } = harness();
    const none = await app.request('/dicomweb/studies');
    expect(none.status).to.equal(401);
    expect(none.headers.get('www-authenticate')).to.match(/^Bearer realm="limen"/);
    expect((await none.json()).error.message).to.match(/session cookie or an Authorization: Bearer/);
    expect((await app.request('/dicomweb/studies', { headers: { cookie: 'limen_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } })).status).to.equal(401);
    const { cookie } = await signIn(app, 'admin-token');
    expect((await app.request('/dicomweb/studies', { headers: { cookie } })).status).to.equal(403);
  });

  it('a bearer header wins over the cookie (a bad header is refused, not rescued by the cookie)', async () => {
    const { app } = harness();
    const { cookie } = await signIn(app);
    const res = await app.request('/dicomweb/studies', { headers: { cookie, authorization: 'Bearer forged' } });
    expect(res.status).to.equal(401);
  });

  it('a state change with the cookie must come from the same origin', async () => {
    const { app } = harness();
    const { cookie } = await signIn(app);
    const path = '/api/v1/reviews/1.2.3/decision';
    const same = await app.request(`http://limen.example${path}`, { method: 'POST', headers: { cookie, 'sec-fetch-site': 'same-origin', origin: 'http://limen.example' } });
    expect(same.status).to.equal(200);
    const cross = await app.request(`http://limen.example${path}`, { method: 'POST', headers: { cookie, 'sec-fetch-site': 'cross-site' } });
    expect(cross.status).to.equal(403);
    expect((await cross.json()).error.code).to.equal('cross-site');
    const otherOrigin = await app.request(`http://limen.example${path}`, { method: 'POST', headers: { cookie, origin: 'http://evil.example', host: 'limen.example' } });
    expect(otherOrigin.status).to.equal(403);
    // A script or tool with the bearer header is not a browser riding a cookie.
    const bearer = await app.request(`http://limen.example${path}`, { method: 'POST', headers: { authorization: 'Bearer reviewer-token', 'sec-fetch-site': 'cross-site' } });
    expect(bearer.status).to.equal(200);
  });

  it('a read with the cookie must come from the same origin too: a page on another port of the host is same-site, and a GET has effects', async () => {
    const { app } = harness();
    const { cookie } = await signIn(app);
    // What an <img src> on http://127.0.0.1:8081 sends to http://127.0.0.1:8080 (SameSite=Strict lets the cookie through).
    for (const site of ['same-site', 'cross-site']) {
      const res = await app.request('http://limen.example/dicomweb/studies', { headers: { cookie, 'sec-fetch-site': site } });
      expect(res.status, site).to.equal(403);
      expect((await res.json()).error.code).to.equal('cross-site');
    }
    expect((await app.request('http://limen.example/dicomweb/studies', { headers: { cookie, 'sec-fetch-site': 'same-origin' } })).status).to.equal(200);
    // Typed into the address bar (or a browser that does not say): the cookie's own origin.
    expect((await app.request('http://limen.example/dicomweb/studies', { headers: { cookie, 'sec-fetch-site': 'none' } })).status).to.equal(200);
    expect((await app.request('http://limen.example/dicomweb/studies', { headers: { cookie } })).status).to.equal(200);
  });

  it('expires with its time to live, and ends on sign-out (cookie cleared)', async () => {
    const { app, clock, events } = harness();
    const first = await signIn(app);
    clock.now += 60 * 60 * 1000;
    expect((await app.request('/dicomweb/studies', { headers: { cookie: first.cookie } })).status).to.equal(401);
    const second = await signIn(app);
    const out = await app.request('/api/v1/session', { method: 'DELETE', headers: { cookie: second.cookie, 'sec-fetch-site': 'same-origin' } });
    expect(out.status).to.equal(204);
    expect(out.headers.get('set-cookie')).to.match(/^limen_session=; /).and.include('Max-Age=0');
    expect((await app.request('/dicomweb/studies', { headers: { cookie: second.cookie } })).status).to.equal(401);
    expect(events.map((e) => e.type)).to.deep.equal(['session.opened', 'session.opened', 'session.closed']);
  });

  describe('bound to its API token', () => {
    /** Token ids → expiry (ms); revoking deletes the entry. Looked up like storage's token rows. */
    function tokenLifetimes(clock: { now: number }, expiries: Record<string, number>) {
      const lookups: string[] = [];
      const lifetime: TokenLifetime = {
        activeUntil: async (id) => {
          lookups.push(id);
          const until = expiries[id];
          return until !== undefined && until > clock.now ? new Date(until) : null;
        },
      };
      return { lifetime, lookups, revoke: (id: string) => delete expiries[id] };
    }

    it('a session ends when its API token expires, not an hour later', async () => {
      const clock = { now: Date.parse('2025-03-01T08:00:00Z') };
      const tokenExpiry = clock.now + 10 * 60 * 1000;
      const { lifetime } = tokenLifetimes(clock, { 'tok-r': tokenExpiry });
      const { app } = harness(clock, (memory) => new TokenBoundSessionStore(memory, lifetime));
      const { res, cookie } = await signIn(app);
      expect((await res.json()).session.expiresAt).to.equal('2025-03-01T08:10:00.000Z');
      // A session cookie (closing the browser ends it); the server ends the session at expiresAt.
      expect(res.headers.get('set-cookie')).to.not.match(/Expires=|Max-Age=/i);
      clock.now = tokenExpiry - 1;
      expect((await app.request('/dicomweb/studies', { headers: { cookie } })).status).to.equal(200);
      clock.now = tokenExpiry;
      expect((await app.request('/dicomweb/studies', { headers: { cookie } })).status).to.equal(401);
      expect((await app.request('/api/v1/session', { headers: { cookie } })).status).to.equal(401);
    });

    it('revoking the token ends its sessions on their next request, and drops them from memory', async () => {
      const clock = { now: Date.parse('2025-03-01T08:00:00Z') };
      const { lifetime, lookups, revoke } = tokenLifetimes(clock, { 'tok-r': clock.now + 3_600_000, 'tok-a': clock.now + 3_600_000 });
      const { app, sessions } = harness(clock, (memory) => new TokenBoundSessionStore(memory, lifetime));
      const reviewer = await signIn(app);
      const admin = await signIn(app, 'admin-token');
      expect((await app.request('/dicomweb/studies', { headers: { cookie: reviewer.cookie } })).status).to.equal(200);
      revoke('tok-r');
      const refused = await app.request('/dicomweb/studies', { headers: { cookie: reviewer.cookie } });
      expect(refused.status).to.equal(401);
      expect((await refused.json()).error.code).to.equal('session-expired');
      expect((await app.request('/api/v1/session', { headers: { cookie: reviewer.cookie } })).status).to.equal(401);
      expect(sessions.size, 'only the admin’s session is left').to.equal(1);
      expect((await app.request('/api/v1/session', { headers: { cookie: admin.cookie } })).status).to.equal(200);
      // Looked up on each use, not cached: a revocation from another process counts at once.
      expect(lookups.filter((id) => id === 'tok-r')).to.have.length(3);
    });

    it('a session opened another way (OIDC) is not looked up as a token', async () => {
      const lookups: string[] = [];
      const store = new TokenBoundSessionStore(new MemorySessionStore(), { activeUntil: async (id) => (lookups.push(id), null) });
      const opened = await store.open(TOKENS['reviewer-token'], { method: 'oidc' });
      expect((await store.resolve(opened.token))?.method).to.equal('oidc');
      expect(lookups).to.deep.equal([]);
    });
  });

  it('the memory store keeps only the hash of a token and bounds its size', async () => {
    const sessions = new MemorySessionStore({ maxSessions: 2 });
    const a = await sessions.open(TOKENS['reviewer-token'], { method: 'api-token' });
    const b = await sessions.open(TOKENS['reviewer-token'], { method: 'oidc' });
    const c = await sessions.open(TOKENS['admin-token'], { method: 'api-token' });
    expect(a.session.id).to.not.include(a.token);
    expect(await sessions.resolve(a.token), 'oldest dropped').to.equal(null);
    expect((await sessions.resolve(b.token))?.method).to.equal('oidc');
    expect((await sessions.resolve(c.token))?.identity.role).to.equal('admin');
    expect(sessions.size).to.equal(2);
  });

  it("one credential signing in over and over ends only its own oldest sessions, never another person's", async () => {
    const sessions = new MemorySessionStore({ maxSessions: 50, maxSessionsPerIdentity: 3 });
    const reviewer = await sessions.open(TOKENS['reviewer-token'], { method: 'api-token' });
    const flood = [];
    for (let i = 0; i < 200; i++) flood.push(await sessions.open(TOKENS['admin-token'], { method: 'api-token' }));
    expect((await sessions.resolve(reviewer.token))?.identity.role).to.equal('reviewer');
    expect(sessions.size).to.equal(4);
    const live = await Promise.all(flood.map((f) => sessions.resolve(f.token)));
    expect(live.map((s) => s !== null).lastIndexOf(false)).to.equal(196); // the last three live
  });
});
