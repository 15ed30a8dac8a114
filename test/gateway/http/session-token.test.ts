/**
 * A browser session does not outlive the API token it was opened with: through the whole gateway
 * (real SQLite in a temp dir), the session cookie stops working when the token expires or is
 * revoked, on the review API and on DICOMweb alike.
 */
import { expect } from 'chai';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

describe('http: a session ends with its API token', function () {
  this.timeout(60_000);
  let gw: TestGateway;

  before(async () => {
    gw = await startTestGateway('worker:\n  enabled: false\n');
  });
  after(async () => {
    await gw?.dispose();
  });

  async function signIn(token: string): Promise<{ cookie: string; expiresAt: string }> {
    const res = await fetch(`${gw.base}/api/v1/session`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(res.status, await res.clone().text()).to.equal(201);
    const body = (await res.json()) as { session: { expiresAt: string } };
    return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0], expiresAt: body.session.expiresAt };
  }

  const statuses = async (cookie: string) => {
    const get = async (path: string) => (await fetch(`${gw.base}${path}`, { headers: { cookie } })).status;
    // The store holds no study: a search that may run finds nothing, 204.
    return { reviews: await get('/api/v1/reviews'), studies: await get('/dicomweb/studies'), session: await get('/api/v1/session') };
  };

  it('a revoked token’s session is refused on its very next request', async () => {
    const created = await gw.storage.createToken({ role: 'reviewer', user: 'dr-revoked', ttlSeconds: 3600 });
    const other = await gw.storage.createToken({ role: 'reviewer', user: 'dr-other', ttlSeconds: 3600 });
    const { cookie } = await signIn(created.token);
    const kept = await signIn(other.token);
    expect(await statuses(cookie)).to.deep.equal({ reviews: 200, studies: 204, session: 200 });

    expect(await gw.storage.tokens.revoke(created.id)).to.equal(true);
    expect(await statuses(cookie)).to.deep.equal({ reviews: 401, studies: 401, session: 401 });
    expect(await statuses(kept.cookie), 'another token’s session goes on').to.deep.equal({ reviews: 200, studies: 204, session: 200 });
  });

  it('an admin’s session reaches the studies list as it reaches the rest of the admin API', async () => {
    const admin = await gw.storage.createToken({ role: 'admin', user: 'it-admin', ttlSeconds: 3600 });
    const { cookie } = await signIn(admin.token);
    for (const path of ['/api/v1/studies', '/api/v1/studies?status=complete']) {
      expect((await fetch(`${gw.base}${path}`, { headers: { cookie } })).status, path).to.equal(200);
    }
    const reviewer = await signIn((await gw.storage.createToken({ role: 'reviewer', user: 'dr-no', ttlSeconds: 3600 })).token);
    expect((await fetch(`${gw.base}/api/v1/studies`, { headers: { cookie: reviewer.cookie } })).status).to.equal(403);
  });

  it('a session ends when its token expires at the latest, and says so in its expiry; its cookie ends with the browser', async () => {
    const created = await gw.storage.createToken({ role: 'reviewer', user: 'dr-short', ttlSeconds: 2 });
    const res = await fetch(`${gw.base}/api/v1/session`, { method: 'POST', headers: { authorization: `Bearer ${created.token}` } });
    expect(res.status).to.equal(201);
    const { session } = (await res.json()) as { session: { expiresAt: string } };
    expect(session.expiresAt, 'not the 8 h default').to.equal(created.expiresAt.toISOString());
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie, 'a session cookie').to.not.match(/Expires=|Max-Age=/i);
    const cookie = setCookie.split(';')[0];
    expect(await statuses(cookie)).to.deep.equal({ reviews: 200, studies: 204, session: 200 });

    await new Promise((resolve) => setTimeout(resolve, created.expiresAt.getTime() - Date.now() + 50));
    expect(await statuses(cookie)).to.deep.equal({ reviews: 401, studies: 401, session: 401 });
  });
});
