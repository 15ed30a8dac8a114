/**
 * The extension's plain logic, without the viewer: the queue, decisions, formatting, URLs,
 * settings, the review API client (against an in-process hono app speaking the contract), and
 * the GLB integrity check.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { ApiError, createApi, type Review } from '../../ohif-extension/src/api.js';
import { checkGlbIntegrity, sha256Hex } from '../../ohif-extension/src/integrity.js';
import {
  AI_NOTICE,
  checkDecision,
  cssColor,
  formatVolume,
  groupQueue,
  safeLink,
  studyUIDsFromSearch,
  studyUrl,
} from '../../ohif-extension/src/review-logic.js';
import { readSettings } from '../../ohif-extension/src/settings.js';

const review = (uid: string, status: Review['status'], createdAt: string, decidedAt?: string): Review => ({
  studyInstanceUID: uid,
  status,
  createdAt,
  ...(decidedAt ? { decidedAt } : {}),
  model: { id: 'm', version: '1', name: 'M', cardUrl: '/card' },
  segments: [],
  seg: { seriesInstanceUID: `${uid}.1`, sopInstanceUID: `${uid}.1.1` },
  glb: { url: `/api/v1/results/${uid}/model.glb`, sha256: '0'.repeat(64) },
});

describe('ohif-extension: review logic', () => {
  it('states the notice exactly', () => {
    expect(AI_NOTICE).to.equal('AI-generated result — requires approval by a radiologist before it is used');
  });

  it('groups the queue: each study once, waiting ones oldest first, decided newest first', () => {
    const q = groupQueue([
      review('2.25.3', 'pending', '2025-03-03T00:00:00Z'),
      review('2.25.1', 'pending', '2025-03-01T00:00:00Z'),
      review('2.25.2', 'in_review', '2025-03-02T00:00:00Z'),
      review('2.25.4', 'approved', '2025-02-01T00:00:00Z', '2025-02-02T00:00:00Z'),
      review('2.25.5', 'rejected', '2025-02-01T00:00:00Z', '2025-02-05T00:00:00Z'),
      // The same study again, from a later list: decided since.
      review('2.25.3', 'approved', '2025-03-03T00:00:00Z', '2025-03-04T00:00:00Z'),
    ]);
    expect(q.pending.map((r) => r.studyInstanceUID)).to.deep.equal(['2.25.1']);
    expect(q.in_review.map((r) => r.studyInstanceUID)).to.deep.equal(['2.25.2']);
    expect(q.decided.map((r) => r.studyInstanceUID)).to.deep.equal(['2.25.3', '2.25.5', '2.25.4']);
  });

  it('a rejection needs a comment; a decided review takes no decision; comments are trimmed', () => {
    expect(checkDecision({ status: 'pending' }, 'reject', '   ')).to.deep.include({ ok: false, code: 'comment-required' });
    expect(checkDecision({ status: 'in_review' }, 'reject', ' wrong kidney ')).to.deep.equal({ ok: true, body: { decision: 'reject', comment: 'wrong kidney' } });
    expect(checkDecision({ status: 'pending' }, 'approve', '')).to.deep.equal({ ok: true, body: { decision: 'approve', comment: '' } });
    expect(checkDecision({ status: 'approved' }, 'reject', 'late')).to.deep.include({ ok: false, code: 'already-decided' });
  });

  it('formats volumes and colours', () => {
    expect([formatVolume(1523.4), formatVolume(187.25), formatVolume(12.34), formatVolume(0.4234), formatVolume(Number.NaN)]).to.deep.equal([
      '1,523 mL',
      '187 mL',
      '12.3 mL',
      '0.42 mL',
      '—',
    ]);
    expect(cssColor([222, 120, 89])).to.equal('rgb(222, 120, 89)');
    expect(cssColor([0.87, 0.47, 0.35])).to.equal('rgb(222, 120, 89)');
    expect(cssColor([300, -4, 1.5])).to.equal('rgb(255, 0, 2)');
  });

  it('reads the study UIDs of a viewer URL and builds the URL that opens a study', () => {
    expect(studyUIDsFromSearch('?StudyInstanceUIDs=1.2.3,1.2.4&StudyInstanceUIDs=1.2.3')).to.deep.equal(['1.2.3', '1.2.4']);
    expect(studyUIDsFromSearch('?foo=1')).to.deep.equal([]);
    expect(studyUrl('/viewer', '/viewer/segmentation', '1.2.3')).to.equal('/viewer/segmentation?StudyInstanceUIDs=1.2.3');
    expect(studyUrl('/viewer', '/viewer/', '1.2.3')).to.equal('/viewer/viewer?StudyInstanceUIDs=1.2.3');
  });

  it('links only http(s) model cards', () => {
    expect(safeLink('/api/v1/models/x/card', 'https://limen.example')).to.equal('https://limen.example/api/v1/models/x/card');
    expect(safeLink('javascript:alert(1)', 'https://limen.example')).to.equal(null);
    expect(safeLink(undefined, 'https://limen.example')).to.equal(null);
  });

  it('reads settings leniently: only same-origin paths, defaults otherwise', () => {
    expect(readSettings({ limen: { apiRoot: '/api/v2/', dicomwebRoot: 'https://evil.example', basePath: '//x', signInUrl: '/viewer/sign-in' } })).to.deep.equal({
      apiRoot: '/api/v2',
      dicomwebRoot: '/dicomweb',
      basePath: '/viewer',
      signInUrl: '/viewer/sign-in',
    });
    expect(readSettings(undefined)).to.deep.equal({ apiRoot: '/api/v1', dicomwebRoot: '/dicomweb', basePath: '/viewer' });
  });

  it('checks the GLB against the SHA-256 under review, and says when it cannot', async () => {
    const bytes = new TextEncoder().encode('glTF model bytes');
    const hex = createHash('sha256').update(bytes).digest('hex');
    const buf = bytes.buffer.slice(0) as ArrayBuffer;
    expect(await sha256Hex(buf)).to.equal(hex);
    expect(await checkGlbIntegrity(buf, hex.toUpperCase())).to.deep.equal({ status: 'verified' });
    expect(await checkGlbIntegrity(buf, '0'.repeat(64))).to.deep.equal({ status: 'mismatch', actual: hex });
    expect((await checkGlbIntegrity(buf, undefined)).status).to.equal('unavailable');
  });
});

describe('ohif-extension: the review API client', () => {
  const stored = review('2.25.9', 'pending', '2025-03-01T00:00:00Z');
  const seen: { method: string; url: string; body?: unknown }[] = [];
  const app = new Hono();
  app.get('/api/v1/reviews', (c) => c.json({ reviews: c.req.query('status') === 'pending' ? [stored] : [] }));
  app.get('/api/v1/reviews/:uid', (c) => (c.req.param('uid') === stored.studyInstanceUID ? c.json(stored) : c.json({ error: { code: 'not-found', message: 'no review' } }, 404)));
  app.post('/api/v1/reviews/:uid/decision', async (c) => {
    const body = await c.req.json();
    seen.push({ method: 'POST', url: c.req.url, body });
    if (seen.length > 1) return c.json({ error: { code: 'already-decided', message: 'already approved' } }, 409);
    return c.json({ review: { ...stored, status: 'approved', decidedBy: 'dr-x' } });
  });
  const api = createApi({ apiRoot: 'http://limen.test/api/v1', fetch: (input, init) => Promise.resolve(app.request(String(input), init)) });

  it('lists, gets, decides; a second decision is a 409 ApiError with the server code', async () => {
    expect(await api.listReviews('pending')).to.deep.equal([stored]);
    expect(await api.listReviews('decided')).to.deep.equal([]);
    expect(await api.getReview('2.25.9')).to.deep.equal(stored);
    const decided = await api.decide('2.25.9', { decision: 'approve', comment: 'ok' });
    expect(decided.status).to.equal('approved');
    expect(seen[0]).to.deep.equal({ method: 'POST', url: 'http://limen.test/api/v1/reviews/2.25.9/decision', body: { decision: 'approve', comment: 'ok' } });
    let error: unknown;
    try {
      await api.decide('2.25.9', { decision: 'reject', comment: 'no' });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ApiError);
    expect(error).to.include({ status: 409, code: 'already-decided', message: 'already approved' });
    expect(api.glbUrl('2.25.9')).to.equal('http://limen.test/api/v1/results/2.25.9/model.glb');
  });

  it('a missing review is a 404 ApiError', async () => {
    let error: unknown;
    try {
      await api.getReview('2.25.404');
    } catch (e) {
      error = e;
    }
    expect(error).to.include({ status: 404, code: 'not-found' });
  });
});
