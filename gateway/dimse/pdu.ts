/**
 * The few PDU facts Limen needs below dcmjs-dimse (PS3.8 §9.3): PDU types, and the
 * A-ABORT PDU, which Limen writes itself so it can abort at any moment, even before an
 * association exists.
 */

/** PDU types (PS3.8 Table 9-11 and following). */
export const PduType = {
  AssociateRQ: 0x01,
  AssociateAC: 0x02,
  AssociateRJ: 0x03,
  PData: 0x04,
  ReleaseRQ: 0x05,
  ReleaseRP: 0x06,
  Abort: 0x07,
} as const;

/** A-ABORT source (PS3.8 Table 9-26). */
export const AbortSource = { ServiceUser: 0, ServiceProvider: 2 } as const;

/** A-ABORT reason when the source is the service-provider (PS3.8 Table 9-26). */
export const AbortReason = {
  NotSpecified: 0,
  UnrecognizedPdu: 1,
  UnexpectedPdu: 2,
  UnrecognizedPduParameter: 4,
  UnexpectedPduParameter: 5,
  InvalidPduParameterValue: 6,
} as const;

/** Bytes of an A-ABORT PDU. The reason is only meaningful from the service-provider. */
export function abortPdu(source: number, reason: number): Buffer {
  return Buffer.from([PduType.Abort, 0, 0, 0, 0, 4, 0, 0, source, source === AbortSource.ServiceProvider ? reason : 0]);
}

/** PDU header: type (1), reserved (1), length of what follows (4, big endian). */
export const PDU_HEADER_LENGTH = 6;
