/**
 * `/api/v1/models`: the segmentation models a study can be processed with, and each model's
 * card (intended use, how it was built, validation, limits), which the review panel links to so
 * a reviewer knows what produced the result in front of them.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono } from 'hono';
import { findModelDir, listAvailableModels } from '../../pipeline/process/model-dirs.js';
import { bearerAuth, HttpError, type AppEnv, type Role, type TokenVerifier } from '../http/index.js';
import type { RouteDoc } from '../http/route-doc.js';

export interface ModelRoutesDeps {
  /** The configured models directory (searched before the shipped models). */
  modelsDir: string | undefined;
  tokens: TokenVerifier;
  auth?: (roles: readonly Role[]) => ReturnType<typeof bearerAuth>;
}

export const modelRouteDocs: readonly RouteDoc[] = [
  { method: 'GET', path: '/api/v1/models', summary: 'The models a study can be processed with (configured, then shipped), from their manifests.', roles: ['admin'], responses: { 200: '{ models }' } },
  {
    method: 'GET',
    path: '/api/v1/models/:id/card',
    summary: "The model's MODEL_CARD.md (text/markdown).",
    roles: ['admin', 'reviewer', 'requester'],
    responses: { 200: 'the card', 404: 'no such model, or it has no card' },
  },
];

export function modelRoutes(deps: ModelRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const auth = deps.auth ?? ((roles: readonly Role[]) => bearerAuth({ tokens: deps.tokens, roles }));

  app.get('/models', auth(['admin']), async (c) => c.json({ models: await listAvailableModels(deps.modelsDir) }));

  app.get('/models/:id/card', auth(['admin', 'reviewer', 'requester']), async (c) => {
    const dir = findModelDir(c.req.param('id'), deps.modelsDir);
    if (!dir) throw new HttpError(404, 'not-found', 'no model with this id');
    let card: string;
    try {
      card = await readFile(join(dir, 'MODEL_CARD.md'), 'utf8');
    } catch {
      throw new HttpError(404, 'not-found', 'this model has no MODEL_CARD.md');
    }
    return c.body(card, 200, { 'content-type': 'text/markdown; charset=utf-8', 'x-content-type-options': 'nosniff' });
  });

  return app;
}
