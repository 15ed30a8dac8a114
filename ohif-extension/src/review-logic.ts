/**
 * The review panel's logic as plain functions: grouping the queue, checking a decision before it
 * is sent, formatting, and where to navigate. No viewer, no DOM.
 */
import type { Decision, QueueStatus, Review, ReviewStatus } from './api.js';

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

export type DecisionCheck = { ok: true; body: { decision: Decision; comment: string } } | { ok: false; code: 'comment-required' | 'already-decided'; message: string };

/** Checks a decision before sending it: a rejection needs a comment; a decided review takes no other. */
export function checkDecision(review: Pick<Review, 'status'>, decision: Decision, comment: string): DecisionCheck {
  if (queueOf(review.status) === 'decided') return { ok: false, code: 'already-decided', message: `this result was already ${review.status}` };
  const trimmed = comment.trim();
  if (decision === 'reject' && trimmed === '') return { ok: false, code: 'comment-required', message: 'a rejection needs a comment saying why' };
  return { ok: true, body: { decision, comment: trimmed } };
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
