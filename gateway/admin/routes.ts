/**
 * Admin actions on a study under `/api/v1`: processing a study again with another model, the study's jobs (where an export failure is visible), and retrying
 * an export that ran out of attempts. Each action is audited with who asked.
 */
import { Hono } from 'hono';
import type { Job, Storage, StudyStatus } from '../../storage/index.js';
import { findModelDir } from '../../pipeline/process/model-dirs.js';
import { actorOf, bearerAuth, HttpError, jsonObjectBody, type AppEnv, type Role, type TokenVerifier } from '../http/index.js';
import { isDicomUID } from '../../config/index.js';
import type { RouteDoc } from '../http/route-doc.js';
import { EXPORT_JOB } from '../review/gate.js';

export interface AdminRoutesDeps {
  storage: Pick<Storage, 'reprocessStudy' | 'getStudy' | 'jobs' | 'audit'>;
  /** The configured models directory (searched before the shipped models). */
  modelsDir: string | undefined;
  tokens: TokenVerifier;
  auth?: (roles: readonly Role[]) => ReturnType<typeof bearerAuth>;
  /** Called after a job was queued or retried (wakes its worker). */
  onJobQueued?: (type: string) => void;
}

/**
 * Where a re-run may start: a result waiting for review or rejected, a failed study, or one that
 * completed with no job (its job was lost). Never an approved or delivered one: that result left.
 */
export const REPROCESSABLE: readonly StudyStatus[] = ['awaiting_review', 'rejected', 'failed', 'complete'];

export const adminRouteDocs: readonly RouteDoc[] = [
  {
    method: 'POST',
    path: '/api/v1/studies/:uid/reprocess',
    summary: `Processes the study again, optionally with another model: { "model": "<id>" }. From ${REPROCESSABLE.join(', ')}; an undecided review is withdrawn and the earlier SEG replaced when the new result is ready.`,
    roles: ['admin'],
    responses: { 202: '{ job }', 400: 'bad body or unknown model', 404: 'no such study', 409: 'not in a status that can be re-run, or already processing' },
  },
  { method: 'GET', path: '/api/v1/studies/:uid/jobs', summary: "The study's process and export jobs: status, attempts, stage, last error.", roles: ['admin'], responses: { 200: '{ jobs }', 404: 'no such study' } },
  { method: 'POST', path: '/api/v1/jobs/:id/retry', summary: 'Gives a dead export job a new round of attempts.', roles: ['admin'], responses: { 200: '{ job }', 404: 'no such job', 409: 'not a dead export job' } },
];

/** A job as an admin sees it: the payload's destination or model, never anything else of it. */
export function jobView(j: Job): Record<string, unknown> {
  const payload = (j.payload ?? {}) as { destination?: unknown; model?: unknown };
  return {
    id: j.id,
    type: j.type,
    status: j.status,
    destination: typeof payload.destination === 'string' ? payload.destination : undefined,
    model: typeof payload.model === 'string' ? payload.model : undefined,
    attempts: j.attempts,
    maxAttempts: j.maxAttempts,
    stage: j.stage ?? undefined,
    percent: j.percent ?? undefined,
    lastError: j.lastError ?? undefined,
    runAt: j.runAt.toISOString(),
    createdAt: j.createdAt.toISOString(),
    finishedAt: j.finishedAt?.toISOString(),
  };
}

export function adminRoutes(deps: AdminRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const admin = (deps.auth ?? ((roles: readonly Role[]) => bearerAuth({ tokens: deps.tokens, roles })))(['admin']);
  const studyParam = async (uid: string) => {
    if (!isDicomUID(uid)) throw new HttpError(400, 'invalid-uid', 'the path does not hold a valid Study Instance UID');
    if (!(await deps.storage.getStudy(uid))) throw new HttpError(404, 'not-found', 'no study with this Study Instance UID');
    return uid;
  };

  app.post('/studies/:uid/reprocess', admin, async (c) => {
    const uid = await studyParam(c.req.param('uid'));
    const body = await jsonObjectBody(c, 'the body must be a JSON object: { "model": "<id>" } (or empty for the route\'s model)', {});
    if (body.model !== undefined && typeof body.model !== 'string') throw new HttpError(400, 'bad-model', 'model is a model id (a string)');
    const model = body.model as string | undefined;
    if (model !== undefined && !findModelDir(model, deps.modelsDir)) {
      throw new HttpError(400, 'unknown-model', `no model "${model}" (GET /api/v1/models lists them)`);
    }
    const actor = actorOf(c.get('identity'));
    const r = await deps.storage.reprocessStudy(uid, model === undefined ? {} : { model }, REPROCESSABLE, (queued) => ({
      type: 'processing.requested',
      actor,
      studyInstanceUID: uid,
      detail: { model: model ?? null, ...queued },
    }));
    if (!r.ok) {
      if (r.reason === 'not-found') throw new HttpError(404, 'not-found', 'no study with this Study Instance UID');
      throw new HttpError(409, 'not-reprocessable', `the study is ${r.status}${r.status === 'complete' || r.status === 'processing' ? ' and already queued or processing' : `; it can be re-run from ${REPROCESSABLE.join(', ')}`}`, {
        details: { status: r.status },
      });
    }
    // The job as queued, before its worker is woken to claim it.
    const job = jobView((await deps.storage.jobs.get(r.jobId))!);
    deps.onJobQueued?.('process');
    return c.json({ job }, 202);
  });

  app.get('/studies/:uid/jobs', admin, async (c) => {
    const uid = await studyParam(c.req.param('uid'));
    return c.json({ jobs: (await deps.storage.jobs.list({ studyInstanceUID: uid, limit: 1000 })).map(jobView) });
  });

  app.post('/jobs/:id/retry', admin, async (c) => {
    const raw = c.req.param('id');
    if (!/^[1-9]\d{0,15}$/.test(raw)) throw new HttpError(400, 'bad-id', 'a job id is a positive whole number');
    const job = await deps.storage.jobs.get(Number(raw));
    if (!job) throw new HttpError(404, 'not-found', 'no job with this id');
    if (job.type !== EXPORT_JOB) throw new HttpError(409, 'not-retryable', `only export jobs are retried here; a study is processed again with POST /api/v1/studies/{uid}/reprocess`);
    // The failure's text stays on the job row, erased with the study; the audit trail is kept for good and takes no free text.
    const destination = (job.payload as { destination?: string } | null)?.destination ?? null;
    const audit = { type: 'export.retry-requested', actor: actorOf(c.get('identity')), studyInstanceUID: job.studyInstanceUID ?? undefined, detail: { jobId: job.id, destination, attempts: job.attempts } };
    if (!(await deps.storage.jobs.retry(job.id, audit))) throw new HttpError(409, 'not-dead', `the job is ${job.status}; only a job that ran out of attempts is retried`, { details: { status: job.status } });
    const retried = jobView((await deps.storage.jobs.get(job.id))!);
    deps.onJobQueued?.(EXPORT_JOB);
    return c.json({ job: retried });
  });

  return app;
}
