/**
 * Watches the framing of the byte stream a peer sends, ahead of the PDU framer and
 * dcmjs-dimse, which would buffer a PDU of any announced length and accept PDUs in any
 * order. Only headers are read; bodies are skipped by counting, so the guard costs nothing
 * per byte.
 */
import { AbortReason, PDU_HEADER_LENGTH, PduType } from './pdu.js';

/** Where an association stands, as far as what the peer may send next. */
export type GuardState = 'awaiting-associate' | 'negotiating' | 'established' | 'releasing' | 'closed';

export interface PduViolation {
  code: 'unrecognized-pdu' | 'unexpected-pdu' | 'invalid-pdu-length';
  pduType: number;
  length: number;
  /** The A-ABORT reason to send (source: service-provider). */
  abortReason: number;
}

export interface PduGuardLimits {
  /** Largest A-ASSOCIATE-RQ accepted (its length field). */
  maxAssociateRequestLength: number;
  /** The Maximum Length announced in the A-ASSOCIATE-AC: the limit on a P-DATA-TF's length field. */
  maxPDataLength: number;
}

/** A-ASSOCIATE-RQ fixed fields (PS3.8 Table 9-11) take 68 bytes after the header. */
const MIN_ASSOCIATE_RQ_LENGTH = 68;

export class PduGuard {
  private stateValue: GuardState = 'awaiting-associate';
  private readonly header = Buffer.alloc(PDU_HEADER_LENGTH);
  private headerFill = 0;
  private bodyRemaining = 0;

  constructor(private readonly limits: PduGuardLimits) {}

  get state(): GuardState {
    return this.stateValue;
  }

  /** Called once the A-ASSOCIATE-AC is sent: P-DATA may flow. */
  established(): void {
    if (this.stateValue === 'negotiating') this.stateValue = 'established';
  }

  /** Called when the association ends on Limen's side; nothing more is expected. */
  close(): void {
    this.stateValue = 'closed';
  }

  /** Reads a chunk; returns the first violation, after which the stream must be aborted. */
  feed(chunk: Uint8Array): PduViolation | undefined {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.bodyRemaining > 0) {
        const skip = Math.min(this.bodyRemaining, chunk.length - offset);
        this.bodyRemaining -= skip;
        offset += skip;
        continue;
      }
      const take = Math.min(PDU_HEADER_LENGTH - this.headerFill, chunk.length - offset);
      this.header.set(chunk.subarray(offset, offset + take), this.headerFill);
      this.headerFill += take;
      offset += take;
      if (this.headerFill < PDU_HEADER_LENGTH) break;
      this.headerFill = 0;
      const type = this.header[0];
      const length = this.header.readUInt32BE(2);
      const violation = this.check(type, length);
      if (violation) {
        this.stateValue = 'closed';
        return violation;
      }
      this.bodyRemaining = length;
    }
    return undefined;
  }

  private check(type: number, length: number): PduViolation | undefined {
    const fail = (code: PduViolation['code'], abortReason: number): PduViolation => ({ code, pduType: type, length, abortReason });
    if (type < PduType.AssociateRQ || type > PduType.Abort) return fail('unrecognized-pdu', AbortReason.UnrecognizedPdu);
    if (type === PduType.Abort) {
      if (length !== 4) return fail('invalid-pdu-length', AbortReason.InvalidPduParameterValue);
      this.stateValue = 'closed';
      return undefined;
    }
    switch (this.stateValue) {
      case 'awaiting-associate':
        if (type !== PduType.AssociateRQ) return fail('unexpected-pdu', AbortReason.UnexpectedPdu);
        if (length < MIN_ASSOCIATE_RQ_LENGTH || length > this.limits.maxAssociateRequestLength) {
          return fail('invalid-pdu-length', AbortReason.InvalidPduParameterValue);
        }
        this.stateValue = 'negotiating';
        return undefined;
      case 'established':
        if (type === PduType.PData) {
          // A P-DATA-TF holds at least one PDV item: 4-byte length, context ID, control header.
          if (length < 6 || length > this.limits.maxPDataLength) return fail('invalid-pdu-length', AbortReason.InvalidPduParameterValue);
          return undefined;
        }
        if (type === PduType.ReleaseRQ) {
          if (length !== 4) return fail('invalid-pdu-length', AbortReason.InvalidPduParameterValue);
          this.stateValue = 'releasing';
          return undefined;
        }
        return fail('unexpected-pdu', AbortReason.UnexpectedPdu);
      case 'negotiating':
      case 'releasing':
      case 'closed':
        return fail('unexpected-pdu', AbortReason.UnexpectedPdu);
    }
  }
}
