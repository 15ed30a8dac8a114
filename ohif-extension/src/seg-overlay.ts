/**
 * Shows the reviewed SEG over its CT (in the active viewport, when that one shows the CT), without
 * the reviewer finding and double-clicking it. The extension starts this on entering the mode, before OHIF has fetched the
 * study or laid out a viewport, so each step waits for what it needs: the SEG display set, the CT
 * display set it references, then a viewport that shows that CT and has drawn it. The SEG is then
 * loaded and added to that viewport as a labelmap, as OHIF's own hydration does; OHIF's
 * `hydrateSecondaryDisplaySet` is not used, since it only swaps the display sets of a viewport
 * (a viewport already showing the CT would not change).
 */
import { waitUntil, type Subscribable, type WaitSource } from './wait.js';

/** The parts of an OHIF display set used here. */
export interface DisplaySetLike {
  displaySetInstanceUID: string;
  Modality?: string;
  SeriesInstanceUID?: string;
  StudyInstanceUID?: string;
  SOPInstanceUID?: string;
  instances?: { SOPInstanceUID?: string }[];
  referencedDisplaySetInstanceUID?: string;
  isOverlayDisplaySet?: boolean;
  isLoaded?: boolean;
  load?: (options: { headers?: Record<string, string> }) => Promise<unknown>;
}

/**
 * The display set of the reviewed SEG: a SEG display set of that series, preferring the one that
 * holds the reviewed SOP instance; `null` when the study has none (yet).
 */
export function findSegDisplaySet<T extends DisplaySetLike>(displaySets: readonly T[], seg: { seriesInstanceUID: string; sopInstanceUID?: string }): T | null {
  const candidates = displaySets.filter((ds) => ds.Modality === 'SEG' && ds.SeriesInstanceUID === seg.seriesInstanceUID);
  if (candidates.length === 0) return null;
  if (seg.sopInstanceUID) {
    const exact = candidates.find((ds) => ds.SOPInstanceUID === seg.sopInstanceUID || ds.instances?.some((i) => i.SOPInstanceUID === seg.sopInstanceUID));
    if (exact) return exact;
  }
  return candidates[0];
}

/** A viewport of OHIF's grid state. */
export interface GridViewport {
  viewportId: string;
  displaySetInstanceUIDs?: string[];
  /** Set once the viewport's element is enabled. */
  isReady?: boolean;
}

export interface GridState {
  activeViewportId?: string | null;
  viewports: Map<string, GridViewport>;
}

/**
 * The viewport to overlay in: the active one when it shows the display set and has drawn it,
 * else the first other such viewport; `null` while there is none.
 */
export function viewportShowing(grid: GridState, displaySetInstanceUID: string, drawn: (viewportId: string) => boolean): string | null {
  const fits = (v: GridViewport | undefined): v is GridViewport =>
    v !== undefined && v.isReady === true && (v.displaySetInstanceUIDs ?? []).includes(displaySetInstanceUID) && drawn(v.viewportId);
  const active = grid.activeViewportId ? grid.viewports.get(grid.activeViewportId) : undefined;
  if (fits(active)) return active.viewportId;
  for (const v of grid.viewports.values()) if (fits(v)) return v.viewportId;
  return null;
}

/** A segmentation representation, as far as used. */
export interface RepresentationLike {
  segmentationId: string;
  segments?: Record<string, unknown>;
}

/** The OHIF services the overlay needs (typed as far as used). */
export interface OverlayServices {
  displaySetService: Subscribable & {
    getActiveDisplaySets(): DisplaySetLike[];
    getDisplaySetByUID(uid: string): DisplaySetLike | undefined;
    EVENTS: { DISPLAY_SETS_ADDED: string; DISPLAY_SETS_CHANGED?: string };
  };
  viewportGridService: Subscribable & {
    getActiveViewportId(): string | null | undefined;
    getState(): GridState;
    EVENTS: { GRID_STATE_CHANGED?: string; VIEWPORTS_READY?: string; ACTIVE_VIEWPORT_ID_CHANGED?: string };
  };
  cornerstoneViewportService?: Subscribable & {
    getCornerstoneViewport(viewportId: string): { getCurrentImageId?(): string | undefined } | null | undefined;
    EVENTS?: { VIEWPORT_DATA_CHANGED?: string };
  };
  segmentationService: {
    getSegmentationRepresentations(viewportId: string, filter?: { segmentationId?: string }): RepresentationLike[];
    addSegmentationRepresentation(viewportId: string, options: { segmentationId: string }): Promise<unknown> | unknown;
    setSegmentLocked?(segmentationId: string, segmentIndex: number, locked: boolean): void;
  };
  customizationService?: { getCustomization(id: string): unknown };
  userAuthenticationService?: { getAuthorizationHeader?(): Record<string, string> | undefined };
}

export interface OverlayCommands {
  runCommand(name: string, options?: Record<string, unknown>, context?: string): unknown;
}

export type OverlayOutcome =
  | { ok: true; segDisplaySetInstanceUID: string; viewportId: string; alreadyShown: boolean }
  | { ok: false; code: 'no-seg' | 'no-reference' | 'no-viewport' | 'load-failed' | 'not-shown' | 'cancelled'; message: string };

