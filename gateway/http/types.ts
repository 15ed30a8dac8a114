/**
 * What the HTTP app needs from the rest of Limen, as small interfaces passed in by the
 * composition root (nothing is looked up). Each is implemented elsewhere: tokens and studies by
 * storage, ingest by the edge, readiness by the process.
 */
import type { MiddlewareHandler } from 'hono';
import type { RequestIdVariables } from 'hono/request-id';
import type { StowRequestFacts } from '../dicomweb/stow.js';
import type { ReceiveMemory } from '../ingest/receive-memory.js';
import type { InstanceIngest } from '../ingest/types.js';
import type { Logger } from '../log/index.js';
import type { MetricsRegistry } from '../metrics/index.js';

/** Roles of DESIGN.md's auth model. */
export type Role = 'admin' | 'reviewer' | 'requester' | 'auditor' | 'modality';

/** Who presented a bearer token. Pseudonymous: `user` is an account id, never a patient's. */
export interface Identity {
  role: Role;
  /** The account the token was issued to, if any (`limen token create --user`). */
  user?: string;
  /** The token's id (not its secret), for the audit trail. */
  id: string;
}

/** Context variables set by the app's middleware: the request id, and the caller once authenticated. */
export type AppVariables = RequestIdVariables & { identity: Identity };
export type AppEnv = { Variables: AppVariables };

/** Checks a bearer token; `null` for an unknown, revoked or expired one. */
export interface TokenVerifier {
  verifyToken(plaintext: string): Promise<Identity | null>;
}

/** A study as the admin API lists it: pseudonymous identifiers and bookkeeping only. */
export interface StudySummary {
  /** The de-identified Study Instance UID. */
  studyInstanceUID: string;
  status: string;
  seriesCount: number;
  instanceCount: number;
  route: string;
  receivedAt: string | Date;
  expiresAt: string | Date;
  [field: string]: unknown;
}

export interface StudyDirectory {
  /** The statuses a study can have, to filter on. */
  readonly statuses: readonly string[];
  listStudies(page: { limit: number; offset: number; status?: string }): Promise<StudySummary[]>;
  /** `null` when no study has this (de-identified) UID. */
  getStudy(studyInstanceUID: string): Promise<StudySummary | null>;
}

export interface ReadinessCheck {
  ok: boolean;
  /** PHI-free detail, e.g. why the database is not reachable. */
  message?: string;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, ReadinessCheck>;
}

export interface HttpAppOptions {
  /** Largest STOW-RS part (one instance), in bytes; above it the request gets 413. */
  maxInstanceBytes?: number;
  /** STOW-RS requests read at once; more wait, then get 503. */
  maxConcurrentStowRequests?: number;
  /** How long a STOW-RS request beyond that limit waits before its 503. */
  stowAdmissionWaitMs?: number;
  /** The origin clients reach Limen at, behind a proxy (`http.publicUrl`); by default each request's own. */
  publicOrigin?: string;
}

/** Each request holds about five instances in memory while it runs: eight hold some forty. */
export const DEFAULT_MAX_CONCURRENT_STOW_REQUESTS = 8;
/** Long enough for a 50-instance batch ahead of it to finish on a slow disk. */
export const DEFAULT_STOW_ADMISSION_WAIT_MS = 30_000;

/** 512 MiB: a large multi-frame CT fits; one part is held in memory while it is ingested. */
export const DEFAULT_MAX_INSTANCE_BYTES = 512 * 1024 * 1024;

export interface HttpAppDeps {
  ingest: InstanceIngest;
  /** The received instances' memory, shared with the DIMSE listener. */
  receiveMemory?: ReceiveMemory;
  tokens: TokenVerifier;
  studies: StudyDirectory;
  metrics: MetricsRegistry;
  readiness(): Promise<Readiness>;
  logger: Logger;
  /** The route a STOW sender is bound to (`default` unless configured otherwise). */
  routeForToken(identity: Identity): string;
  /** How people's routes (the studies list) authenticate; by default a bearer token only, no session cookie. */
  personAuth?: (roles: readonly Role[]) => MiddlewareHandler<AppEnv>;
  /** Records who sent a STOW-RS request, before any of it is stored (see `StowRoutesDeps.onRequest`). */
  onStowRequest?(request: StowRequestFacts): Promise<void>;
  options?: HttpAppOptions;
}
