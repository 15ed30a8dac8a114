import { useCallback, useEffect, useState } from 'react';
import { ApiError, QUEUE_STATUSES, type Decision, type DecisionBody, type Review, type SessionInfo } from '../api.js';
import type { LimenContext } from '../context.js';
import { segLoadedInViewer } from '../current-review.js';
import {
  alreadyDecidedNotice,
  approveBlockedReason,
  checkDecision,
  cssColor,
  decisionFailure,
  errorMessage,
  formatVolume,
  groupQueue,
  openedFirstNotice,
  openedLine,
  safeLink,
  shortUID,
  STALE_MESSAGE,
  statusLabel,
  studyUrl,
  type DecisionFailure,
  type Queue,
} from '../review-logic.js';
import { AiNotice } from './Notice.js';
import { palette, s } from './styles.js';
import { useStore } from './use-store.js';

export interface ReviewPanelProps {
  ctx: LimenContext;
}

type SessionState = { state: 'checking' } | { state: 'signed-in'; session: SessionInfo } | { state: 'signed-out' } | { state: 'error'; message: string };

/** What the panel says after a decision the server refused, outside the form (which may be gone). */
type DecisionNotice =
  | { studyInstanceUID: string; kind: 'stale'; reloadNeeded: boolean }
  | { studyInstanceUID: string; kind: 'already-decided'; text: string; theirComment?: string; myComment: string };

const QUEUE_TITLES: Record<keyof Queue, string> = { pending: 'Pending', in_review: 'In review', decided: 'Decided' };

/** The sign-in page, coming back here afterwards. */
function signInHref(signInUrl: string): string {
  const next = typeof location === 'undefined' ? '' : `?next=${encodeURIComponent(location.pathname + location.search)}`;
  return signInUrl + next;
}

