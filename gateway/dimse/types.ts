/**
 * The DIMSE SCP's options, the dependencies it is given, and the audit events it reports.
 */
import type { InstanceIngest } from '../ingest/types.js';
import type { ReceiveMemory } from '../ingest/receive-memory.js';
import type { MetricsRegistry } from '../metrics/index.js';
import type { Logger } from '../log/index.js';
import type { ListenerCredentials } from '../tls/index.js';
import type { AssociateRefusal, AssociationRejectReason } from './rejection.js';

/** Named defaults for the options below. */
export const DIMSE_SCP_DEFAULTS = {
  /**
   * dcmjs-dimse never announces more than its own 262144 bytes, so larger values are
   * capped there; 256 KiB PDUs keep a loopback C-STORE far from PDU-bound.
   */
  maxPduLength: 262_144,
  /** An association with no traffic and nothing in progress for this long is aborted. */
  idleTimeoutMs: 60_000,
  /**
   * A connection that sends no A-ASSOCIATE-RQ this long after it opens is closed (the ARTIM
   * timer, PS3.8 9.1.5; DCMTK's ACSE timeout has the same default).
   */
  artimTimeoutMs: 30_000,
  maxAssociations: 32,
  /** One instance larger than this is refused (A700) without being held in memory. */
  maxDataSetBytes: 1 << 30,
  /** How long `stop()` lets in-flight C-STOREs run before aborting them. */
  stopTimeoutMs: 30_000,
} as const;

export interface DimseScpOptions {
  /** The only address listened on. */
  host: string;
  /** 0 picks a free port; read it back from `DimseScpService.address`. */
  port: number;
  /** The called AE title this node answers to. */
  aeTitle: string;
  /** Storage SOP Classes accepted; Verification is always accepted. */
  acceptedSopClasses: readonly string[];
  /** Transfer syntaxes accepted, as they are; default `DEFAULT_ACCEPTED_TRANSFER_SYNTAXES`. */
  acceptedTransferSyntaxes?: readonly string[];
  maxPduLength?: number;
  idleTimeoutMs?: number;
  artimTimeoutMs?: number;
  maxAssociations?: number;
  maxDataSetBytes?: number;
  stopTimeoutMs?: number;
  /** A second listener, on the same host, for DICOM over TLS. */
  tls?: DimseTlsOptions;
}

/**
 * DICOM over TLS with Limen's TLS profile (`gateway/tls`: PS3.15's non-downgrading BCP 195
 * profile). PEM text or bytes.
 */
export interface DimseTlsOptions extends DimseTlsCredentials {
  /** 0 picks a free port; read it back from `DimseScpService.tlsAddress`. */
  port: number;
  /**
   * Ask callers for a certificate even without a caller CA, so that the association hook can
   * check it by fingerprint (self-signed device certificates). Default: whether `callerCa` is given.
   */
  requestCertificate?: boolean;
}

/** What the TLS listener serves with; `DimseScpService.reloadTls` replaces it while running. */
export type DimseTlsCredentials = ListenerCredentials;

/** How an association reached Limen. */
export type DimseTransport = 'tcp' | 'tls';

/** What the association hook is told about a requestor. */
export interface AssociateRequest {
  callingAETitle: string;
  calledAETitle: string;
  /** The peer's IP address (IPv4-mapped IPv6 addresses are given as IPv4). */
  remoteAddress: string;
  transport: DimseTransport;
  /** Over TLS with a caller certificate: its SHA-256 fingerprint (lower-case hex). */
  peerCertificateSha256?: string;
}

/**
 * `acceptedSopClasses`, when given, narrows the service's Storage SOP Classes for this caller
 * (its route's): a class outside it is refused at negotiation, not after its data set was sent.
 */
export type AssociateDecision = { accept: true; route: string; acceptedSopClasses?: readonly string[] } | { accept: false; reason: AssociateRefusal };

/** Decides who may associate and which route their instances go to (config's remote AEs). */
export type AssociateHook = (request: AssociateRequest) => AssociateDecision | Promise<AssociateDecision>;

/** Facts every association event carries. AE titles identify devices, never patients. */
export interface AssociationFacts {
  /** Random, per connection; ties log lines and audit events together. */
  associationId: string;
  callingAETitle?: string;
  calledAETitle?: string;
  remoteAddress: string;
  transport: DimseTransport;
  /** Over TLS with a caller certificate: its SHA-256 fingerprint, which names the device that presented it. */
  peerCertificateSha256?: string;
  /** Why the caller's certificate was not trusted (OpenSSL's code, or NO_CERTIFICATE_PRESENTED), when the listener requires one. */
  certificateError?: string;
}

/** Reported for the audit trail. */
export type DimseScpEvent =
  | (AssociationFacts & { type: 'association-accepted'; route: string })
  | (AssociationFacts & { type: 'association-rejected'; reason: AssociationRejectReason })
  | (AssociationFacts & {
      type: 'association-aborted';
      /** Who ended it: the peer (A-ABORT or a dropped connection) or Limen. */
      initiator: 'peer' | 'local';
      reason: AbortCause;
      stored: number;
      failed: number;
    })
  | (AssociationFacts & { type: 'association-released'; stored: number; failed: number });

export type AbortCause =
  | 'peer-abort'
  | 'connection-lost'
  | 'protocol-error'
  | 'idle-timeout'
  | 'stopping';

export interface DimseScpDependencies {
  ingest: InstanceIngest;
  /** The received instances' memory, shared with the other receivers. */
  memory?: ReceiveMemory;
  /** Where `limen_dimse_stores_refused_total{reason}` is counted: C-STOREs answered without the ingest. */
  metrics?: MetricsRegistry;
  associate: AssociateHook;
  logger: Logger;
  /** Audit sink; a throwing sink is logged and otherwise ignored. */
  onEvent?: (event: DimseScpEvent) => void;
}

/** Lifecycle of a long-running service. */
export type ServiceStatus = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed';
