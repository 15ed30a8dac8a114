/**
 * The edge's one operation, shared by every receiver (DIMSE C-STORE, STOW-RS, browser upload):
 * take an identified instance in memory, de-identify it, and make the result durable.
 * Receivers only translate their protocol to and from these types, as Orthanc's
 * IStoreRequestHandler separates the network from what is done with an instance.
 */

/** Where an instance came from; pseudonymous facts only end up in logs and the audit trail. */
export interface IngestSource {
  kind: 'dimse' | 'stow' | 'upload';
  /** DIMSE calling AE title. */
  callingAETitle?: string;
  remoteAddress?: string;
  /** The STOW token's user, if it was given one, and the token's id (which names it in `limen token list`). */
  tokenUser?: string;
  tokenId?: string;
  /** The DIMSE association it arrived on: its `association.*` audit events name the caller's address and certificate. */
  associationId?: string;
  /** The HTTP request it arrived in (the `X-Request-Id` answered to the sender, and in the log). */
  requestId?: string;
}

/** An identified instance, exactly as received. Never written anywhere as it is. */
export interface IngestInstance {
  /**
   * `part10`: a DICOM file (preamble, DICM, file meta). `dataset`: a bare dataset as carried
   * by DIMSE, encoded in `transferSyntaxUID`.
   */
  format: 'part10' | 'dataset';
  bytes: Uint8Array;
  /** Required for `dataset`; for `part10` the file meta says it. */
  transferSyntaxUID?: string;
  /** The SOP Class and Instance the sender announced (a DIMSE command set, a Part 10 file meta), if any. */
  announcedSOPClassUID?: string;
  announcedSOPInstanceUID?: string;
  /** The route (by name) the sender is bound to. */
  route: string;
  source: IngestSource;
}

/** Why an instance was not stored; each maps to a protocol status (DIMSE, STOW-RS). */
export type IngestFailureCode =
  /** Disk full, database unavailable: the sender may retry (DIMSE A700, STOW 0xA700). */
  | 'out-of-resources'
  /** The data set does not match its SOP Class: another than announced, or without a Study or Series Instance UID (DIMSE A900). */
  | 'sop-class-mismatch'
  /** The route does not accept this SOP Class (0x0122; over DIMSE the caller's route refuses it at negotiation already). */
  | 'sop-class-not-supported'
  /** Unparseable, or refused by the de-identification profile (DIMSE C000, STOW 0xC000). */
  | 'cannot-understand'
  /**
   * Encoded in a transfer syntax Limen cannot read (STOW 0xC122, PS3.18's "Referenced Transfer
   * Syntax not supported"; DIMSE C000, though negotiation keeps such syntaxes off an association).
   */
  | 'transfer-syntax-not-supported';

export type IngestOutcome =
  | {
      ok: true;
      sopClassUID: string;
      /** The de-identified (pseudonymous) UIDs under which the instance is stored. */
      sopInstanceUID: string;
      studyInstanceUID: string;
      /** True when the same instance had already been stored: counted once. */
      duplicate: boolean;
    }
  | {
      ok: false;
      code: IngestFailureCode;
      /** A clear, PHI-free reason, returned to the sender as ErrorComment / FailureReason text. */
      reason: string;
      /** The sender's own UIDs when they could be read, so its reply can reference them. */
      sopClassUID?: string;
      sopInstanceUID?: string;
    };

/** Implemented by the edge; receivers call it once per instance and answer the sender with the outcome. */
export interface InstanceIngest {
  ingest(instance: IngestInstance): Promise<IngestOutcome>;
}
