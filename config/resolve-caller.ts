import { normalizeAETitle } from './ae-title.js';
import { addressAllowed } from './addresses.js';
import type { RemoteAEConfig } from './remote-ae.js';
import type { RouteConfig } from './route.js';
import type { LimenConfig } from './schema.js';

/** What is known of a caller when its association request arrives. */
export interface CallerInfo {
  /** As received: trailing and leading spaces are not significant. */
  callingAETitle: string;
  /** The socket's peer address (`10.0.0.5`, `::ffff:10.0.0.5`, `::1`). */
  remoteAddress?: string;
  /** The AE title the caller asked for; when given, it must be Limen's own. */
  calledAETitle?: string;
  /** Whether the association came over the TLS listener. Default false. */
  tls?: boolean;
  /** Over TLS, the SHA-256 fingerprint of the certificate the caller presented (lower-case hex). */
  peerCertificateSha256?: string;
}

/**
 * Why an association is refused. The first two map to PS3.8 A-ASSOCIATE-RJ reasons
 * "calling AE title not recognized" (3) and "called AE title not recognized" (7);
 * `address-not-allowed`, `tls-required` and `certificate-not-allowed` are answered as the
 * first, so a probe learns nothing about which AE titles exist, while the audit trail keeps
 * the real reason.
 */
export type CallerRejection = 'calling-ae-not-recognized' | 'called-ae-not-recognized' | 'address-not-allowed' | 'tls-required' | 'certificate-not-allowed';

export type ResolveCallerResult =
  | { ok: true; routeName: string; route: RouteConfig; /** Absent when the route accepts any caller. */ remoteAE?: RemoteAEConfig }
  | { ok: false; reason: CallerRejection };

/**
 * Decides whether a DIMSE caller may associate, and on which route its instances go. A
 * listed remote AE gets its own route, provided it calls from an allowed address (and over
 * TLS, with a certificate of its own, when it requires them); an unlisted one gets the route
 * that accepts any caller, if any.
 */
export function resolveCaller(config: LimenConfig, caller: CallerInfo): ResolveCallerResult {
  if (caller.calledAETitle !== undefined && normalizeAETitle(caller.calledAETitle) !== config.dimse.aeTitle) {
    return { ok: false, reason: 'called-ae-not-recognized' };
  }
  const title = normalizeAETitle(caller.callingAETitle);
  const remoteAE = config.remoteAEs.find((ae) => ae.aeTitle === title);
  if (remoteAE !== undefined) {
    if (
      remoteAE.addresses !== undefined &&
      (caller.remoteAddress === undefined || !addressAllowed(remoteAE.addresses, caller.remoteAddress))
    ) {
      return { ok: false, reason: 'address-not-allowed' };
    }
    const pinned = remoteAE.tlsCertificateSha256;
    if ((remoteAE.tlsRequired || pinned) && caller.tls !== true) return { ok: false, reason: 'tls-required' };
    if (pinned && (caller.peerCertificateSha256 === undefined || !pinned.includes(caller.peerCertificateSha256))) {
      return { ok: false, reason: 'certificate-not-allowed' };
    }
    const route = config.routes[remoteAE.route];
    if (route === undefined) return { ok: false, reason: 'calling-ae-not-recognized' };
    return { ok: true, routeName: remoteAE.route, route, remoteAE };
  }
  const open = Object.entries(config.routes).find(([, route]) => route.acceptAnyCaller);
  if (open === undefined) return { ok: false, reason: 'calling-ae-not-recognized' };
  return { ok: true, routeName: open[0], route: open[1] };
}
