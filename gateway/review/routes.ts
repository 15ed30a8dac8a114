/**
 * `/api/v1/reviews` and `/api/v1/results`: the reviewer's queue, the decision, and the result
 * files (GLB, STL, report) the review is about. Pseudonymous data only.
 */
import { Hono } from 'hono';
import type { Storage, Review, ReviewStatus } from '../../storage/index.js';
import { actorOf, bearerAuth, HttpError, jsonObjectBody, type AppEnv, type Role, type TokenVerifier } from '../http/index.js';
import { isDicomUID } from '../../config/index.js';
import type { ReviewGate } from './gate.js';

export interface ReviewRoutesDeps {
  storage: Pick<Storage, 'reviews' | 'results' | 'audit'>;
  gate: ReviewGate;
  tokens: TokenVerifier;
  /** Swappable authentication (a session cookie for the viewer, or a bearer token). */
  auth?: (roles: readonly Role[]) => ReturnType<typeof bearerAuth>;
}

const QUEUES: Record<string, ReviewStatus[]> = {
  pending: ['pending'],
  in_review: ['in_review'],
  decided: ['approved', 'rejected'],
};

/** The review as the viewer's panel shows it. */
export function reviewView(r: Review): Record<string, unknown> {
  return {
    studyInstanceUID: r.studyInstanceUID,
    status: r.status,
    createdAt: r.createdAt.toISOString(),
    openedAt: r.openedAt?.toISOString(),
    openedBy: r.openedBy ?? undefined,
    decidedAt: r.decidedAt?.toISOString(),
    decidedBy: r.decidedBy ?? undefined,
    comment: r.comment ?? undefined,
    ...r.summary,
    seg: { ...(r.summary.seg as object | undefined), sopInstanceUID: r.segSOPInstanceUID },
    glb: { url: `/api/v1/results/${r.studyInstanceUID}/model.glb`, sha256: r.glbSha256 },
  };
}

export function reviewRoutes(deps: ReviewRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const auth = deps.auth ?? ((roles: readonly Role[]) => bearerAuth({ tokens: deps.tokens, roles }));
  const reviewers = auth(['reviewer', 'admin']);
  const readers = auth(['reviewer', 'admin', 'requester']);
  const uidParam = (uid: string): string => {
    if (!isDicomUID(uid)) throw new HttpError(400, 'bad-uid', 'not a DICOM UID');
    return uid;
  };

  app.get('/reviews', reviewers, async (c) => {
    const queue = c.req.query('status');
    if (queue !== undefined && !QUEUES[queue]) throw new HttpError(400, 'bad-status', `status is one of ${Object.keys(QUEUES).join(', ')}`);
    const reviews = await deps.storage.reviews.list(queue ? QUEUES[queue] : undefined);
    return c.json({ reviews: reviews.map(reviewView) });
  });

  app.get('/reviews/:uid', reviewers, async (c) => {
    const uid = uidParam(c.req.param('uid'));
    const review = await deps.storage.reviews.get(uid);
    if (!review) throw new HttpError(404, 'not-found', 'no review for this study');
    await deps.storage.reviews.open(uid, actorOf(c.get('identity')));
    return c.json({ review: reviewView((await deps.storage.reviews.get(uid))!) });
  });

  app.post('/reviews/:uid/decision', reviewers, async (c) => {
    const uid = uidParam(c.req.param('uid'));
    const body = await jsonObjectBody(c, 'the body must be a JSON object: { "decision": "approve" | "reject", "comment": "…" }');
    if (body.decision !== 'approve' && body.decision !== 'reject') throw new HttpError(400, 'bad-decision', 'decision is "approve" or "reject"');
    if (body.comment !== undefined && body.comment !== null && typeof body.comment !== 'string') throw new HttpError(400, 'bad-comment', 'comment is a string');
    const outcome = await deps.gate.decide(uid, {
      decision: body.decision,
      by: actorOf(c.get('identity')),
      comment: (body.comment as string | undefined) ?? null,
      expected: {
        segSOPInstanceUID: typeof body.segSOPInstanceUID === 'string' ? body.segSOPInstanceUID : undefined,
        glbSha256: typeof body.glbSha256 === 'string' ? body.glbSha256 : undefined,
      },
    });
    if (!outcome.ok) throw new HttpError(outcome.status, outcome.code, outcome.message, { details: outcome.review ? { review: reviewView(outcome.review) } : {} });
    return c.json({ review: reviewView(outcome.review), exports: outcome.exports });
  });

  /**
   * A requester sees a result only once a reviewer approved it: what is unreviewed or rejected
   * never reaches the people who would print or plan with it. (Which requester ordered which study
   * comes with requests; until then every requester sees every approved result.)
   */
  const releasedTo = async (c: { get(key: 'identity'): { role: Role } }, uid: string): Promise<void> => {
    if (c.get('identity').role !== 'requester') return;
    if ((await deps.storage.reviews.get(uid))?.status !== 'approved') throw new HttpError(404, 'not-found', 'no approved result for this study');
  };

  app.get('/results/:uid', readers, async (c) => {
    const uid = uidParam(c.req.param('uid'));
    await releasedTo(c, uid);
    const results = await deps.storage.results.list(uid);
    return c.json({ results: results.map((r) => ({ name: r.name, mediaType: r.mediaType, sha256: r.sha256, sizeBytes: r.sizeBytes, url: `/api/v1/results/${uid}/${r.name}` })) });
  });

  app.get('/results/:uid/:name', readers, async (c) => {
    const uid = uidParam(c.req.param('uid'));
    await releasedTo(c, uid);
    const result = await deps.storage.results.get(uid, c.req.param('name'));
    if (!result) throw new HttpError(404, 'not-found', 'no such result for this study');
    await deps.storage.audit.append({ type: 'result.downloaded', actor: actorOf(c.get('identity')), studyInstanceUID: uid, detail: { name: result.info.name, sha256: result.info.sha256 } });
    return c.body(new Uint8Array(result.bytes), 200, {
      'content-type': result.info.mediaType,
      'content-disposition': `attachment; filename="${result.info.name}"`,
      etag: `"${result.info.sha256}"`,
      'cache-control': 'private, no-store',
    });
  });

  return app;
}
