/**
 * The viewer's `app-config.js`, generated: one DICOMweb data source on Limen's own `/dicomweb`
 * (same origin, so the session cookie goes along and no CORS is involved), the router under the
 * viewer's sub-path, and the Limen extension loaded at run time with its panels added to every
 * mode, the right-hand panel open in the modes a reviewer reads in. Pure: the same options give
 * the same text.
 */

/** What the generated configuration depends on. */
export interface ViewerConfigOptions {
  /** Where the viewer is mounted, e.g. `/viewer`. */
  basePath: string;
  /** Limen's DICOMweb root on the same origin, e.g. `/dicomweb`. */
  dicomwebRoot: string;
  /** Limen's REST API root on the same origin, e.g. `/api/v1`. */
  apiRoot: string;
  /** URL path of the extension module, or `null` to run the viewer without it. */
  extensionUrl: string | null;
  /** Where the viewer sends a person who has no session (the sign-in page). */
  signInUrl?: string;
}

/** The OHIF data source module that speaks DICOMweb. */
export const DICOMWEB_DATA_SOURCE = '@ohif/extension-default.dataSourcesModule.dicomweb';

/** The extension's id: the namespace of its modules (`limen.panelModule.review`). */
export const LIMEN_EXTENSION_ID = 'limen';

/** Panels the extension provides, added in front of every mode's right-hand panels. */
export const LIMEN_PANELS = [`${LIMEN_EXTENSION_ID}.panelModule.review`, `${LIMEN_EXTENSION_ID}.panelModule.model3d`] as const;

/**
 * OHIF's customizations, by phase. `global`: no first-visit tour, since its modal layer blocks the
 * review panel (Approve included) and covers the AI notice until it is dismissed. `mode`, `*`:
 * every mode, applied after the mode seeds its own panels, so the Limen panels come first and the
 * review panel is the tab that opens.
 */
export const LIMEN_CUSTOMIZATIONS = {
  global: { 'ohif.tours': { $set: [] } },
  mode: { '*': { rightPanels: { $unshift: [...LIMEN_PANELS] } } },
} as const;

/**
 * The modes a reviewer reads a study in: the study list opens the longitudinal viewer
 * (`/viewer/viewer?StudyInstanceUIDs=…`); the basic viewer is the same layout without tracking.
 * Both build their layout from OHIF's basic layout, which keeps the right-hand panel closed.
 */
export const REVIEW_MODES = ['@ohif/mode-longitudinal', '@ohif/mode-basic'] as const;

/**
 * OHIF's `modesConfiguration` entry (an immutability-helper spec over the mode's definition) that
 * opens the right-hand panel on entering the mode, so its first tab, the review panel, shows.
 */
export const OPEN_RIGHT_PANEL = { routes: { 0: { layoutInstance: { props: { rightPanelClosed: { $set: false } } } } } } as const;

/** The data source's name; also the viewer's default. */
export const LIMEN_DATA_SOURCE_NAME = 'limen';

/** Settings the Limen extension reads from `appConfig.limen`. */
export interface LimenViewerSettings {
  apiRoot: string;
  dicomwebRoot: string;
  basePath: string;
  signInUrl?: string;
}

/**
 * The `window.config` object. The DICOMweb roots are same-origin paths here; the script made
 * by {@link renderAppConfig} turns them into absolute URLs in the browser, since parts of the
 * viewer build image ids from the roots and expect an origin.
 */
export function viewerAppConfig(options: ViewerConfigOptions): Record<string, unknown> {
  const limen: LimenViewerSettings = {
    apiRoot: options.apiRoot,
    dicomwebRoot: options.dicomwebRoot,
    basePath: options.basePath,
    ...(options.signInUrl ? { signInUrl: options.signInUrl } : {}),
  };
  return {
    name: 'limen',
    routerBasename: options.basePath,
    extensions: options.extensionUrl ? [options.extensionUrl] : [],
    modes: [],
    customizationService: options.extensionUrl ? LIMEN_CUSTOMIZATIONS : {},
    modesConfiguration: options.extensionUrl ? Object.fromEntries(REVIEW_MODES.map((id) => [id, OPEN_RIGHT_PANEL])) : {},
    showStudyList: true,
    maxNumberOfWebWorkers: 3,
    // Same origin and cross-origin isolated: the warning would be noise.
    showWarningMessageForCrossOrigin: false,
    showCPUFallbackMessage: true,
    showLoadingIndicator: true,
    strictZSpacingForVolumeViewport: true,
    // A SEG opened by hand hydrates without the "load this segmentation?" prompt; the reviewed
    // SEG is overlaid by the extension on entering the study.
    disableConfirmationPrompts: true,
    // Limen shows its own notice about AI-generated results instead.
    investigationalUseDialog: { option: 'never' },
    maxNumRequests: { interaction: 100, thumbnail: 5, prefetch: 25 },
    showErrorDetails: 'always',
    defaultDataSourceName: LIMEN_DATA_SOURCE_NAME,
    dataSources: [
      {
        namespace: DICOMWEB_DATA_SOURCE,
        sourceName: LIMEN_DATA_SOURCE_NAME,
        configuration: {
          friendlyName: 'Limen',
          name: LIMEN_DATA_SOURCE_NAME,
          qidoRoot: options.dicomwebRoot,
          wadoRoot: options.dicomwebRoot,
          wadoUriRoot: options.dicomwebRoot,
          qidoSupportsIncludeField: true,
          imageRendering: 'wadors',
          thumbnailRendering: 'wadors',
          enableStudyLazyLoad: true,
          supportsFuzzyMatching: false,
          supportsWildcard: true,
          staticWado: false,
          singlepart: 'bulkdata,video',
          bulkDataURI: { enabled: true, relativeResolution: 'studies' },
          omitQuotationForMultipartRequest: true,
          dicomUploadEnabled: false,
        },
      },
    ],
    limen,
  };
}

/** Keys of a data source's configuration that hold a same-origin path to make absolute. */
const ROOT_KEYS = ['qidoRoot', 'wadoRoot', 'wadoUriRoot'] as const;

/** The `app-config.js` text: `window.config = {...}`, with the roots resolved against the page's origin. */
export function renderAppConfig(options: ViewerConfigOptions): string {
  const json = JSON.stringify(viewerAppConfig(options), null, 2).replace(/</g, '\\u003c');
  return [
    '// Generated by Limen for this gateway; not the file shipped with the viewer.',
    `window.config = ${json};`,
    '(function (config) {',
    '  var origin = window.location.origin;',
    '  config.dataSources.forEach(function (source) {',
    `    ${JSON.stringify(ROOT_KEYS)}.forEach(function (key) {`,
    '      var value = source.configuration[key];',
    "      if (typeof value === 'string' && value.charAt(0) === '/') source.configuration[key] = origin + value;",
    '    });',
    '  });',
    '})(window.config);',
    '',
  ].join('\n');
}
