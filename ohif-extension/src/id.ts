/**
 * The extension's id: OHIF addresses its modules by it (`limen.panelModule.review`). The gateway's
 * generated app-config names the same panels (gateway/viewer/app-config.ts, LIMEN_PANELS).
 */
export const EXTENSION_ID = 'limen';

/** Panel names, as registered in the panel module. */
export const PANEL_REVIEW = 'review';
export const PANEL_MODEL3D = 'model3d';

/** Commands the extension registers. */
export const COMMAND_OVERLAY_SEG = 'limenOverlaySeg';
