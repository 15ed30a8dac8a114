/**
 * Configuration errors are data, as zod's issues are: a stable `code`, the path of the field
 * (`routes.default.stableSeconds`, `remoteAEs[0].route`), and a message that says why. All of
 * a configuration's errors are collected and reported together, so one `limen config check`
 * shows every problem.
 */

/** Why a configuration was refused. Codes are stable; messages may be reworded. */
export type ConfigErrorCode =
  /** The config file could not be read. */
  | 'file_unreadable'
  /** The config file is not valid YAML (line and column given). */
  | 'yaml_syntax'
  /** A `LIMEN_*` variable holds a value that cannot be used (the message names the variable). */
  | 'invalid_env'
  /** Two `LIMEN_*` variables ask for contradictory things. */
  | 'conflicting_env'
  /** A required field is missing. */
  | 'required'
  /** A field holds the wrong kind of value (a string where a number belongs...). */
  | 'invalid_type'
  /** A value is outside its allowed set or malformed (AE title, UID, URL, address...). */
  | 'invalid_value'
  /** A number, string or list is too small or too large. */
  | 'out_of_range'
  /** A key the schema does not know: usually a typo. */
  | 'unknown_key'
  /** A remote AE is bound to a route that does not exist. */
  | 'unknown_route'
  /** A route sends to a destination that does not exist. */
  | 'unknown_destination'
  /** Two remote AEs share one AE title, so a caller could not be told apart. */
  | 'duplicate_ae_title'
  /** DIMSE listens beyond loopback but the configuration does not list who may call. */
  | 'callers_not_listed'
  /** More than one route accepts any caller, so an unlisted caller's route is ambiguous. */
  | 'ambiguous_route'
  /** Two listeners would bind the same address and port. */
  | 'port_conflict'
  /** A remote AE requires TLS, or is bound to certificates, but the DIMSE listener has no TLS. */
  | 'tls_not_configured'
  /** A route the gateway cannot compile: an unknown profile or option, a model it cannot find. */
  | 'route_not_compiled';

/** One problem in a configuration. */
export interface ConfigError {
  code: ConfigErrorCode;
  /** Dotted path of the field (`http.port`, `remoteAEs[1].aeTitle`); empty for the file as a whole. */
  path: string;
  message: string;
  /** Where in the YAML file, when the value came from the file (1-based). */
  line?: number;
  column?: number;
  /** The environment variable the value came from, when it came from one. */
  variable?: string;
  /**
   * Set by the rules across fields (`rules.ts`): the other fields whose values caused the error
   * (`http.port` of `dimse.port`'s conflict). Such an error points at its own path only when the
   * file writes it, else at the first cause the file writes; a cause set by the environment is named.
   */
  causes?: string[];
}

/** A path as a list of keys and indices, as zod and the YAML document both use. */
export type ConfigPath = readonly (string | number)[];

/** `['remoteAEs', 0, 'route']` → `remoteAEs[0].route`. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? key : `.${key}`;
  }
  return out;
}

/** `remoteAEs[0].route` → `['remoteAEs', 0, 'route']` (names are plain: no dots or brackets in them). */
export function parsePath(text: string): ConfigPath {
  return text === '' ? [] : text.split('.').flatMap((part) => part.split(/[[\]]/).filter(Boolean).map((k, i) => (i > 0 && /^\d+$/.test(k) ? Number(k) : k)));
}

/** Human text, one line per error: `path (line L, column C): message`. */
export function formatConfigErrors(errors: readonly ConfigError[]): string {
  return errors
    .map((e) => {
      const where = e.line !== undefined ? ` (line ${e.line}, column ${e.column ?? 1})` : '';
      return `${e.path === '' ? 'config' : e.path}${where}: ${e.message}`;
    })
    .join('\n');
}

/** Thrown by `loadConfigOrThrow`; carries every error, its message lists them. */
export class ConfigLoadError extends Error {
  override readonly name = 'ConfigLoadError';
  readonly errors: readonly ConfigError[];

  constructor(errors: readonly ConfigError[]) {
    super(`invalid configuration:\n${formatConfigErrors(errors)}`);
    this.errors = errors;
  }
}
