/**
 * The review panel's logic as plain functions: grouping the queue, checking a decision before it
 * is sent, formatting, and where to navigate. No viewer, no DOM.
 */
import { ApiError, reviewOfError, UNREACHABLE, type Decision, type DecisionBody, type QueueStatus, type Review, type ReviewStatus } from './api.js';

/** The statement shown wherever an AI result is shown. */
export const AI_NOTICE = 'AI-generated result — requires approval by a radiologist before it is used';

export interface Queue {
  pending: Review[];
  in_review: Review[];
  decided: Review[];
}

/** The queue bucket a review's status falls in. */
export function queueOf(status: ReviewStatus): QueueStatus {
  return status === 'approved' || status === 'rejected' ? 'decided' : status;
}

/**
 * Groups reviews by queue, whatever list they came from: each study once (the latest answer
 * wins), pending and in review oldest first (first come, first read), decided newest first.
 */
export function groupQueue(reviews: readonly Review[]): Queue {
  const byStudy = new Map<string, Review>();
  for (const r of reviews) byStudy.set(r.studyInstanceUID, r);
  const queue: Queue = { pending: [], in_review: [], decided: [] };
  for (const r of byStudy.values()) queue[queueOf(r.status)].push(r);
  const time = (s: string | undefined) => (s ? Date.parse(s) || 0 : 0);
  queue.pending.sort((a, b) => time(a.createdAt) - time(b.createdAt));
  queue.in_review.sort((a, b) => time(a.createdAt) - time(b.createdAt));
  queue.decided.sort((a, b) => time(b.decidedAt ?? b.createdAt) - time(a.decidedAt ?? a.createdAt));
  return queue;
}

export type DecisionCheck =
  | { ok: true; body: DecisionBody }
  | { ok: false; code: 'comment-required' | 'already-decided' | 'unpinned'; message: string };

/**
 * Checks a decision before sending it: a rejection needs a comment; a decided review takes no other.
 * The body pins the SEG and the GLB of the review shown, so the server refuses it (409 `stale`) if
 * the study was reprocessed meanwhile; a review that names neither cannot be decided from here.
 */
export function checkDecision(review: Pick<Review, 'status' | 'seg' | 'glb'>, decision: Decision, comment: string): DecisionCheck {
  if (queueOf(review.status) === 'decided') return { ok: false, code: 'already-decided', message: `this result was already ${review.status}` };
  const trimmed = comment.trim();
  if (decision === 'reject' && trimmed === '') return { ok: false, code: 'comment-required', message: 'a rejection needs a comment saying why' };
  const segSOPInstanceUID = review.seg?.sopInstanceUID;
  const glbSha256 = review.glb?.sha256;
  if (!segSOPInstanceUID || !glbSha256) {
    return { ok: false, code: 'unpinned', message: 'this result does not say which SEG and 3D model it is, so no decision can be tied to them: reload the study' };
  }
  return { ok: true, body: { decision, comment: trimmed, segSOPInstanceUID, glbSha256 } };
}

/** Why Approve waits while the image viewer shows a segmentation other than the one an approval would pin. */
export const RELOAD_BEFORE_APPROVING = 'Reload to see the new segmentation before approving';

/**
 * Why Approve is unavailable, or null. An approval pins the review's SEG, so it must be the one the
 * image viewer shows: after a reprocessing the panel shows the new result, but the viewer keeps the
 * SEG it was given until the page is loaded again (a SEG stored later is not among its display
 * sets). `viewerSeg` is that SEG (null while unknown); `pinnedInViewer`, whether the viewer has
 * loaded the review's own SEG anyway. Rejecting stays possible: a rejection approves nothing.
 */
export function approveBlockedReason(review: Pick<Review, 'seg'>, viewerSeg: Pick<Review['seg'], 'sopInstanceUID'> | null | undefined, pinnedInViewer: boolean): string | null {
  if (!viewerSeg || pinnedInViewer || viewerSeg.sopInstanceUID === review.seg?.sopInstanceUID) return null;
  return RELOAD_BEFORE_APPROVING;
}

/** What went wrong with a request, in words a reviewer can act on. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === UNREACHABLE) return 'the gateway cannot be reached';
    if (error.status === 401) return 'your session has ended (expired or signed out): sign in again';
  }
  return error instanceof Error ? error.message : String(error);
}

/** Why a decision was not recorded, and what the review is now when the server said. */
export type DecisionFailure =
  | { kind: 'stale'; message: string; review?: Review }
  | { kind: 'already-decided'; message: string; review?: Review }
  | { kind: 'signed-out'; message: string }
  | { kind: 'unreachable'; message: string }
  | { kind: 'refused'; message: string };

export const STALE_MESSAGE = 'The result changed since you opened it (reprocessed): look at the new result before deciding. Your decision was not recorded.';

