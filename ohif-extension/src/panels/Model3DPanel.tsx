import { useEffect, useRef, useState } from 'react';
import { ApiError, type Review } from '../api.js';
import type { LimenContext } from '../context.js';
import type { SceneSegment } from '../glb-segments.js';
import { checkGlbIntegrity, type IntegrityCheck } from '../integrity.js';
import { ModelViewer } from '../model-viewer.js';
import { errorMessage, formatVolume } from '../review-logic.js';
import { AiNotice } from './Notice.js';
import { s } from './styles.js';
import { useStore } from './use-store.js';

export interface Model3DPanelProps {
  ctx: LimenContext;
  /** Shows this study's model rather than the study on screen's (used outside a viewer mode). */
  studyInstanceUID?: string;
}

interface SegmentView {
  number: number;
  label: string;
  color: string;
  volumeMl?: number;
  visible: boolean;
  opacity: number;
}

type LoadState = { state: 'idle' } | { state: 'loading' } | { state: 'shown'; integrity: IntegrityCheck } | { state: 'error'; message: string };

const toView = (seg: SceneSegment): SegmentView => ({ number: seg.number, label: seg.label, color: seg.color, volumeMl: seg.volumeMl, visible: true, opacity: 1 });

/** The study's GLB in three.js: orbit and zoom, each segment's visibility and opacity. */
export function Model3DPanel({ ctx, studyInstanceUID }: Model3DPanelProps) {
  const current = useStore(ctx.current);
  const container = useRef<HTMLDivElement>(null);
  const viewer = useRef<ModelViewer | null>(null);
  const [segments, setSegments] = useState<SegmentView[]>([]);
  const [load, setLoad] = useState<LoadState>({ state: 'idle' });

  const uid = studyInstanceUID ?? current.studyInstanceUID;
  const shared = current.review && current.review.studyInstanceUID === uid ? current.review : undefined;
  // Given a study other than the one on screen, the panel looks its review up itself.
  const [own, setOwn] = useState<Review | null | undefined>(undefined);
  const [ownError, setOwnError] = useState<string | null>(null);
  useEffect(() => {
    setOwn(undefined);
    setOwnError(null);
    if (!uid || shared || studyInstanceUID === undefined) return;
    let live = true;
    ctx.api.getReview(uid).then(
      (r) => live && setOwn(r),
      (err) => {
        if (!live) return;
        setOwn(null);
        // A study without a result answers 404; anything else is said as it is.
        if (!(err instanceof ApiError && err.status === 404)) setOwnError(errorMessage(err));
      },
    );
    return () => {
      live = false;
    };
  }, [ctx, uid, shared, studyInstanceUID]);
  const review = shared ?? (studyInstanceUID !== undefined ? own : current.review);
  const lookupError = studyInstanceUID !== undefined ? ownError && `The model could not be shown: ${ownError}` : current.error;
  const url = review?.glb.url || (uid ? ctx.api.glbUrl(uid) : null);
  const expectedSha256 = review?.glb.sha256;
  // Wait for the review lookup, so the model is checked against the SHA-256 being approved.
  const ready = Boolean(url && review);

  useEffect(() => {
    if (!container.current) return;
    const v = new ModelViewer(container.current);
    viewer.current = v;
    return () => {
      viewer.current = null;
      v.dispose();
    };
  }, []);

  useEffect(() => {
    if (!ready || !url || !viewer.current) return;
    let live = true;
    setLoad({ state: 'loading' });
    (async () => {
      try {
        const bytes = await ctx.api.fetchGlb(url);
        const integrity = await checkGlbIntegrity(bytes, expectedSha256);
        const loaded = await viewer.current!.load(bytes);
        if (!live) return;
        setSegments(loaded.map(toView));
        setLoad({ state: 'shown', integrity });
      } catch (err) {
        if (live) setLoad({ state: 'error', message: errorMessage(err) });
      }
    })();
    return () => {
      live = false;
    };
  }, [ctx, url, expectedSha256, ready]);

  const update = (n: number, change: Partial<Pick<SegmentView, 'visible' | 'opacity'>>) => {
    setSegments((list) => list.map((x) => (x.number === n ? { ...x, ...change } : x)));
    if (change.visible !== undefined) viewer.current?.setVisible(n, change.visible);
    if (change.opacity !== undefined) viewer.current?.setOpacity(n, change.opacity);
  };

  return (
    <div style={s.panel} data-limen-model3d-panel="" data-limen-load={load.state}>
      <AiNotice />
      {!uid && <div style={s.muted}>Open a study to see its 3D model.</div>}
      {uid && review === null && !lookupError && <div style={s.muted}>This study has no AI result, so no 3D model.</div>}
      {uid && review === null && lookupError && <div style={s.error}>{lookupError}</div>}
      <div ref={container} style={{ position: 'relative', height: 280, minHeight: 200, borderRadius: 4, overflow: 'hidden' }} />
      <div style={{ display: 'flex', justifyContent: 'space-between' }}>
        <span style={s.muted}>Drag to orbit, wheel to zoom.</span>
        <button type="button" style={{ ...s.queueItem, width: 'auto' }} onClick={() => viewer.current?.resetView()}>
          Reset view
        </button>
      </div>
      {load.state === 'loading' && <div style={s.muted}>Loading the model…</div>}
      {load.state === 'error' && <div style={s.error}>The model could not be shown: {load.message}</div>}
      {load.state === 'shown' && load.integrity.status === 'mismatch' && (
        <div role="alert" style={s.error}>
          This model is not the one under review (SHA-256 differs). Do not approve on its basis.
        </div>
      )}
      {load.state === 'shown' && load.integrity.status === 'unavailable' && <div style={s.muted}>Model not verified: {load.integrity.reason}.</div>}
      <ul style={s.list} data-limen-model-segments="">
        {segments.map((seg) => (
          <li key={seg.number} style={s.row}>
            <input type="checkbox" checked={seg.visible} aria-label={`Show ${seg.label}`} onChange={(e) => update(seg.number, { visible: e.target.checked })} />
            <span style={{ ...s.swatch, background: seg.color }} />
            <span style={s.grow} title={seg.volumeMl !== undefined ? formatVolume(seg.volumeMl) : undefined}>
              {seg.label}
            </span>
            <input
              type="range"
              min={0}
              max={1}
              step={0.05}
              value={seg.opacity}
              aria-label={`Opacity of ${seg.label}`}
              style={{ width: 80 }}
              onChange={(e) => update(seg.number, { opacity: Number(e.target.value) })}
            />
          </li>
        ))}
      </ul>
    </div>
  );
}
