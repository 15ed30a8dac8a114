/**
 * The certificates Limen presents, watched until they end. Each one's end goes into a gauge
 * (`limen_tls_certificate_expiry_timestamp_seconds`, what certificate alerts are written
 * against), and once renewal is due a warning goes into the log: at start, on each reload, and
 * daily, since a gateway runs for months between restarts. The listeners' certificates as they
 * serve them; a destination's client certificate as its file is now (it is read at each send).
 */
import { readFileSync } from 'node:fs';
import type { LimenConfig } from '../../config/index.js';
import type { Logger } from '../log/index.js';
import type { Gauge, MetricsRegistry } from '../metrics/index.js';
import { renewalWarning, servedCertificate, type ServedCertificate } from '../tls/index.js';
import type { Service } from './service.js';

/** A certificate Limen presents, by the setting that names its file. */
export interface PresentedCertificate {
  setting: string;
  certificate: ServedCertificate;
}

/** How often the certificates are looked at again while nothing is reloaded. */
export const CERTIFICATE_CHECK_INTERVAL_MS = 86_400_000;

/** The listeners' certificates, by their settings. */
export function listenerCertificates(served: { dimse?: ServedCertificate; http?: ServedCertificate }): PresentedCertificate[] {
  return [
    ...(served.dimse ? [{ setting: 'dimse.tls.certificateFile', certificate: served.dimse }] : []),
    ...(served.http ? [{ setting: 'http.tls.certificateFile', certificate: served.http }] : []),
  ];
}

/**
 * The certificate a PEM file starts with, as the file is now; none when no file is named or it
 * cannot be read (`pemFileProblems` names it, and whatever uses it says why it fails).
 */
export function certificateInFile(setting: string, file: string | undefined): PresentedCertificate[] {
  if (file === undefined) return [];
  try {
    return [{ setting, certificate: servedCertificate(readFileSync(file)) }];
  } catch {
    return [];
  }
}

/** The client certificates Limen presents to DICOM destinations, as their files are now. */
export function destinationCertificates(config: Pick<LimenConfig, 'destinations'>): PresentedCertificate[] {
  return Object.entries(config.destinations).flatMap(([name, d]) =>
    certificateInFile(`destinations.${name}.tls.certificateFile`, d.kind === 'dimse' ? d.tls?.certificateFile : undefined),
  );
}

/** Those within `CERTIFICATE_RENEWAL_DAYS` of their end (or past it): logged by the watch, printed by `limen config check`. */
export function renewalWarnings(presented: readonly PresentedCertificate[], now = new Date()): Array<{ setting: string; message: string; notAfter: Date }> {
  return presented.flatMap(({ setting, certificate }) => {
    const message = renewalWarning(setting, certificate, now);
    return message ? [{ setting, message, notAfter: certificate.notAfter }] : [];
  });
}

export interface CertificateWatchDeps {
  registry: MetricsRegistry;
  logger: Logger;
  /** Read at every check. */
  destinations: () => PresentedCertificate[];
  intervalMs?: number;
  now?: () => Date;
}

export class CertificateWatch implements Service {
  readonly name = 'certificate-watch';
  status: 'stopped' | 'running' = 'stopped';
  private listeners: PresentedCertificate[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly expiry: Gauge;

  constructor(private readonly deps: CertificateWatchDeps) {
    this.expiry = deps.registry.gauge({
      name: 'limen_tls_certificate_expiry_timestamp_seconds',
      help: 'When each certificate Limen presents ends (Unix time), by the setting that names its file.',
      labelNames: ['setting'],
    });
  }

  async start(): Promise<void> {
    this.check();
    this.timer = setInterval(() => this.check(), this.deps.intervalMs ?? CERTIFICATE_CHECK_INTERVAL_MS);
    this.timer.unref();
    this.status = 'running';
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.status = 'stopped';
  }

  /** The listeners serve these now (at start, after a reload); checked at once once running. */
  serving(listeners: PresentedCertificate[]): void {
    this.listeners = listeners;
    if (this.status === 'running') this.check();
  }

  /** Updates the gauge and warns of every certificate due for renewal. */
  check(): void {
    const presented = [...this.listeners, ...this.deps.destinations()];
    // A certificate no longer presented (its file unreadable now, its setting gone on a reload)
    // leaves /metrics rather than showing its last end for good.
    this.expiry.clear();
    for (const { setting, certificate } of presented) this.expiry.set(Math.floor(certificate.notAfter.getTime() / 1000), { setting });
    for (const w of renewalWarnings(presented, this.deps.now?.())) {
      this.deps.logger.warn({ id: 'gateway.tls.certificate-expiring', msg: w.message, path: w.setting, notAfter: w.notAfter.toISOString() });
    }
  }
}