export interface OverlayOptions {
  /** How long each step may wait (the study's metadata, the layout, the first image): 120 s. */
  timeoutMs?: number;
  pollMs?: number;
  /** Aborted when the mode is left: the overlay stops where it is. */
  signal?: AbortSignal;
}

export const DEFAULT_OVERLAY_TIMEOUT_MS = 120_000;

/** OHIF's command that records a SEG as hydrated for its CT, so the viewport re-attaches it when its display sets are set again. */
const STORE_SEGMENTATION_PRESENTATION = 'updateStoredSegmentationPresentation';
/** The customization by which a mode makes segments read-only (the basic modes set it). */
const DISABLE_EDITING = 'panelSegmentation.disableEditing';
const LABELMAP = 'Labelmap';

/** The events after which the overlay's conditions may have changed. */
function sources(services: OverlayServices): WaitSource[] {
  const { displaySetService: ds, viewportGridService: grid, cornerstoneViewportService: cs } = services;
  return [
    { service: ds, events: [ds.EVENTS.DISPLAY_SETS_ADDED, ds.EVENTS.DISPLAY_SETS_CHANGED] },
    { service: grid, events: [grid.EVENTS.GRID_STATE_CHANGED, grid.EVENTS.VIEWPORTS_READY, grid.EVENTS.ACTIVE_VIEWPORT_ID_CHANGED] },
    { service: cs, events: [cs?.EVENTS?.VIEWPORT_DATA_CHANGED] },
  ];
}

/** Whether the cornerstone viewport exists and shows an image (not only an enabled element). */
function drawnBy(services: OverlayServices): (viewportId: string) => boolean {
  return (viewportId) => {
    const cs = services.cornerstoneViewportService;
    if (!cs) return true;
    const viewport = cs.getCornerstoneViewport(viewportId);
    if (!viewport) return false;
    return typeof viewport.getCurrentImageId !== 'function' || Boolean(viewport.getCurrentImageId());
  };
}

/**
 * Overlays the reviewed SEG in the viewport showing its CT (the active one when it does). Safe to
 * call again: an SEG already shown there is left as it is.
 */
export async function overlaySeg(
  services: OverlayServices,
  commands: OverlayCommands,
  seg: { seriesInstanceUID: string; sopInstanceUID?: string },
  options: OverlayOptions = {},
): Promise<OverlayOutcome> {
  const { displaySetService, viewportGridService, segmentationService } = services;
  const wait = { timeoutMs: options.timeoutMs ?? DEFAULT_OVERLAY_TIMEOUT_MS, pollMs: options.pollMs, signal: options.signal };
  const events = sources(services);
  const cancelled = (): OverlayOutcome | null => (options.signal?.aborted ? { ok: false, code: 'cancelled', message: 'the mode was left' } : null);

  const segDs = await waitUntil(() => findSegDisplaySet(displaySetService.getActiveDisplaySets(), seg), events, wait);
  if (!segDs) return cancelled() ?? { ok: false, code: 'no-seg', message: `the study has no SEG series ${seg.seriesInstanceUID}` };
  const segmentationId = segDs.displaySetInstanceUID;

  // The SOP class handler resolves the referenced CT display set, sometimes only once the CT is added.
  const withReference = await waitUntil(
    () => {
      const ds = displaySetService.getDisplaySetByUID(segmentationId) ?? segDs;
      return ds.referencedDisplaySetInstanceUID ? ds : null;
    },
    events,
    wait,
  );
  if (!withReference?.referencedDisplaySetInstanceUID) return cancelled() ?? { ok: false, code: 'no-reference', message: 'the SEG references no series of this study' };
  const ctUID = withReference.referencedDisplaySetInstanceUID;

  const viewportId = await waitUntil(() => viewportShowing(viewportGridService.getState(), ctUID, drawnBy(services)), events, wait);
  if (!viewportId) return cancelled() ?? { ok: false, code: 'no-viewport', message: 'no viewport showed the series the SEG segments' };

  const shown = () => segmentationService.getSegmentationRepresentations(viewportId, { segmentationId }).filter((r) => r.segmentationId === segmentationId);
  if (shown().length > 0) return { ok: true, segDisplaySetInstanceUID: segmentationId, viewportId, alreadyShown: true };

  try {
    if (withReference.load) {
      const headers = services.userAuthenticationService?.getAuthorizationHeader?.() ?? {};
      await withReference.load({ headers });
    }
    const stop = cancelled();
    if (stop) return stop;
    await commands.runCommand(STORE_SEGMENTATION_PRESENTATION, { displaySet: withReference, type: LABELMAP });
    await segmentationService.addSegmentationRepresentation(viewportId, { segmentationId });
  } catch (err) {
    return { ok: false, code: 'load-failed', message: `the SEG could not be shown: ${(err as Error)?.message ?? String(err)}` };
  }

  const representations = shown();
  if (representations.length === 0) return { ok: false, code: 'not-shown', message: `the viewer did not add the SEG to viewport ${viewportId}` };
  // A reviewer judges the result as the model made it: where the mode says so, it is read-only.
  if (services.customizationService?.getCustomization(DISABLE_EDITING) === true && segmentationService.setSegmentLocked) {
    for (const r of representations) for (const index of Object.keys(r.segments ?? {})) segmentationService.setSegmentLocked(segmentationId, Number(index), true);
  }
  return { ok: true, segDisplaySetInstanceUID: segmentationId, viewportId, alreadyShown: false };
}
