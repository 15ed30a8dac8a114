import { expect } from 'chai';
import { Hono } from 'hono';
import { StudyAccess, type StudyAccessEvent } from '../../../gateway/http/study-access.js';
import type { AppEnv, Identity } from '../../../gateway/http/types.js';
import { createLogger } from '../../../gateway/log/index.js';

const reviewer: Identity = { role: 'reviewer', user: 'dr-who', id: 'a1' };
const anonymous: Identity = { role: 'admin', id: 'b2' };

function setup() {
  const events: StudyAccessEvent[] = [];
  const logs: string[] = [];
  let t = 1_000_000;
  let failing = false;
  const access = new StudyAccess({
    append: async (e) => {
      if (failing) throw new Error('database is locked');
      events.push(e);
    },
    logger: createLogger({ write: (l) => logs.push(l) }),
    now: () => t,
    maxRemembered: 2,
  });
  const app = new Hono<AppEnv>();
  // As mounted: ahead of the routes, whose own check sets the identity.
  app.use('/studies/:study/*', access.middleware('study', 'dicomweb'));
  let who: Identity = reviewer;
  const auth = async (c: { set(k: 'identity', v: Identity): void }, next: () => Promise<void>) => {
    c.set('identity', who);
    await next();
  };
  app.get('/studies/:study/metadata', auth, (c) => c.json([]));
  app.get('/studies/:study/missing', auth, (c) => c.json({}, 404));
  app.post('/studies/:study/instances', auth, (c) => c.json({}));
  return {
    events,
    logs,
    get: (path: string, method = 'GET') => app.request(path, { method }),
    as: (identity: Identity) => (who = identity),
    advance: (ms: number) => (t += ms),
    fail: (on: boolean) => (failing = on),
  };
}

describe('gateway/http: who accessed which study', () => {
  it('records a successful read once per person, study and hour, naming the token when it has no user', async () => {
    const s = setup();
    for (let i = 0; i < 5; i++) expect((await s.get('/studies/1.2.3/metadata')).status).to.equal(200);
    expect(s.events).to.deep.equal([{ type: 'study.accessed', actor: 'dr-who', studyInstanceUID: '1.2.3', detail: { role: 'reviewer', tokenId: 'a1', via: 'dicomweb' } }]);
    await s.get('/studies/1.2.4/metadata');
    s.as(anonymous);
    await s.get('/studies/1.2.3/metadata');
    expect(s.events.map((e) => [e.actor, e.studyInstanceUID])).to.deep.equal([['dr-who', '1.2.3'], ['dr-who', '1.2.4'], ['token:b2', '1.2.3']]);
    s.advance(3_600_000);
    await s.get('/studies/1.2.3/metadata');
    expect(s.events).to.have.length(4);
  });

  it('records neither a failed read nor a write', async () => {
    const s = setup();
    expect((await s.get('/studies/1.2.3/missing')).status).to.equal(404);
    expect((await s.get('/studies/1.2.3/instances', 'POST')).status).to.equal(200);
    expect(s.events).to.deep.equal([]);
  });

  it('forgets the oldest pairs beyond its bound, so their next access is recorded again', async () => {
    const s = setup();
    for (const study of ['1.1', '1.2', '1.3', '1.1']) await s.get(`/studies/${study}/metadata`);
    expect(s.events.map((e) => e.studyInstanceUID)).to.deep.equal(['1.1', '1.2', '1.3', '1.1']);
  });

  it('answers when the trail cannot be written, logs it, and tries again on the next request', async () => {
    const s = setup();
    s.fail(true);
    expect((await s.get('/studies/1.2.3/metadata')).status).to.equal(200);
    expect(s.logs.some((l) => l.includes('"http.study-access.audit-failed"'))).to.equal(true);
    s.fail(false);
    await s.get('/studies/1.2.3/metadata');
    expect(s.events).to.have.length(1);
  });
});
