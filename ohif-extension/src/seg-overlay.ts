/**
 * Shows the reviewed SEG over its CT in the active viewport, without the reviewer finding and
 * double-clicking it: the SEG display set is found among the study's display sets, loaded, and
 * hydrated into the active viewport with OHIF's `hydrateSecondaryDisplaySet` command (what the
 * SEG viewport's "load?" prompt runs when confirmed).
 */

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

/** The OHIF services and commands the overlay needs (typed as far as used). */
export interface OverlayServices {
  displaySetService: {
    getActiveDisplaySets(): DisplaySetLike[];
    getDisplaySetByUID(uid: string): DisplaySetLike | undefined;
    subscribe(event: string, cb: (evt: unknown) => void): { unsubscribe(): void };
    EVENTS: { DISPLAY_SETS_ADDED: string };
  };
  viewportGridService: {
    getActiveViewportId(): string | undefined;
    getGridViewportsReady?(): boolean;
    subscribe?(event: string, cb: (evt: unknown) => void): { unsubscribe(): void };
    EVENTS?: { VIEWPORTS_READY?: string };
  };
  segmentationService?: {
    getSegmentationRepresentations?(viewportId: string, filter?: { segmentationId?: string }): unknown[];
  };
  userAuthenticationService?: { getAuthorizationHeader?(): Record<string, string> | undefined };
}

export interface OverlayCommands {
  runCommand(name: string, options?: Record<string, unknown>, context?: string): unknown;
}

export type OverlayOutcome =
  | { ok: true; segDisplaySetInstanceUID: string; viewportId: string; alreadyShown: boolean }
  | { ok: false; code: 'no-seg' | 'no-viewport' | 'no-reference' | 'load-failed'; message: string };

/** Waits until `find()` gives a value, re-checking whenever display sets are added; `null` after the timeout. */
export function waitForDisplaySet<T>(services: OverlayServices, find: () => T | null, timeoutMs: number): Promise<T | null> {
  const now = find();
  if (now) return Promise.resolve(now);
  return new Promise((resolve) => {
    let done = false;
    const finish = (v: T | null) => {
      if (done) return;
      done = true;
      sub.unsubscribe();
      clearTimeout(timer);
      resolve(v);
    };
    const sub = services.displaySetService.subscribe(services.displaySetService.EVENTS.DISPLAY_SETS_ADDED, () => {
      const found = find();
      if (found) finish(found);
    });
    const timer = setTimeout(() => finish(find()), timeoutMs);
  });
}

/**
 * Waits until the hanging protocol has filled the viewports (hydrating before would be undone by
 * it); resolves `false` after the timeout.
 */
export function waitForViewportsReady(services: OverlayServices, timeoutMs: number): Promise<boolean> {
  const grid = services.viewportGridService;
  if (!grid.getGridViewportsReady || grid.getGridViewportsReady()) return Promise.resolve(true);
  const event = grid.EVENTS?.VIEWPORTS_READY;
  if (!event || !grid.subscribe) return Promise.resolve(true);
  return new Promise((resolve) => {
    const sub = grid.subscribe!(event, () => {
      clearTimeout(timer);
      sub.unsubscribe();
      resolve(true);
    });
    const timer = setTimeout(() => {
      sub.unsubscribe();
      resolve(grid.getGridViewportsReady?.() ?? false);
    }, timeoutMs);
  });
}

/**
 * Overlays the reviewed SEG in the active viewport. Safe to call again: an SEG already shown in
 * that viewport is left as it is.
 */
export async function overlaySeg(
  services: OverlayServices,
  commands: OverlayCommands,
  seg: { seriesInstanceUID: string; sopInstanceUID?: string },
  options: { timeoutMs?: number } = {},
): Promise<OverlayOutcome> {
  const { displaySetService, viewportGridService } = services;
  const segDs = await waitForDisplaySet(services, () => findSegDisplaySet(displaySetService.getActiveDisplaySets(), seg), options.timeoutMs ?? 30_000);
  if (!segDs) return { ok: false, code: 'no-seg', message: `the study has no SEG series ${seg.seriesInstanceUID}` };
  await waitForViewportsReady(services, options.timeoutMs ?? 30_000);
  const viewportId = viewportGridService.getActiveViewportId();
  if (!viewportId) return { ok: false, code: 'no-viewport', message: 'no active viewport' };

  const shown = services.segmentationService?.getSegmentationRepresentations?.(viewportId, { segmentationId: segDs.displaySetInstanceUID }) ?? [];
  if (shown.length > 0) return { ok: true, segDisplaySetInstanceUID: segDs.displaySetInstanceUID, viewportId, alreadyShown: true };

  try {
    // The SEG's referenced CT display set is resolved by the SOP class handler, sometimes only
    // once the CT series is added.
    const withReference = await waitForDisplaySet(
      services,
      () => {
        const ds = displaySetService.getDisplaySetByUID(segDs.displaySetInstanceUID) ?? segDs;
        return ds.referencedDisplaySetInstanceUID ? ds : null;
      },
      options.timeoutMs ?? 30_000,
    );
    if (!withReference) return { ok: false, code: 'no-reference', message: 'the SEG references no series of this study' };
    if (withReference.load && !withReference.isLoaded) {
      const headers = services.userAuthenticationService?.getAuthorizationHeader?.() ?? {};
      await withReference.load({ headers });
    }
    await commands.runCommand('hydrateSecondaryDisplaySet', { displaySet: withReference, viewportId });
  } catch (err) {
    return { ok: false, code: 'load-failed', message: `the SEG could not be shown: ${(err as Error)?.message ?? String(err)}` };
  }
  return { ok: true, segDisplaySetInstanceUID: segDs.displaySetInstanceUID, viewportId, alreadyShown: false };
}
