/**
 * Who opened which study: pseudonymized images are still personal data, so a person reading a
 * study's images or results leaves a `study.accessed` event in the audit trail (as IHE ATNA's
 * "DICOM Instances Accessed"). A viewer fetches hundreds of frames per study, so one event per
 * person, study and hour is written, not one per request.
 */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../log/index.js';
import { actorOf } from './auth.js';
import type { AppEnv, Identity } from './types.js';

/** The event appended (the storage's audit input, as far as this module needs it). */
export interface StudyAccessEvent {
  type: 'study.accessed';
  actor: string;
  studyInstanceUID: string;
  detail: { role: Identity['role']; tokenId: string; via: string };
}

export interface StudyAccessOptions {
  append(event: StudyAccessEvent): Promise<unknown>;
  logger: Logger;
  /** One event per actor and study within this time. Default one hour. */
  windowMs?: number;
  /** Pairs remembered at most; the oldest are forgotten first (so their next access is recorded again). */
  maxRemembered?: number;
  now?: () => number;
}

const HOUR_MS = 3_600_000;

export class StudyAccess {
  /** `actor study` → when its last event was written; in insertion order, oldest first. */
  private readonly recorded = new Map<string, number>();
  private readonly windowMs: number;
  private readonly maxRemembered: number;
  private readonly now: () => number;

  constructor(private readonly options: StudyAccessOptions) {
    this.windowMs = options.windowMs ?? HOUR_MS;
    this.maxRemembered = options.maxRemembered ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Middleware for GET routes whose path names a study in `param`: after a successful answer, the
   * access is recorded. Registered ahead of the routes' own authentication, it reads the identity
   * that check set once the handler has answered.
   */
  middleware(param: string, via: string): MiddlewareHandler<AppEnv> {
    return async (c, next) => {
      await next();
      if (c.req.method !== 'GET' || c.res.status >= 300) return;
      const identity = c.get('identity');
      const study = c.req.param(param);
      if (identity && study) await this.record(identity, study, via);
    };
  }

  /** Records the access unless this actor's access to this study was recorded within the window. */
  async record(identity: Identity, studyInstanceUID: string, via: string): Promise<void> {
    const actor = actorOf(identity);
    const key = `${actor} ${studyInstanceUID}`;
    const t = this.now();
    const last = this.recorded.get(key);
    if (last !== undefined && t - last < this.windowMs) return;
    this.recorded.delete(key);
    this.recorded.set(key, t);
    if (this.recorded.size > this.maxRemembered) this.recorded.delete(this.recorded.keys().next().value!);
    try {
      await this.options.append({ type: 'study.accessed', actor, studyInstanceUID, detail: { role: identity.role, tokenId: identity.id, via } });
    } catch (err) {
      // The answer has been given; the next request tries again.
      this.recorded.delete(key);
      this.options.logger.error({ id: 'http.study-access.audit-failed', msg: 'study access not recorded in the audit trail', err });
    }
  }
}
