/**
 * The commands module: `limenOverlaySeg` shows the reviewed SEG of the study on screen over its CT
 * (what the extension does on entering a study; a hotkey or toolbar can run it again).
 */
import type { LimenContext } from './context.js';
import { enterStudy } from './current-review.js';
import { COMMAND_OVERLAY_SEG } from './id.js';

export function getCommandsModule(ctx: LimenContext) {
  return {
    definitions: {
      [COMMAND_OVERLAY_SEG]: { commandFn: () => enterStudy(ctx) },
    },
    defaultContext: 'VIEWER',
  };
}
