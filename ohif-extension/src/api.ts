/**
 * Limen's review API as the extension uses it: typed fetch functions over `/api/v1`, same
 * origin, authenticated by the session cookie the browser sends along.
 */

/** Where a review stands. `approved` and `rejected` are final. */
export type ReviewStatus = 'pending' | 'in_review' | 'approved' | 'rejected';

/** The queue filters the list endpoint takes. */
export type QueueStatus = 'pending' | 'in_review' | 'decided';

export const QUEUE_STATUSES: readonly QueueStatus[] = ['pending', 'in_review', 'decided'];

export interface ReviewModel {
  id: string;
  version: string;
  name: string;
  /** The model card (intended use, training data, limits). */
  cardUrl: string;
}

export interface ReviewSegment {
  /** The SEG's SegmentNumber. */
  number: number;
  label: string;
  volumeMl: number;
  /** Display colour, sRGB (0–255, or 0–1). */
  color: [number, number, number];
}

/** One AI result waiting for, or having had, a radiologist's decision. */
export interface Review {
  /** De-identified Study Instance UID. */
  studyInstanceUID: string;
  status: ReviewStatus;
  createdAt: string;
  /** When the first reviewer opened it (it went to `in_review`). */
  openedAt?: string;
  /** Who opened it first: a user, or `token:<id>` for a token issued to none. */
  openedBy?: string;
  decidedAt?: string;
  decidedBy?: string;
  comment?: string;
  model: ReviewModel;
  segments: ReviewSegment[];
  /** The SEG being reviewed: what an approval approves. */
  seg: { seriesInstanceUID: string; sopInstanceUID: string };
  /** The 3D model being reviewed, with the SHA-256 an approval pins. */
  glb: { url: string; sha256: string };
}

export type Decision = 'approve' | 'reject';

/**
 * A decision as sent. `segSOPInstanceUID` and `glbSha256` pin what the reviewer was shown: the
 * server refuses (409 `stale`) a decision about a result that was replaced meanwhile.
 */
export interface DecisionBody {
  decision: Decision;
  comment: string;
  segSOPInstanceUID: string;
  glbSha256: string;
}

/** Who the session belongs to (`GET /api/v1/session`). */
export interface SessionInfo {
  role: string;
  user?: string;
  /** The name the server records this session's reviews and decisions under (`openedBy`, `decidedBy`); absent from older gateways. */
  actor?: string;
  method: string;
  expiresAt: string;
}

/** The `code` of an {@link ApiError} for a request that got no answer (network down, gateway stopped). */
export const UNREACHABLE = 'unreachable';

/**
 * An API answer other than success, as data: HTTP status, the server's `code` and message. A
 * request that got no answer at all is one too: status 0, code {@link UNREACHABLE}.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface LimenApi {
  session(): Promise<SessionInfo>;
  listReviews(status: QueueStatus): Promise<Review[]>;
  getReview(studyInstanceUID: string): Promise<Review>;
  /**
   * 409 (`ApiError`) when the review was already decided (`already-decided`) or its result was
   * replaced since it was shown (`stale`); the error body then holds the review as it is now.
   */
  decide(studyInstanceUID: string, body: DecisionBody): Promise<Review>;
  /** Ends the session (`DELETE /session`); the server clears the cookie. */
  signOut(): Promise<void>;
  /** The GLB's bytes. */
  fetchGlb(url: string): Promise<ArrayBuffer>;
  /** The default GLB location of a study's result. */
  glbUrl(studyInstanceUID: string): string;
}

export interface ApiOptions {
  /** `/api/v1` */
  apiRoot: string;
  fetch?: typeof fetch;
  /** Told of every 401 answer (the session expired or its token was revoked). */
  onUnauthorized?: (error: ApiError) => void;
}

export function createApi(options: ApiOptions): LimenApi {
  const root = options.apiRoot.replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const request = async (path: string, init: RequestInit = {}): Promise<Response> => {
    let res: Response;
    try {
      res = await doFetch(path, {
        credentials: 'same-origin',
        ...init,
        headers: { accept: 'application/json', ...(init.headers as Record<string, string> | undefined) },
      });
    } catch (err) {
      // fetch rejects with a TypeError ("Failed to fetch") when no answer came; an abort stays as it is.
      if (err instanceof TypeError) throw new ApiError(0, UNREACHABLE, 'the gateway cannot be reached', undefined, { cause: err });
      throw err;
    }
    if (!res.ok) {
      const error = await apiError(res);
      if (error.status === 401) options.onUnauthorized?.(error);
      throw error;
    }
    return res;
  };
  const json = async <T>(path: string, init?: RequestInit): Promise<T> => (await (await request(path, init)).json()) as T;
  const uid = (u: string) => encodeURIComponent(u);

  return {
    session: async () => (await json<{ session: SessionInfo }>(`${root}/session`)).session,
    listReviews: async (status) => (await json<{ reviews: Review[] }>(`${root}/reviews?status=${status}`)).reviews,
    getReview: async (studyInstanceUID) => unwrapReview(await json<Review | { review: Review }>(`${root}/reviews/${uid(studyInstanceUID)}`)),
    decide: async (studyInstanceUID, body) =>
      unwrapReview(
        await json<{ review: Review }>(`${root}/reviews/${uid(studyInstanceUID)}/decision`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
      ),
    signOut: async () => {
      await request(`${root}/session`, { method: 'DELETE' });
    },
    fetchGlb: async (url) => (await request(url, { headers: { accept: 'model/gltf-binary' } })).arrayBuffer(),
    glbUrl: (studyInstanceUID) => `${root}/results/${uid(studyInstanceUID)}/model.glb`,
  };
}

/** `GET /reviews/{uid}` may answer the review itself or `{ review }`; both are read. */
function unwrapReview(body: Review | { review: Review }): Review {
  return 'review' in body && body.review ? body.review : (body as Review);
}

/** The review as it is now, when a refusal carries it (`{ error: { review } }`, as a 409 does). */
export function reviewOfError(error: unknown): Review | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const review = (error.body as { error?: { review?: unknown } } | undefined)?.error?.review;
  return review && typeof review === 'object' && typeof (review as Review).studyInstanceUID === 'string' ? (review as Review) : undefined;
}

/** Reads Limen's error body (`{ error: { code, message } }`) leniently. */
export async function apiError(res: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  const err = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = typeof err?.code === 'string' ? err.code : `http-${res.status}`;
  const message = typeof err?.message === 'string' ? err.message : `${res.status} ${res.statusText || 'error'}`;
  return new ApiError(res.status, code, message, body);
}