/** The reviewer's queue, and the result of the study on screen with its decision. */
export function ReviewPanel({ ctx }: ReviewPanelProps) {
  const current = useStore(ctx.current);
  const auth = useStore(ctx.auth);
  const [checked, setSession] = useState<SessionState>({ state: 'checking' });
  const [queue, setQueue] = useState<Queue | null>(null);
  const [queueError, setQueueError] = useState<string | null>(null);
  const [notice, setNotice] = useState<DecisionNotice | null>(null);
  const [signOutError, setSignOutError] = useState<string | null>(null);
  // Any 401 (expired session, revoked token) ends the session for the whole panel.
  const session: SessionState = auth.signedOut ? { state: 'signed-out' } : checked;

  const refreshQueue = useCallback(async () => {
    try {
      const lists = await Promise.all(QUEUE_STATUSES.map((st) => ctx.api.listReviews(st)));
      setQueue(groupQueue(lists.flat()));
      setQueueError(null);
    } catch (err) {
      setQueueError(`The queue could not be loaded: ${errorMessage(err)}`);
    }
  }, [ctx]);

  useEffect(() => {
    let live = true;
    ctx.api.session().then(
      (info) => {
        if (!live) return;
        setSession({ state: 'signed-in', session: info });
        void refreshQueue();
      },
      (err) => {
        if (!live) return;
        if (err instanceof ApiError && err.status === 401) setSession({ state: 'signed-out' });
        else setSession({ state: 'error', message: errorMessage(err) });
      },
    );
    return () => {
      live = false;
    };
  }, [ctx, refreshQueue]);

  // Opening a study takes it into review: the queue is listed again once the review loads, or it
  // would show the study as pending until someone pressed Refresh.
  const opened = current.review ? `${current.review.studyInstanceUID} ${current.review.status}` : null;
  const signedIn = session.state === 'signed-in';
  useEffect(() => {
    if (opened && signedIn) void refreshQueue();
  }, [opened, signedIn, refreshQueue]);

  const onDecided = (review: Review) => {
    setNotice(null);
    if (ctx.current.get().studyInstanceUID === review.studyInstanceUID) ctx.current.set({ review });
    void refreshQueue();
  };

  /** A decision refused as stale or already decided: show the result as it is now, and say so. */
  const onRefused = async (studyInstanceUID: string, failure: Extract<DecisionFailure, { kind: 'stale' | 'already-decided' }>, sent: DecisionBody) => {
    let latest = failure.review;
    try {
      latest = await ctx.api.getReview(studyInstanceUID);
    } catch {
      // The review the refusal carried (if any) stands in; the notice below holds either way.
    }
    if (latest && ctx.current.get().studyInstanceUID === studyInstanceUID) ctx.current.set({ review: latest });
    void refreshQueue();
    if (failure.kind === 'already-decided') {
      ctx.drafts.clear(studyInstanceUID);
      setNotice({ studyInstanceUID, kind: 'already-decided', text: alreadyDecidedNotice(sent.decision, latest), theirComment: latest?.comment, myComment: sent.comment });
    } else {
      // The same rule as the Approve button's, so the notice asks for a reload exactly when Approve waits for one.
      const reloadNeeded = latest ? approveBlockedReason(latest, ctx.current.get().viewerSeg, segLoadedInViewer(ctx, latest.seg)) !== null : true;
      setNotice({ studyInstanceUID, kind: 'stale', reloadNeeded });
    }
  };

  const signOut = async () => {
    setSignOutError(null);
    try {
      await ctx.api.signOut();
    } catch (err) {
      setSignOutError(`Not signed out: ${errorMessage(err)}`);
      return;
    }
    ctx.drafts.clearAll();
    if (ctx.settings.signInUrl) window.location.assign(signInHref(ctx.settings.signInUrl));
    else ctx.auth.set({ signedOut: true });
  };

  const shownNotice = notice && notice.studyInstanceUID === current.studyInstanceUID ? notice : null;
  return (
    <div style={s.panel} data-limen-review-panel="">
      <AiNotice />
      {session.state === 'signed-out' && (
        <SignInPrompt signInUrl={ctx.settings.signInUrl} ended={auth.signedOut} keptComment={current.studyInstanceUID ? ctx.drafts.get(current.studyInstanceUID) : ''} />
      )}
      {session.state === 'error' && <div style={s.error}>The session could not be checked: {session.message}</div>}
      {session.state === 'signed-in' && (
        <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', gap: 8 }}>
          <span style={s.muted} data-limen-signed-in="">
            Signed in as {session.session.user ?? session.session.actor ?? 'a reviewer'} ({session.session.role})
          </span>
          <button type="button" style={{ ...s.queueItem, width: 'auto', color: palette.accent }} onClick={() => void signOut()} data-limen-sign-out="">
            Sign out
          </button>
        </div>
      )}
      {signOutError && (
        <div role="alert" style={s.error}>
          {signOutError}
        </div>
      )}
      {session.state !== 'signed-out' && current.studyInstanceUID && (
        <CurrentStudy
          ctx={ctx}
          review={current.review}
          error={current.error}
          viewerSeg={current.viewerSeg}
          me={session.state === 'signed-in' ? (session.session.actor ?? session.session.user) : undefined}
          onDecided={onDecided}
          onRefused={onRefused}
        />
      )}
      {session.state !== 'signed-out' && shownNotice && <DecisionNoticeView notice={shownNotice} onDismiss={() => setNotice(null)} />}
      {session.state === 'signed-in' && (
        <section>
          <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center' }}>
            <h3 style={s.heading}>Review queue</h3>
            <button type="button" style={{ ...s.queueItem, width: 'auto', color: palette.accent }} onClick={() => void refreshQueue()}>
              Refresh
            </button>
          </div>
          {queueError && <div style={s.error}>{queueError}</div>}
          {queue &&
            (Object.keys(QUEUE_TITLES) as (keyof Queue)[]).map((k) => (
              <QueueSection key={k} title={QUEUE_TITLES[k]} reviews={queue[k]} ctx={ctx} currentUID={current.studyInstanceUID} />
            ))}
        </section>
      )}
    </div>
  );
}

function SignInPrompt({ signInUrl, ended, keptComment }: { signInUrl?: string; ended: boolean; keptComment: string }) {
  return (
    <div data-limen-signed-out="">
      {ended ? 'Your session has ended (it expired or was signed out). Nothing more was recorded. ' : 'Not signed in. '}
      {signInUrl ? (
        <a style={s.link} href={signInHref(signInUrl)}>
          Sign in
        </a>
      ) : (
        'Open a session with your reviewer token.'
      )}
      {keptComment && (
        <div style={{ marginTop: 8 }}>
          <label htmlFor="limen-kept-comment" style={s.muted}>
            Your comment is kept in this tab and comes back after you sign in:
          </label>
          <textarea id="limen-kept-comment" style={s.textarea} value={keptComment} readOnly data-limen-kept-comment="" />
        </div>
      )}
    </div>
  );
}

