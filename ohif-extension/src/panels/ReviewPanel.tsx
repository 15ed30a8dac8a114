import { useCallback, useEffect, useState } from 'react';
import { ApiError, QUEUE_STATUSES, type Decision, type Review, type SessionInfo } from '../api.js';
import type { LimenContext } from '../context.js';
import { checkDecision, cssColor, formatVolume, groupQueue, safeLink, shortUID, statusLabel, studyUrl, type Queue } from '../review-logic.js';
import { AiNotice } from './Notice.js';
import { palette, s } from './styles.js';
import { useStore } from './use-store.js';

export interface ReviewPanelProps {
  ctx: LimenContext;
}

type SessionState = { state: 'checking' } | { state: 'signed-in'; session: SessionInfo } | { state: 'signed-out' } | { state: 'error'; message: string };

const QUEUE_TITLES: Record<keyof Queue, string> = { pending: 'Pending', in_review: 'In review', decided: 'Decided' };

/** The reviewer's queue, and the result of the study on screen with its decision. */
export function ReviewPanel({ ctx }: ReviewPanelProps) {
  const current = useStore(ctx.current);
  const [session, setSession] = useState<SessionState>({ state: 'checking' });
  const [queue, setQueue] = useState<Queue | null>(null);
  const [queueError, setQueueError] = useState<string | null>(null);

  const refreshQueue = useCallback(async () => {
    try {
      const lists = await Promise.all(QUEUE_STATUSES.map((st) => ctx.api.listReviews(st)));
      setQueue(groupQueue(lists.flat()));
      setQueueError(null);
    } catch (err) {
      setQueueError((err as Error).message);
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
        else setSession({ state: 'error', message: (err as Error).message });
      },
    );
    return () => {
      live = false;
    };
  }, [ctx, refreshQueue]);

  const onDecided = (review: Review) => {
    ctx.current.set({ review });
    void refreshQueue();
  };

  return (
    <div style={s.panel} data-limen-review-panel="">
      <AiNotice />
      {session.state === 'signed-out' && <SignInPrompt signInUrl={ctx.settings.signInUrl} />}
      {session.state === 'error' && <div style={s.error}>The review service cannot be reached: {session.message}</div>}
      {session.state === 'signed-in' && (
        <div style={s.muted}>
          Signed in as {session.session.user ?? 'a reviewer'} ({session.session.role})
        </div>
      )}
      {current.studyInstanceUID && <CurrentStudy ctx={ctx} review={current.review} error={current.error} onDecided={onDecided} />}
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

function SignInPrompt({ signInUrl }: { signInUrl?: string }) {
  const next = typeof location === 'undefined' ? '' : `?next=${encodeURIComponent(location.pathname + location.search)}`;
  return (
    <div>
      Not signed in.{' '}
      {signInUrl ? (
        <a style={s.link} href={signInUrl + next}>
          Sign in
        </a>
      ) : (
        'Open a session with your reviewer token.'
      )}
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
              <span style={s.muted}>{statusLabel(r.status)}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function CurrentStudy({ ctx, review, error, onDecided }: { ctx: LimenContext; review: Review | null | undefined; error: string | null; onDecided: (r: Review) => void }) {
  if (review === undefined) return <div style={s.muted}>Loading the AI result…</div>;
  if (review === null) return <div style={error ? s.error : s.muted}>{error ?? 'This study has no AI result to review.'}</div>;
  const card = safeLink(review.model.cardUrl, typeof location === 'undefined' ? 'http://localhost' : location.origin);
  return (
    <section data-limen-current={review.studyInstanceUID}>
      <h3 style={s.heading}>This study</h3>
      <div>
        <strong data-limen-status={review.status}>{statusLabel(review.status)}</strong>
        {review.decidedBy && (
          <span style={s.muted}>
            {' '}
            by {review.decidedBy}
            {review.decidedAt ? `, ${new Date(review.decidedAt).toLocaleString()}` : ''}
          </span>
        )}
      </div>
      {review.comment && <div style={s.muted}>“{review.comment}”</div>}
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
      <DecisionForm ctx={ctx} review={review} onDecided={onDecided} />
    </section>
  );
}

function DecisionForm({ ctx, review, onDecided }: { ctx: LimenContext; review: Review; onDecided: (r: Review) => void }) {
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const decided = review.status === 'approved' || review.status === 'rejected';
  if (decided) return null;

  const send = async (decision: Decision) => {
    const check = checkDecision(review, decision, comment);
    if (!check.ok) {
      setMessage(check.message);
      return;
    }
    setBusy(true);
    setMessage(null);
    try {
      onDecided(await ctx.api.decide(review.studyInstanceUID, check.body));
      setComment('');
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        setMessage('Someone decided this result already; showing their decision.');
        try {
          onDecided(await ctx.api.getReview(review.studyInstanceUID));
        } catch {
          // The message above still holds; the queue refresh shows the state.
        }
      } else setMessage((err as Error).message);
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
        <button type="button" style={{ ...s.button, background: palette.ok, color: '#08210f' }} disabled={busy} onClick={() => void send('approve')}>
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
      {message && (
        <div role="alert" style={s.error}>
          {message}
        </div>
      )}
    </form>
  );
}
