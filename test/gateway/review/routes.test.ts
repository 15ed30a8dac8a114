/**
 * The review routes in process, over a real storage: what the viewer's panel is told about a
 * review. Who opened a study first is part of it, so a second reviewer knows someone is reading it.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import type { AppEnv, Identity } from '../../../gateway/http/index.js';
import type { ReviewGate } from '../../../gateway/review/gate.js';
import { reviewRoutes } from '../../../gateway/review/routes.js';
import { openStorage, type Storage } from '../../../storage/index.js';
import { instanceInput } from '../../storage/fixtures.js';

const TOKENS: Record<string, Identity> = {
  'dr-x-token': { role: 'reviewer', user: 'dr-x', id: 'tok-x' },
  'dr-y-token': { role: 'reviewer', user: 'dr-y', id: 'tok-y' },
  'machine-token': { role: 'reviewer', id: 'tok-m' },
};

describe('gateway: review routes', () => {
  let dataDir = '';
  let storage: Storage;
  let now = Date.UTC(2026, 2, 4, 9, 15);
  let app: Hono<AppEnv>;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'limen-review-routes-'));
    storage = await openStorage({ dataDir, masterKey: new Uint8Array(32).fill(0x5a), now: () => new Date(now) });
    app = new Hono<AppEnv>().route(
      '/api/v1',
      reviewRoutes({ storage, gate: {} as ReviewGate, tokens: { verifyToken: async (t) => TOKENS[t] ?? null } }),
    );
  });

  afterEach(async () => {
    await storage.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const pendingReview = async (): Promise<string> => {
    const input = instanceInput();
    await storage.storeInstance(input);
    await storage.reviews.create({ studyInstanceUID: input.studyInstanceUID, summary: { model: 'default' }, segSOPInstanceUID: '2.25.1', glbSha256: 'a'.repeat(64) });
    return input.studyInstanceUID;
  };
  const get = async (path: string, token: string): Promise<Record<string, any>> => {
    const res = await app.request(path, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status, path).to.equal(200);
    return (await res.json()) as Record<string, any>;
  };

  it('the review JSON says who opened the study first and when, to every later reviewer and in the queue', async () => {
    const uid = await pendingReview();
    expect((await get('/api/v1/reviews?status=pending', 'dr-y-token')).reviews[0]).to.not.have.any.keys('openedBy', 'openedAt');

    const first = (await get(`/api/v1/reviews/${uid}`, 'dr-x-token')).review;
    expect(first).to.deep.include({ status: 'in_review', openedBy: 'dr-x', openedAt: '2026-03-04T09:15:00.000Z' });

    now += 20 * 60_000;
    const second = (await get(`/api/v1/reviews/${uid}`, 'dr-y-token')).review;
    expect(second).to.deep.include({ status: 'in_review', openedBy: 'dr-x', openedAt: '2026-03-04T09:15:00.000Z' });

    const queue = (await get('/api/v1/reviews?status=in_review', 'dr-y-token')).reviews;
    expect(queue.map((r: Record<string, unknown>) => [r.studyInstanceUID, r.openedBy, r.openedAt])).to.deep.equal([[uid, 'dr-x', '2026-03-04T09:15:00.000Z']]);
  });

  it('a review opened with a token issued to no user names the token', async () => {
    const uid = await pendingReview();
    expect((await get(`/api/v1/reviews/${uid}`, 'machine-token')).review).to.deep.include({ openedBy: 'token:tok-m' });
  });
});