function DecisionNoticeView({ notice, onDismiss }: { notice: DecisionNotice; onDismiss: () => void }) {
  return (
    <div role="alert" style={{ ...s.error, border: `1px solid ${palette.danger}`, borderRadius: 4, padding: '6px 8px' }} data-limen-decision-notice={notice.kind}>
      {notice.kind === 'stale' ? (
        <>
          <div>{STALE_MESSAGE}</div>
          {notice.reloadNeeded && (
            <div style={{ marginTop: 6 }}>
              The image viewer still shows the segmentation you opened; reload the page to see the new one (your comment is kept).{' '}
              <button type="button" style={{ ...s.queueItem, width: 'auto', color: palette.accent, display: 'inline' }} onClick={() => window.location.reload()}>
                Reload
              </button>
            </div>
          )}
        </>
      ) : (
        <>
          <div>{notice.text}</div>
          {notice.theirComment && <div style={s.muted}>Their comment: “{notice.theirComment}”</div>}
          {notice.myComment && (
            <div style={{ marginTop: 6 }}>
              <label htmlFor="limen-unrecorded-comment" style={s.muted}>
                Your comment (not recorded), to copy:
              </label>
              <textarea id="limen-unrecorded-comment" style={s.textarea} value={notice.myComment} readOnly data-limen-unrecorded-comment="" />
            </div>
          )}
        </>
      )}
      <button type="button" style={{ ...s.queueItem, width: 'auto', color: palette.accent, marginTop: 4 }} onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}

function QueueSection({ title, reviews, ctx, currentUID }: { title: string; reviews: Review[]; ctx: LimenContext; currentUID: string | null }) {
  return (
    <div data-limen-queue={title}>
      <h4 style={{ ...s.heading, fontSize: 11 }}>
        {title} ({reviews.length})
      </h4>
      <ul style={s.list}>
        {reviews.map((r) => (
          <li key={r.studyInstanceUID}>
            <button
              type="button"
              title={r.studyInstanceUID}
              style={{ ...s.queueItem, background: r.studyInstanceUID === currentUID ? 'rgba(90, 204, 230, 0.15)' : undefined }}
              onClick={() => window.location.assign(studyUrl(ctx.settings.basePath, location.pathname, r.studyInstanceUID))}
            >
              <span style={s.grow}>
                {shortUID(r.studyInstanceUID)} · {r.model.name}
              </span>
              <span style={s.muted} data-limen-queue-status={r.status}>
                {openedLine(r) ?? statusLabel(r.status)}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

type RefusedHandler = (studyInstanceUID: string, failure: Extract<DecisionFailure, { kind: 'stale' | 'already-decided' }>, sent: DecisionBody) => Promise<void>;

function CurrentStudy({
  ctx,
  review,
  error,
  viewerSeg,
  me,
  onDecided,
  onRefused,
}: {
  ctx: LimenContext;
  review: Review | null | undefined;
  error: string | null;
  /** The SEG the image viewer was given for this study. */
  viewerSeg: Review['seg'] | null;
  /** The signed-in reviewer as the server records them (see `openedFirstNotice`), when known. */
  me: string | undefined;
  onDecided: (r: Review) => void;
  onRefused: RefusedHandler;
}) {
  if (review === undefined) return <div style={s.muted}>Loading the AI result…</div>;
  if (review === null) return <div style={error ? s.error : s.muted}>{error ?? 'This study has no AI result to review.'}</div>;
  const card = safeLink(review.model.cardUrl, typeof location === 'undefined' ? 'http://localhost' : location.origin);
  const opened = openedLine(review);
  const openedFirst = openedFirstNotice(review, me);
  return (
    <section data-limen-current={review.studyInstanceUID}>
      <h3 style={s.heading}>This study</h3>
      <div>
        <strong data-limen-status={review.status}>{opened ?? statusLabel(review.status)}</strong>
        {review.decidedBy && (
          <span style={s.muted}>
            {' '}
            by {review.decidedBy}
            {review.decidedAt ? `, ${new Date(review.decidedAt).toLocaleString()}` : ''}
          </span>
        )}
      </div>
      {review.comment && <div style={s.muted}>“{review.comment}”</div>}
      {openedFirst && (
        <div role="status" style={{ ...s.notice, fontWeight: 400, marginTop: 4 }} data-limen-opened-first={review.openedBy}>
          {openedFirst}
        </div>
      )}
      <div style={{ margin: '6px 0' }}>
        Model: {review.model.name} <span style={s.muted}>({review.model.id} {review.model.version})</span>
        {card && (
          <>
            {' · '}
            <a style={s.link} href={card} target="_blank" rel="noopener noreferrer">
              model card
            </a>
          </>
        )}
      </div>
      <ul style={s.list} data-limen-segments="">
        {review.segments.map((seg) => (
          <li key={seg.number} style={s.row}>
            <span style={{ ...s.swatch, background: cssColor(seg.color) }} />
            <span style={s.grow}>{seg.label}</span>
            <span style={s.muted}>{formatVolume(seg.volumeMl)}</span>
          </li>
        ))}
      </ul>
      <DecisionForm key={review.studyInstanceUID} ctx={ctx} review={review} viewerSeg={viewerSeg} onDecided={onDecided} onRefused={onRefused} />
    </section>
  );
}

function DecisionForm({
  ctx,
  review,
  viewerSeg,
  onDecided,
  onRefused,
}: {
  ctx: LimenContext;
  review: Review;
  viewerSeg: Review['seg'] | null;
  onDecided: (r: Review) => void;
  onRefused: RefusedHandler;
}) {
  const uid = review.studyInstanceUID;
  // The draft outlives the form: a sign-in after an expired session, a page reload.
  const [comment, setCommentState] = useState(() => ctx.drafts.get(uid));
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const decided = review.status === 'approved' || review.status === 'rejected';
  if (decided) return null;
  const approveBlocked = approveBlockedReason(review, viewerSeg, Boolean(review.seg) && segLoadedInViewer(ctx, review.seg));

  const setComment = (text: string) => {
    setCommentState(text);
    ctx.drafts.set(uid, text);
  };

  const send = async (decision: Decision) => {
    // Pins the SEG and GLB of the review on screen: what the reviewer saw is what is decided.
    const check = checkDecision(review, decision, comment);
    if (!check.ok) {
      setMessage(check.message);
      return;
    }
    setBusy(true);
    setMessage(null);
    try {
      const decidedReview = await ctx.api.decide(uid, check.body);
      ctx.drafts.clear(uid);
      onDecided(decidedReview);
    } catch (err) {
      const failure = decisionFailure(err);
      if (failure.kind === 'stale' || failure.kind === 'already-decided') await onRefused(uid, failure, check.body);
      else setMessage(failure.message);
    } finally {
      setBusy(false);
    }
  };

  const rejectBlocked = comment.trim() === '';
  return (
    <form style={{ display: 'flex', flexDirection: 'column', gap: 6, marginTop: 8 }} onSubmit={(e) => e.preventDefault()} data-limen-decision="">
      <label htmlFor="limen-comment" style={s.muted}>
        Comment (required to reject)
      </label>
      <textarea id="limen-comment" style={s.textarea} value={comment} onChange={(e) => setComment(e.target.value)} disabled={busy} />
      <div style={s.buttons}>
        <button
          type="button"
          style={{ ...s.button, background: palette.ok, color: '#08210f', opacity: approveBlocked ? 0.5 : 1 }}
          disabled={busy || approveBlocked !== null}
          title={approveBlocked ?? undefined}
          onClick={() => void send('approve')}
        >
          Approve
        </button>
        <button
          type="button"
          style={{ ...s.button, background: palette.danger, color: '#2a0808', opacity: rejectBlocked ? 0.5 : 1 }}
          disabled={busy || rejectBlocked}
          title={rejectBlocked ? 'Write why before rejecting' : undefined}
          onClick={() => void send('reject')}
        >
          Reject
        </button>
      </div>
      {approveBlocked && (
        <div role="status" style={{ ...s.notice, fontWeight: 400 }} data-limen-approve-blocked="">
          {approveBlocked}
        </div>
      )}
      {message && (
        <div role="alert" style={s.error}>
          {message}
        </div>
      )}
    </form>
  );
}
