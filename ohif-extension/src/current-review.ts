/**
 * On entering a study: fetch its review, share it with the panels and the notice, and overlay its
 * SEG on the CT on screen (see seg-overlay.ts). Runs from the extension's `onModeEnter`, so the overlay happens
 * whether or not a Limen panel is open.
 */
import { ApiError } from './api.js';
import { currentStudyUID, type LimenContext } from './context.js';
import { errorMessage } from './review-logic.js';
import { overlaySeg, type OverlayOutcome } from './seg-overlay.js';

/** Loads the review of the study on screen into `ctx.current`; `null` review when it has none. */
export async function loadCurrentReview(ctx: LimenContext): Promise<void> {
  const studyInstanceUID = currentStudyUID(ctx);
  const before = ctx.current.get();
  // The same study loaded again (the overlay command run again) leaves the viewer's display sets as they were.
  const viewerSeg = before.studyInstanceUID === studyInstanceUID ? before.viewerSeg : null;
  ctx.current.set({ studyInstanceUID, review: studyInstanceUID ? undefined : null, error: null, viewerSeg });
  if (!studyInstanceUID) return;
  try {
    const review = await ctx.api.getReview(studyInstanceUID);
    if (ctx.current.get().studyInstanceUID === studyInstanceUID) ctx.current.set({ review, viewerSeg: viewerSeg ?? review.seg ?? null });
  } catch (err) {
    if (ctx.current.get().studyInstanceUID !== studyInstanceUID) return;
    if (err instanceof ApiError && err.status === 404) ctx.current.set({ review: null });
    else ctx.current.set({ review: null, error: `The AI result could not be loaded: ${errorMessage(err)}` });
  }
}

/**
 * Loads the review, then overlays its SEG. Resolves with the overlay's outcome (`null` when the
 * study has no AI result); `onOverlay` hears it too. `signal` stops it when the mode is left.
 */
export async function enterStudy(ctx: LimenContext, onOverlay?: (o: OverlayOutcome) => void, signal?: AbortSignal): Promise<OverlayOutcome | null> {
  await loadCurrentReview(ctx);
  const review = ctx.current.get().review;
  if (!review || signal?.aborted) return null;
  const outcome = await overlaySeg(ctx.servicesManager.services, ctx.commandsManager, review.seg, { signal });
  onOverlay?.(outcome);
  return outcome;
}

/**
 * Whether the viewer has loaded this very SEG instance (a SEG stored after the study was opened,
 * as a reprocessing makes, is not among its display sets until the page is loaded again).
 */
export function segLoadedInViewer(ctx: Pick<LimenContext, 'servicesManager'>, seg: { seriesInstanceUID: string; sopInstanceUID: string }): boolean {
  const sets = ctx.servicesManager.services.displaySetService?.getActiveDisplaySets?.() ?? [];
  return sets.some(
    (ds) =>
      ds.Modality === 'SEG' &&
      ds.SeriesInstanceUID === seg.seriesInstanceUID &&
      (ds.SOPInstanceUID === seg.sopInstanceUID || (ds.instances ?? []).some((i) => i.SOPInstanceUID === seg.sopInstanceUID)),
  );
}
