/**
 * A loopback gateway for the viewer tests: the real viewer hosting and session routes, and a
 * minimal in-memory review API and QIDO endpoint standing in for the ones built elsewhere (the
 * same HTTP contract, the same authentication). It records what it was asked.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { HttpError, actorOf, errorResponse, type AppEnv, type Identity } from '../../../gateway/http/index.js';
import { MemorySessionStore, sessionOrBearerAuth, sessionRoutes, viewerRoutes } from '../../../gateway/viewer/index.js';
import type { Review } from '../../../ohif-extension/src/api.js';

export const TOKENS: Record<string, Identity> = {
  'reviewer-token': { role: 'reviewer', user: 'dr-lovelace', id: 'tok-r' },
  'curie-token': { role: 'reviewer', user: 'dr-curie', id: 'tok-c' },
  /** Issued to nobody: recorded as `token:tok-u`. */
  'unnamed-reviewer-token': { role: 'reviewer', id: 'tok-u' },
  'modality-token': { role: 'modality', user: 'ct-1', id: 'tok-m' },
};

export interface ViewerServer {
  url: string;
  /** Requests seen: method, path, status, whether a session cookie authenticated it. */
  requests: { method: string; path: string; status: number }[];
  decisions: { studyInstanceUID: string; body: unknown; user?: string }[];
  reviews: Map<string, Review>;
  close(): Promise<void>;
}

export interface ViewerServerOptions {
  viewerDir: string;
  extensionBundle: string;
  glb: Uint8Array;
  reviews: Review[];
  /** 0 (the default) for any free port. */
  port?: number;
}

export function testReview(studyInstanceUID: string, glb: Uint8Array, overrides: Partial<Review> = {}): Review {
  return {
    studyInstanceUID,
    status: 'pending',
    createdAt: '2025-03-01T09:00:00.000Z',
    model: { id: 'abdomen-ct', version: '1.2.0', name: 'Abdominal organs', cardUrl: '/api/v1/models/abdomen-ct/card' },
    segments: [
      { number: 1, label: 'Liver', volumeMl: 1523.4, color: [222, 120, 89] },
      { number: 2, label: 'Spleen', volumeMl: 187.25, color: [158, 92, 199] },
    ],
    seg: { seriesInstanceUID: `${studyInstanceUID}.9`, sopInstanceUID: `${studyInstanceUID}.9.1` },
    glb: { url: `/api/v1/results/${studyInstanceUID}/model.glb`, sha256: createHash('sha256').update(glb).digest('hex') },
    ...overrides,
  };
}

export async function startViewerServer(options: ViewerServerOptions): Promise<ViewerServer> {
  const tokens = { verifyToken: async (t: string) => TOKENS[t] ?? null };
  const sessions = new MemorySessionStore();
  const requests: ViewerServer['requests'] = [];
  const decisions: ViewerServer['decisions'] = [];
  const reviews = new Map(options.reviews.map((r) => [r.studyInstanceUID, structuredClone(r)]));
  const reviewer = sessionOrBearerAuth({ tokens, sessions, roles: ['reviewer'] });

  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    await next();
    requests.push({ method: c.req.method, path: new URL(c.req.url).pathname, status: c.res.status });
  });
  app.route('/api/v1', sessionRoutes({ tokens, sessions }));
  app.route('/viewer', viewerRoutes({ viewerDir: options.viewerDir, extensionBundle: options.extensionBundle, sessions }));

  // QIDO-RS studies: this test archive is empty.
  app.get('/dicomweb/studies', reviewer, (c) => c.body('[]', 200, { 'content-type': 'application/dicom+json' }));

  app.get('/api/v1/reviews', reviewer, (c) => {
    const status = c.req.query('status');
    const all = [...reviews.values()];
    const picked = status === 'decided' ? all.filter((r) => r.status === 'approved' || r.status === 'rejected') : all.filter((r) => r.status === status);
    return c.json({ reviews: picked });
  });
  app.get('/api/v1/reviews/:uid', reviewer, (c) => {
    const r = reviews.get(c.req.param('uid'));
    if (!r) throw new HttpError(404, 'not-found', 'no review for this study');
    // As storage/reviews.ts `open`: the first reader takes a pending review into review; later ones change nothing.
    if (r.status === 'pending') Object.assign(r, { status: 'in_review', openedAt: new Date().toISOString(), openedBy: actorOf(c.get('identity')) });
    return c.json(r);
  });
  app.post('/api/v1/reviews/:uid/decision', reviewer, async (c) => {
    const r = reviews.get(c.req.param('uid'));
    if (!r) throw new HttpError(404, 'not-found', 'no review for this study');
    const body = (await c.req.json()) as { decision?: string; comment?: string; segSOPInstanceUID?: string; glbSha256?: string };
    decisions.push({ studyInstanceUID: r.studyInstanceUID, body, user: c.get('identity').user });
    // As gateway/review/routes.ts: the refusal carries the review as it is now.
    const now = { details: { review: structuredClone(r) } };
    if (r.status === 'approved' || r.status === 'rejected') throw new HttpError(409, 'already-decided', `already ${r.status}`, now);
    if ((body.segSOPInstanceUID && body.segSOPInstanceUID !== r.seg.sopInstanceUID) || (body.glbSha256 && body.glbSha256 !== r.glb.sha256)) {
      throw new HttpError(409, 'stale', 'the result was replaced since it was shown; reload and review again', now);
    }
    if (body.decision !== 'approve' && body.decision !== 'reject') throw new HttpError(400, 'invalid-decision', 'decision must be approve or reject');
    if (body.decision === 'reject' && !body.comment?.trim()) throw new HttpError(400, 'comment-required', 'a rejection needs a comment');
    Object.assign(r, {
      status: body.decision === 'approve' ? 'approved' : 'rejected',
      decidedAt: new Date().toISOString(),
      decidedBy: c.get('identity').user,
      comment: body.comment ?? '',
    });
    return c.json({ review: r });
  });
  app.get('/api/v1/results/:uid/model.glb', reviewer, (c) => {
    if (!reviews.has(c.req.param('uid'))) throw new HttpError(404, 'not-found', 'no result for this study');
    return c.body(new Uint8Array(options.glb), 200, { 'content-type': 'model/gltf-binary' });
  });
  app.onError((err) => (err instanceof HttpError ? err.getResponse() : errorResponse(500, 'internal-error', (err as Error).message)));

  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: options.port ?? 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    decisions,
    reviews,
    close: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
