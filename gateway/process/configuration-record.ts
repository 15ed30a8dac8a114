/**
 * What the audit trail keeps of the configuration a gateway started with (`gateway.started`): for
 * each route, the de-identification profile and options its studies went through, where its
 * results go, and who may send on it. With it, a study's `instance.stored` events (which name the
 * route) tell which rules de-identified it, long after the file changed. Names, addresses and AE
 * titles only: credentials live in files the configuration names (a URL may not carry them), and
 * not even those paths are written.
 */
import type { LimenConfig } from '../../config/index.js';

export function configurationRecord(config: Pick<LimenConfig, 'dimse' | 'routes' | 'destinations' | 'remoteAEs'>): Record<string, unknown> {
  return {
    aeTitle: config.dimse.aeTitle,
    routes: Object.fromEntries(
      Object.entries(config.routes).map(([name, r]) => [
        name,
        {
          deidentification: {
            profile: r.deidentification.profile,
            options: r.deidentification.options,
            allowBurnedIn: r.deidentification.allowBurnedIn,
            ...(r.deidentification.safePrivateAllowlist && { safePrivateAllowlist: r.deidentification.safePrivateAllowlist.map((e) => `${e.creator} (${hex4(e.group)},xx${hex2(e.element)})`) }),
          },
          acceptSopClasses: r.acceptSopClasses,
          acceptAnyCaller: r.acceptAnyCaller,
          ...(r.model !== undefined && { model: r.model }),
          ...(r.reviewerGroup !== undefined && { reviewerGroup: r.reviewerGroup }),
          destinations: r.destinations,
          retentionDays: r.retentionDays,
        },
      ]),
    ),
    destinations: Object.fromEntries(
      Object.entries(config.destinations).map(([name, d]) => [
        name,
        d.kind === 'dimse' ? { kind: 'dimse', aeTitle: d.aeTitle, host: d.host, port: d.port, tls: d.tls !== undefined } : { kind: 'dicomweb', url: d.url },
      ]),
    ),
    remoteAEs: config.remoteAEs.map((ae) => ({ aeTitle: ae.aeTitle, route: ae.route, tlsRequired: ae.tlsRequired, ...(ae.addresses && { addresses: ae.addresses }) })),
  };
}

const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');
const hex2 = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');