/** Reads a failed decision: each kind has its own message and next step. */
export function decisionFailure(error: unknown): DecisionFailure {
  if (error instanceof ApiError) {
    if (error.code === UNREACHABLE) return { kind: 'unreachable', message: 'The gateway cannot be reached: your decision was not recorded.' };
    if (error.status === 401) return { kind: 'signed-out', message: 'Your session has ended: your decision was not recorded. Sign in again.' };
    if (error.status === 409 && error.code === 'stale') return { kind: 'stale', message: STALE_MESSAGE, review: reviewOfError(error) };
    if (error.status === 409) return { kind: 'already-decided', message: 'Someone decided this result already: your decision was not recorded.', review: reviewOfError(error) };
    return { kind: 'refused', message: `Your decision was not recorded: ${error.message}` };
  }
  return { kind: 'refused', message: `Your decision was not recorded: ${errorMessage(error)}` };
}

const DECISION_WORDS: Record<Decision, string> = { approve: 'approval', reject: 'rejection' };

/**
 * The notice after another reviewer decided first: that this reviewer's decision was NOT recorded,
 * and who decided what, when (as far as the review now says).
 */
export function alreadyDecidedNotice(mine: Decision, now: Pick<Review, 'status' | 'decidedBy' | 'decidedAt'> | undefined, formatTime: (iso: string) => string = (iso) => new Date(iso).toLocaleString()): string {
  const who = now?.decidedBy ?? 'another reviewer';
  const what = now && queueOf(now.status) === 'decided' ? now.status : 'decided';
  const when = now?.decidedAt ? ` on ${formatTime(now.decidedAt)}` : '';
  return `Your ${DECISION_WORDS[mine]} was NOT recorded: ${who} had already ${what} this result${when}.`;
}

/** `09:05`: the local time of day of an ISO date, 24-hour. */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** `In review by dr-x since 09:05`, for a review someone is reading; null otherwise (or when nobody was recorded). */
export function openedLine(review: Pick<Review, 'status' | 'openedBy' | 'openedAt'>, formatTime: (iso: string) => string = clockTime): string | null {
  if (review.status !== 'in_review' || !review.openedBy) return null;
  return `In review by ${review.openedBy}${review.openedAt ? ` since ${formatTime(review.openedAt)}` : ''}`;
}

/**
 * The warning for a reviewer who is not the one reading the study already: who opened it first,
 * when, and to check with them before deciding (two readings of one study, one decision kept).
 * Null when nobody else opened it. `me` is the session's actor, the name the server records for
 * it (its user, or `token:<id>` for a token issued to nobody); unknown, the warning is shown.
 */
export function openedFirstNotice(review: Pick<Review, 'status' | 'openedBy' | 'openedAt'>, me: string | undefined, formatTime: (iso: string) => string = clockTime): string | null {
  if (review.status !== 'in_review' || !review.openedBy || review.openedBy === me) return null;
  const when = review.openedAt ? ` at ${formatTime(review.openedAt)}` : '';
  return `${review.openedBy} opened this study first${when}: check with them before deciding`;
}

/** `12.3 mL`, `1,234 mL`, `0.42 mL`: three significant digits below 100, whole millilitres above. */
export function formatVolume(volumeMl: number): string {
  if (!Number.isFinite(volumeMl)) return '—';
  const digits = Math.abs(volumeMl) >= 100 ? 0 : Math.abs(volumeMl) >= 10 ? 1 : 2;
  return `${volumeMl.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })} mL`;
}

/** A CSS colour from an sRGB triple given as 0–255 or as 0–1. */
export function cssColor(rgb: readonly number[]): string {
  const unit = rgb.every((v) => v <= 1);
  const c = rgb.slice(0, 3).map((v) => Math.max(0, Math.min(255, Math.round(unit ? v * 255 : v))));
  return `rgb(${c[0] ?? 0}, ${c[1] ?? 0}, ${c[2] ?? 0})`;
}

const STATUS_LABELS: Record<ReviewStatus, string> = { pending: 'Pending', in_review: 'In review', approved: 'Approved', rejected: 'Rejected' };

export function statusLabel(status: ReviewStatus): string {
  return STATUS_LABELS[status] ?? status;
}

/** The study UIDs the viewer's URL opens (`StudyInstanceUIDs`, comma separated or repeated). */
export function studyUIDsFromSearch(search: string): string[] {
  const params = new URLSearchParams(search);
  const raw = [...params.getAll('StudyInstanceUIDs'), ...params.getAll('studyInstanceUIDs')];
  return [...new Set(raw.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean))];
}

/**
 * The viewer URL that opens a study in the current mode (`/viewer/<mode>?StudyInstanceUIDs=…`),
 * or in the basic viewer mode from the study list.
 */
export function studyUrl(basePath: string, currentPathname: string, studyInstanceUID: string): string {
  const rest = currentPathname.startsWith(basePath) ? currentPathname.slice(basePath.length) : currentPathname;
  const mode = rest.split('/').filter(Boolean)[0];
  const route = mode && /^[A-Za-z0-9_-]+$/.test(mode) ? mode : 'viewer';
  return `${basePath}/${route}?StudyInstanceUIDs=${encodeURIComponent(studyInstanceUID)}`;
}

/** A short form of a long UID for lists: its last 12 characters. */
export function shortUID(uid: string): string {
  return uid.length > 16 ? `…${uid.slice(-12)}` : uid;
}

/** The model card link, only when it is http(s) or same-origin (never `javascript:`). */
export function safeLink(url: string | undefined, origin: string): string | null {
  if (!url) return null;
  try {
    const u = new URL(url, origin);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}
