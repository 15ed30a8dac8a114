import { aeTitleProblem, normalizeAETitle } from './ae-title.js';
import { isLoopbackHost } from './addresses.js';
import { DEFAULT_DIMSE_HOST, DEFAULT_DIMSE_PORT, DEFAULT_DIMSE_TLS_PORT } from './dimse.js';
import { formatPath, type ConfigError, type ConfigPath } from './errors.js';
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT } from './http.js';
import { DEFAULT_ROUTE_NAME } from './names.js';

/**
 * Rules that span fields: references between sections, and who may call. They read the raw
 * input (after environment overrides) rather than the parsed result, so they still run when
 * some other field is invalid and all errors come out in one report; a rule looks only at
 * values of the right type and leaves the rest to the schema.
 */
export function crossFieldErrors(input: Record<string, unknown>): ConfigError[] {
  const errors: ConfigError[] = [];
  const push = (code: ConfigError['code'], path: ConfigPath, message: string, causes: ConfigPath[] = []): void => {
    errors.push({ code, path: formatPath(path), message, causes: causes.map(formatPath) });
  };

  const routes = isRecord(input.routes) ? input.routes : {};
  const routeNames = new Set([DEFAULT_ROUTE_NAME, ...Object.keys(routes)]);
  const destinations = isRecord(input.destinations) ? input.destinations : {};
  const destinationNames = Object.keys(destinations);
  const remoteAEs = Array.isArray(input.remoteAEs) ? input.remoteAEs : [];

  // Every remote AE is bound to a route that exists.
  remoteAEs.forEach((ae, i) => {
    if (!isRecord(ae)) return;
    const route = ae.route ?? DEFAULT_ROUTE_NAME;
    if (typeof route === 'string' && !routeNames.has(route)) {
      push('unknown_route', ['remoteAEs', i, 'route'], `route "${route}" is not defined in routes (defined: ${[...routeNames].join(', ')})`);
    }
  });

  // Every route's destinations exist.
  for (const [name, route] of Object.entries(routes)) {
    if (!isRecord(route) || !Array.isArray(route.destinations)) continue;
    route.destinations.forEach((d, j) => {
      if (typeof d === 'string' && !Object.hasOwn(destinations, d)) {
        const defined = destinationNames.length > 0 ? `defined: ${destinationNames.join(', ')}` : 'none is defined';
        push('unknown_destination', ['routes', name, 'destinations', j], `destination "${d}" is not defined in destinations (${defined})`);
      }
    });
  }

  // One AE title, one remote AE: otherwise the caller's route would depend on list order.
  const seen = new Map<string, number>();
  remoteAEs.forEach((ae, i) => {
    if (!isRecord(ae) || typeof ae.aeTitle !== 'string' || aeTitleProblem(ae.aeTitle) !== undefined) return;
    const title = normalizeAETitle(ae.aeTitle);
    const first = seen.get(title);
    if (first === undefined) seen.set(title, i);
    else push('duplicate_ae_title', ['remoteAEs', i, 'aeTitle'], `AE title "${title}" is already listed at remoteAEs[${first}]`, [['remoteAEs', first, 'aeTitle']]);
  });

  // Beyond loopback, only listed callers.
  const dimse = isRecord(input.dimse) ? input.dimse : {};
  const dimseHost = dimse.host ?? DEFAULT_DIMSE_HOST;
  if (typeof dimseHost === 'string' && !isLoopbackHost(dimseHost)) {
    if (remoteAEs.length === 0) {
      push(
        'callers_not_listed',
        ['remoteAEs'],
        `dimse.host is ${dimseHost}, which is not a loopback address: list the AEs allowed to send (an unlisted caller may only be accepted on loopback)`,
        [['dimse', 'host']],
      );
    }
    for (const [name, route] of Object.entries(routes)) {
      if (isRecord(route) && route.acceptAnyCaller === true) {
        push(
          'callers_not_listed',
          ['routes', name, 'acceptAnyCaller'],
          `acceptAnyCaller is allowed only when dimse.host is a loopback address; dimse.host is ${dimseHost}, so only the AEs listed in remoteAEs may call`,
          [['dimse', 'host']],
        );
      }
    }
  }

  // At most one route takes callers that are not listed.
  const anyCaller = Object.entries(routes)
    .filter(([, route]) => isRecord(route) && route.acceptAnyCaller === true)
    .map(([name]) => name);
  for (const name of anyCaller.slice(1)) {
    push('ambiguous_route', ['routes', name, 'acceptAnyCaller'], `routes.${anyCaller[0]} already accepts any caller; only one route may`, [['routes', anyCaller[0], 'acceptAnyCaller']]);
  }

  // A caller that must use TLS needs a listener that offers it.
  const tls = isRecord(dimse.tls) ? dimse.tls : undefined;
  if (tls === undefined) {
    remoteAEs.forEach((ae, i) => {
      if (isRecord(ae) && ae.tlsRequired === true) {
        push('tls_not_configured', ['remoteAEs', i, 'tlsRequired'], 'this AE may only associate over TLS, and dimse.tls is not set: configure the TLS listener (dimse.tls) or set tlsRequired to false', [['dimse', 'tls']]);
      } else if (isRecord(ae) && ae.tlsCertificateSha256 !== undefined) {
        push('tls_not_configured', ['remoteAEs', i, 'tlsCertificateSha256'], 'this AE is bound to TLS certificates, and dimse.tls is not set: configure the TLS listener (dimse.tls)', [['dimse', 'tls']]);
      }
    });
  }

  if (tls !== undefined && tls.callerCrlFile !== undefined && tls.callerCaFile === undefined) {
    push('required', ['dimse', 'tls', 'callerCaFile'], 'callerCrlFile revokes certificates of the caller CAs: give callerCaFile too', [['dimse', 'tls', 'callerCrlFile']]);
  }

  // No two listeners on one port of overlapping addresses.
  const http = isRecord(input.http) ? input.http : {};
  const httpHost = http.host ?? DEFAULT_HTTP_HOST;
  const httpPort = http.port ?? DEFAULT_HTTP_PORT;
  const dimsePort = dimse.port ?? DEFAULT_DIMSE_PORT;
  const overlaps = typeof httpHost === 'string' && typeof dimseHost === 'string' && (httpHost === dimseHost || isWildcard(httpHost) || isWildcard(dimseHost));
  // The hosts count among the causes: one of them bound to every address makes the ports meet.
  const hosts: ConfigPath[] = [['http', 'host'], ['dimse', 'host']];
  if (overlaps && isPort(httpPort) && httpPort === dimsePort) {
    push('port_conflict', ['dimse', 'port'], `http.port is also ${httpPort}: HTTP and DIMSE need different ports`, [['http', 'port'], ...hosts]);
  }
  const tlsPort = tls === undefined ? undefined : (tls.port ?? DEFAULT_DIMSE_TLS_PORT);
  if (isPort(tlsPort)) {
    if (tlsPort === dimsePort) push('port_conflict', ['dimse', 'tls', 'port'], `dimse.port is also ${tlsPort}: DIMSE over TLS needs a port of its own`, [['dimse', 'port']]);
    else if (overlaps && tlsPort === httpPort) push('port_conflict', ['dimse', 'tls', 'port'], `http.port is also ${tlsPort}: HTTP and DIMSE over TLS need different ports`, [['http', 'port'], ...hosts]);
  }
  return errors;
}

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
