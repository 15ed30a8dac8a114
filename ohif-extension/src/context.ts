/**
 * What the extension's parts share: OHIF's managers (reached by closure, since the extension's
 * React is not the viewer's), the settings, the API client, and the review of the study on screen.
 */
import { createApi, type LimenApi, type Review } from './api.js';
import { createDraftStore, sessionStorageOrNothing, type DraftStore } from './drafts.js';
import type { OverlayCommands, OverlayServices } from './seg-overlay.js';
import { readSettings, type LimenSettings } from './settings.js';
import { createStore, type Store } from './store.js';
import { studyUIDsFromSearch } from './review-logic.js';

/** OHIF's managers, typed as far as the extension uses them. */
export interface OhifManagers {
  servicesManager: { services: OverlayServices & Record<string, unknown> };
  commandsManager: OverlayCommands;
  extensionManager: { appConfig?: unknown };
}

export interface CurrentReview {
  /** The study on screen, if any. */
  studyInstanceUID: string | null;
  /** Its review: `undefined` while loading, `null` when the study has no AI result. */
  review: Review | null | undefined;
  error: string | null;
  /**
   * The SEG the image viewer was given for this study since the mode was entered: the one of the
   * review first loaded. It stays when the review is replaced (a reprocessing), since the viewer
   * learns of a new SEG only when the page is loaded again.
   */
  viewerSeg: Review['seg'] | null;
}

/** Whether the API said the session is gone (a 401 from any call). */
export interface AuthState {
  signedOut: boolean;
}

export interface LimenContext extends OhifManagers {
  settings: LimenSettings;
  api: LimenApi;
  current: Store<CurrentReview>;
  /** Set by any 401 answer: the panels then show the signed-out state. */
  auth: Store<AuthState>;
  /** The reviewer's unsent comments. */
  drafts: DraftStore;
}

export function createContext(managers: OhifManagers, fetchImpl?: typeof fetch): LimenContext {
  const settings = readSettings(managers.extensionManager.appConfig);
  const auth = createStore<AuthState>({ signedOut: false });
  return {
    ...managers,
    settings,
    api: createApi({ apiRoot: settings.apiRoot, fetch: fetchImpl, onUnauthorized: () => auth.set({ signedOut: true }) }),
    current: createStore<CurrentReview>({ studyInstanceUID: null, review: undefined, error: null, viewerSeg: null }),
    auth,
    drafts: createDraftStore(sessionStorageOrNothing()),
  };
}

/** The study on screen: from the viewer's URL, else from the loaded display sets. */
export function currentStudyUID(ctx: Pick<LimenContext, 'servicesManager'>, search = globalThis.location?.search ?? ''): string | null {
  const fromUrl = studyUIDsFromSearch(search)[0];
  if (fromUrl) return fromUrl;
  const sets = ctx.servicesManager.services.displaySetService?.getActiveDisplaySets?.() ?? [];
  return sets.find((ds) => ds.StudyInstanceUID)?.StudyInstanceUID ?? null;
}
