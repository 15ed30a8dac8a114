/**
 * The extension's settings, from the viewer configuration the gateway generates
 * (`window.config.limen`, see gateway/viewer/app-config.ts), with the gateway's defaults.
 */

export interface LimenSettings {
  apiRoot: string;
  dicomwebRoot: string;
  /** Where the viewer is mounted: `/viewer`. */
  basePath: string;
  /** The sign-in page, when the gateway has sessions on. */
  signInUrl?: string;
}

export const DEFAULT_SETTINGS: LimenSettings = { apiRoot: '/api/v1', dicomwebRoot: '/dicomweb', basePath: '/viewer' };

const path = (v: unknown): string | undefined => (typeof v === 'string' && v.startsWith('/') && !v.startsWith('//') ? v.replace(/\/+$/, '') : undefined);

/** Reads `appConfig.limen` leniently: anything missing or not a same-origin path takes the default. */
export function readSettings(appConfig: unknown): LimenSettings {
  const raw = ((appConfig as { limen?: Record<string, unknown> } | undefined)?.limen ?? {}) as Record<string, unknown>;
  const signInUrl = path(raw.signInUrl);
  return {
    apiRoot: path(raw.apiRoot) ?? DEFAULT_SETTINGS.apiRoot,
    dicomwebRoot: path(raw.dicomwebRoot) ?? DEFAULT_SETTINGS.dicomwebRoot,
    basePath: path(raw.basePath) ?? DEFAULT_SETTINGS.basePath,
    ...(signInUrl ? { signInUrl } : {}),
  };
}
