/**
 * What a valid configuration may still get wrong: settings that work but expose something.
 * `limen config check` prints them and `limen start` logs them; neither refuses.
 */
import { isLoopbackHost } from './addresses.js';
import { unknownVariables, type Environment } from './env.js';
import type { LimenConfig } from './schema.js';

export interface ConfigWarning {
  /** Stable, like a ConfigError's. */
  code:
    | 'plaintext_http'
    | 'tls_caller_unauthenticated'
    | 'caller_unauthenticated'
    | 'plaintext_destination'
    | 'reviewer_group_unenforced'
    /** Retention settings are given, but nothing destroys an expired study yet. */
    | 'retention_unenforced'
    /** A `LIMEN_*` variable nothing reads (`path` is its name): a misspelling, most likely. */
    | 'unknown_variable';
  path: string;
  message: string;
}

export function configWarnings(config: LimenConfig): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  // Tokens, session cookies and de-identified images travel over this listener; an https public
  // URL says that a TLS proxy fronts it.
  if (config.http.tls === undefined && !isLoopbackHost(config.http.host) && !config.http.publicUrl?.startsWith('https:')) {
    warnings.push({
      code: 'plaintext_http',
      path: 'http.tls',
      message: `HTTP listens on ${config.http.host} without TLS: tokens and images cross the network in the clear unless a TLS proxy fronts it (then set http.publicUrl to its https address)`,
    });
  }
  // TLS without a caller CA or a bound certificate encrypts, but anyone can claim the AE title.
  if (config.dimse.tls !== undefined && config.dimse.tls.callerCaFile === undefined) {
    config.remoteAEs.forEach((ae, i) => {
      if (ae.tlsRequired && ae.tlsCertificateSha256 === undefined) {
        warnings.push({
          code: 'tls_caller_unauthenticated',
          path: `remoteAEs[${i}].tlsRequired`,
          message: `${ae.aeTitle} must come over TLS, but neither dimse.tls.callerCaFile nor its tlsCertificateSha256 authenticates it: its associations are encrypted, its AE title is not proven`,
        });
      }
    });
  }
  // Beyond loopback an AE title is only a claim: an address list or a certificate must back it.
  if (!isLoopbackHost(config.dimse.host)) {
    config.remoteAEs.forEach((ae, i) => {
      const certified = ae.tlsRequired && (config.dimse.tls?.callerCaFile !== undefined || ae.tlsCertificateSha256 !== undefined);
      if (ae.addresses === undefined && !certified) {
        warnings.push({
          code: 'caller_unauthenticated',
          path: `remoteAEs[${i}].addresses`,
          message: `any host that reaches ${config.dimse.host} can call as ${ae.aeTitle}: list its addresses, or require TLS with a certificate`,
        });
      }
    });
  }
  // Approved results leave re-identified: under the patient's own name and identifiers.
  for (const [name, d] of Object.entries(config.destinations)) {
    if (d.kind === 'dimse' && d.tls === undefined && !isLoopbackHost(d.host)) {
      warnings.push({ code: 'plaintext_destination', path: `destinations.${name}.tls`, message: `re-identified results go to ${d.host} by DIMSE in the clear` });
    }
    if (d.kind === 'dicomweb') {
      const url = new URL(d.url);
      if (url.protocol === 'http:' && !isLoopbackHost(url.hostname.replace(/^\[|\]$/g, ''))) {
        warnings.push({ code: 'plaintext_destination', path: `destinations.${name}.url`, message: `re-identified results go to ${url.host} over plain HTTP` });
      }
    }
  }
  // Tokens carry a role and a user, not a group, until sign-in brings groups.
  for (const [name, route] of Object.entries(config.routes)) {
    if (route.reviewerGroup !== undefined) {
      warnings.push({ code: 'reviewer_group_unenforced', path: `routes.${name}.reviewerGroup`, message: 'not enforced yet: any reviewer may decide on this route\'s results' });
    }
  }
  // Retention is still to be built: each study's expiry is recorded and shown, nothing acts on it.
  for (const path of config.retention.written) {
    const route = /^routes\.(.+)\.retentionDays$/.exec(path)?.[1];
    const days = route !== undefined ? config.routes[route]?.retentionDays : undefined;
    warnings.push({
      code: 'retention_unenforced',
      path,
      message:
        days !== undefined
          ? `not enforced yet: each study's expiry (${days} days after it arrived) is recorded and shown by the API, but nothing is destroyed then`
          : 'not used yet: no retention sweep runs, so no expired study is destroyed',
    });
  }
  return warnings;
}

/** What the environment may get wrong without an error: a `LIMEN_*` variable that nothing reads. */
export function environmentWarnings(env: Environment): ConfigWarning[] {
  return unknownVariables(env).map(({ variable, suggestion }) => ({
    code: 'unknown_variable' as const,
    path: variable,
    message: `Limen reads no such variable, so it is ignored${suggestion !== undefined ? `; did you mean ${suggestion}?` : ''}`,
  }));
}
