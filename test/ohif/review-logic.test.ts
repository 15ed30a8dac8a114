/**
 * The extension's plain logic, without the viewer: the queue, decisions, formatting, URLs,
 * settings, the review API client (against an in-process hono app speaking the contract), and
 * the GLB integrity check.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { ApiError, createApi, reviewOfError, type Review } from '../../ohif-extension/src/api.js';
import { checkGlbIntegrity, sha256Hex } from '../../ohif-extension/src/integrity.js';
import {
  AI_NOTICE,
  alreadyDecidedNotice,
  approveBlockedReason,
  checkDecision,
  clockTime,
  cssColor,
  decisionFailure,
  errorMessage,
  formatVolume,
  groupQueue,
  openedFirstNotice,
  openedLine,
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
    const pins = { segSOPInstanceUID: '2.25.1.1.1', glbSha256: '0'.repeat(64) };
    expect(checkDecision(review('2.25.1', 'pending', '2025-03-01T00:00:00Z'), 'reject', '   ')).to.deep.include({ ok: false, code: 'comment-required' });
    expect(checkDecision(review('2.25.1', 'in_review', '2025-03-01T00:00:00Z'), 'reject', ' wrong kidney ')).to.deep.equal({
      ok: true,
      body: { decision: 'reject', comment: 'wrong kidney', ...pins },
    });
    expect(checkDecision(review('2.25.1', 'pending', '2025-03-01T00:00:00Z'), 'approve', '')).to.deep.equal({ ok: true, body: { decision: 'approve', comment: '', ...pins } });
    expect(checkDecision(review('2.25.1', 'approved', '2025-03-01T00:00:00Z'), 'reject', 'late')).to.deep.include({ ok: false, code: 'already-decided' });
  });

  it('approve pins the SEG and the GLB the reviewer saw (a reprocessed study is not approved unseen)', () => {
    const shown = { ...review('2.25.7', 'pending', '2025-03-01T00:00:00Z'), seg: { seriesInstanceUID: '2.25.7.5', sopInstanceUID: '2.25.7.5.1' }, glb: { url: '/g', sha256: 'ab'.repeat(32) } };
    const check = checkDecision(shown, 'approve', ' looks right ');
    expect(check).to.deep.equal({ ok: true, body: { decision: 'approve', comment: 'looks right', segSOPInstanceUID: '2.25.7.5.1', glbSha256: 'ab'.repeat(32) } });
    // A review that does not name what it shows cannot be decided: the decision would pin nothing.
    expect(checkDecision({ ...shown, seg: { seriesInstanceUID: '2.25.7.5', sopInstanceUID: '' } }, 'approve', '')).to.deep.include({ ok: false, code: 'unpinned' });
    expect(checkDecision({ ...shown, glb: { url: '/g', sha256: '' } }, 'approve', '')).to.deep.include({ ok: false, code: 'unpinned' });
  });

  it('approve waits for a reload while the image viewer shows another SEG than the one it would pin', () => {
    const opened = review('2.25.7', 'in_review', '2025-03-01T00:00:00Z');
    const reprocessed = { ...opened, seg: { seriesInstanceUID: '2.25.7.2', sopInstanceUID: '2.25.7.2.1' } };
    expect(approveBlockedReason(opened, opened.seg, false), 'the viewer shows what would be pinned').to.equal(null);
    expect(approveBlockedReason(reprocessed, opened.seg, false)).to.equal('Reload to see the new segmentation before approving');
    // The viewer has the new SEG among its display sets after all (it was loaded again).
    expect(approveBlockedReason(reprocessed, opened.seg, true)).to.equal(null);
    // Nothing known to be shown yet: nothing to contradict (the review is still loading).
    expect(approveBlockedReason(reprocessed, null, false)).to.equal(null);
  });

  it('tells a stale result, an earlier decision, a lost session and an unreachable gateway apart', () => {
    const now = { ...review('2.25.7', 'approved', '2025-03-01T00:00:00Z', '2025-03-02T10:00:00.000Z'), decidedBy: 'dr-curie' };
    const stale = decisionFailure(new ApiError(409, 'stale', 'the result was replaced', { error: { code: 'stale', message: 'x', review: { ...now, status: 'pending' } } }));
    expect(stale.kind).to.equal('stale');
    expect(stale.message).to.include('The result changed since you opened it (reprocessed): look at the new result before deciding');
    expect((stale as { review?: Review }).review?.studyInstanceUID).to.equal('2.25.7');
    const taken = decisionFailure(new ApiError(409, 'already-decided', 'already approved', { error: { code: 'already-decided', message: 'x', review: now } }));
    expect(taken).to.deep.include({ kind: 'already-decided', review: now });
    expect(decisionFailure(new ApiError(401, 'session-expired', 'the session is unknown or expired')).kind).to.equal('signed-out');
    const down = decisionFailure(new ApiError(0, 'unreachable', 'the gateway cannot be reached'));
    expect(down).to.deep.equal({ kind: 'unreachable', message: 'The gateway cannot be reached: your decision was not recorded.' });
    expect(decisionFailure(new ApiError(400, 'comment-required', 'a rejection needs a comment'))).to.deep.equal({ kind: 'refused', message: 'Your decision was not recorded: a rejection needs a comment' });
    expect(errorMessage(new ApiError(0, 'unreachable', 'x'))).to.equal('the gateway cannot be reached');
    expect(errorMessage(new ApiError(401, 'no-session', 'x'))).to.match(/session has ended/);
  });

  it('after another reviewer decided first, says the own decision was NOT recorded, and who decided what when', () => {
    const now = { status: 'rejected' as const, decidedBy: 'dr-curie', decidedAt: '2025-03-02T10:00:00.000Z' };
    expect(alreadyDecidedNotice('approve', now, (iso) => iso.slice(0, 10))).to.equal('Your approval was NOT recorded: dr-curie had already rejected this result on 2025-03-02.');
    expect(alreadyDecidedNotice('reject', undefined)).to.equal('Your rejection was NOT recorded: another reviewer had already decided this result.');
  });

  it('a second reviewer is told who opened the study first and when, the first one is not', () => {
    const opened = { status: 'in_review' as const, openedBy: 'dr-x', openedAt: new Date(2026, 2, 4, 9, 5).toISOString() };
    expect(clockTime(opened.openedAt)).to.equal('09:05');
    expect(openedLine(opened)).to.equal('In review by dr-x since 09:05');
    expect(openedFirstNotice(opened, 'dr-y')).to.equal('dr-x opened this study first at 09:05: check with them before deciding');
    // A session without a user cannot tell it is the opener: it is warned rather than not.
    expect(openedFirstNotice(opened, undefined)).to.equal('dr-x opened this study first at 09:05: check with them before deciding');
    expect(openedFirstNotice(opened, 'dr-x')).to.equal(null);
    // A token issued to nobody is recorded as token:<id>, which its session is told as its actor.
    expect(openedFirstNotice({ ...opened, openedBy: 'token:tok-u' }, 'token:tok-u')).to.equal(null);
    expect(openedFirstNotice({ ...opened, openedBy: 'token:tok-u' }, 'token:tok-v')).to.equal('token:tok-u opened this study first at 09:05: check with them before deciding');
    // Nothing to say for a review nobody is reading, or opened before who opened it was kept.
    expect(openedLine({ ...opened, status: 'pending' })).to.equal(null);
    expect(openedFirstNotice({ ...opened, status: 'approved' }, 'dr-y')).to.equal(null);
    expect(openedLine({ status: 'in_review' })).to.equal(null);
    expect(openedFirstNotice({ status: 'in_review' }, 'dr-y')).to.equal(null);
    expect(openedFirstNotice({ status: 'in_review', openedBy: 'token:tok-m' }, 'dr-y')).to.equal('token:tok-m opened this study first: check with them before deciding');
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
    const pins = { segSOPInstanceUID: stored.seg.sopInstanceUID, glbSha256: stored.glb.sha256 };
    const decided = await api.decide('2.25.9', { decision: 'approve', comment: 'ok', ...pins });
    expect(decided.status).to.equal('approved');
    expect(seen[0]).to.deep.equal({ method: 'POST', url: 'http://limen.test/api/v1/reviews/2.25.9/decision', body: { decision: 'approve', comment: 'ok', ...pins } });
    let error: unknown;
    try {
      await api.decide('2.25.9', { decision: 'reject', comment: 'no', ...pins });
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

  it('a 409 carries the review as it is now (who decided, or the new result)', async () => {
    const now = { ...stored, status: 'approved' as const, decidedBy: 'dr-curie' };
    const racing = createApi({
      apiRoot: '/api/v1',
      fetch: async () => new Response(JSON.stringify({ error: { review: now, code: 'already-decided', message: 'already approved' } }), { status: 409 }),
    });
    const err = await racing.decide('2.25.9', { decision: 'approve', comment: '', segSOPInstanceUID: 'a', glbSha256: 'b' }).catch((e: unknown) => e);
    expect(reviewOfError(err)).to.deep.equal(now);
  });

  it('a network failure is an ApiError "unreachable", not "Failed to fetch"', async () => {
    const down = createApi({ apiRoot: '/api/v1', fetch: () => Promise.reject(new TypeError('Failed to fetch')) });
    const err = await down.decide('2.25.9', { decision: 'approve', comment: '', segSOPInstanceUID: 'a', glbSha256: 'b' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ApiError);
    expect(err).to.include({ status: 0, code: 'unreachable', message: 'the gateway cannot be reached' });
    const glbErr = await down.fetchGlb('/api/v1/results/2.25.9/model.glb').catch((e: unknown) => e);
    expect(errorMessage(glbErr)).to.equal('the gateway cannot be reached');
    // An abort is not a network failure.
    const aborted = createApi({ apiRoot: '/api/v1', fetch: () => Promise.reject(new DOMException('aborted', 'AbortError')) });
    expect(await aborted.session().catch((e: unknown) => (e as Error).name)).to.equal('AbortError');
  });

  it('any 401 is reported, so the panel can switch to signed out (session expired or token revoked)', async () => {
    const heard: ApiError[] = [];
    const expired = createApi({
      apiRoot: '/api/v1',
      fetch: async () => new Response(JSON.stringify({ error: { code: 'session-expired', message: 'sign in again' } }), { status: 401 }),
      onUnauthorized: (e) => heard.push(e),
    });
    await expired.listReviews('pending').catch(() => undefined);
    await expired.decide('2.25.9', { decision: 'approve', comment: '', segSOPInstanceUID: 'a', glbSha256: 'b' }).catch(() => undefined);
    expect(heard.map((e) => [e.status, e.code])).to.deep.equal([
      [401, 'session-expired'],
      [401, 'session-expired'],
    ]);
  });

  it('signs out with DELETE /api/v1/session', async () => {
    const calls: { method?: string; url: string }[] = [];
    const client = createApi({
      apiRoot: '/api/v1',
      fetch: async (input, init) => {
        calls.push({ method: init?.method, url: String(input) });
        return new Response(null, { status: 204 });
      },
    });
    await client.signOut();
    expect(calls).to.deep.equal([{ method: 'DELETE', url: '/api/v1/session' }]);
  });
});
