/**
 * The Limen OHIF extension: one object whose keys name the module kinds it provides, each getter
 * in its own file. The gateway serves this module and lists it in the viewer's configuration;
 * OHIF imports it at run time and uses its default export.
 */
import { createContext, type LimenContext, type OhifManagers } from './context.js';
import { enterStudy } from './current-review.js';
import { getCommandsModule } from './getCommandsModule.js';
import { getPanelModule } from './getPanelModule.js';
import { EXTENSION_ID } from './id.js';
import { mountNoticeOverlay } from './notice-overlay.js';

/** Builds the extension; its state (managers, the study on screen) lives in this closure. */
export function createLimenExtension() {
  let ctx: LimenContext | null = null;
  let unmountNotice: (() => void) | null = null;
  // Stops a study's overlay that is still waiting for the viewer when the mode is left.
  let leaving: AbortController | null = null;
  const context = (managers: OhifManagers): LimenContext => (ctx ??= createContext(managers));

  return {
    id: EXTENSION_ID,
    preRegistration(managers: OhifManagers) {
      context(managers);
    },
    getPanelModule: (managers: OhifManagers) => getPanelModule(context(managers)),
    getCommandsModule: (managers: OhifManagers) => getCommandsModule(context(managers)),
    onModeEnter(managers: OhifManagers) {
      const c = context(managers);
      unmountNotice?.();
      unmountNotice = mountNoticeOverlay(c.current);
      leaving?.abort();
      leaving = new AbortController();
      void enterStudy(
        c,
        (outcome) => {
          if (!outcome.ok && outcome.code !== 'cancelled') console.warn(`[limen] ${outcome.code}: ${outcome.message}`);
        },
        leaving.signal,
      );
    },
    onModeExit() {
      leaving?.abort();
      leaving = null;
      unmountNotice?.();
      unmountNotice = null;
      ctx?.current.set({ studyInstanceUID: null, review: undefined, error: null, viewerSeg: null });
    },
  };
}

const extension = createLimenExtension();
export default extension;
