/**
 * P-DATA-TF PDUs (PS3.8 §9.3.5, Annex E): framing the byte stream into PDUs, reading their
 * presentation data values, and writing a command as PDVs. Limen handles P-DATA itself: the
 * library's receive path re-concatenated a PDU on every socket read and parsed every command
 * through a general DICOM encoder, costing more than de-identifying the instance.
 */
import { PDU_HEADER_LENGTH, PduType } from './pdu.js';

/** Reassembles whole PDUs from socket reads. The guard has already bounded every length. */
export class PduFramer {
  private parts: Buffer[] = [];
  private buffered = 0;
  /** Total bytes (header included) of the PDU being assembled, once its header is in. */
  private expected: number | undefined;

  /** Adds a read; returns the PDUs it completed, in order (header included). */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    this.parts.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.expected === undefined) {
        if (this.buffered < PDU_HEADER_LENGTH) break;
        this.expected = PDU_HEADER_LENGTH + this.peekHeader().readUInt32BE(2);
      }
      if (this.buffered < this.expected) break;
      out.push(this.take(this.expected));
      this.expected = undefined;
    }
    return out;
  }

  private peekHeader(): Buffer {
    const first = this.parts[0];
    if (first.length >= PDU_HEADER_LENGTH) return first;
    return Buffer.concat(this.parts).subarray(0, PDU_HEADER_LENGTH);
  }

  /** The next `n` bytes: a view when they lie in one read, else one copy. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.parts[0];
    if (first.length >= n) {
      if (first.length === n) this.parts.shift();
      else this.parts[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const part = this.parts[0];
      const use = Math.min(part.length, n - filled);
      part.copy(out, filled, 0, use);
      filled += use;
      if (use === part.length) this.parts.shift();
      else this.parts[0] = part.subarray(use);
    }
    return out;
  }
}

/** One presentation data value item. */
export interface Pdv {
  presentationContextID: number;
  /** Message control header bit 0: a command fragment (else data set). */
  command: boolean;
  /** Message control header bit 1: the last fragment of its command or data set. */
  last: boolean;
  /** A view into the PDU. */
  value: Buffer;
}

export class PDataError extends Error {
  override readonly name = 'PDataError';
}

/** The PDV items of a whole P-DATA-TF PDU (header included). */
export function readPdvs(pdu: Buffer): Pdv[] {
  const end = PDU_HEADER_LENGTH + pdu.readUInt32BE(2);
  const out: Pdv[] = [];
  let offset = PDU_HEADER_LENGTH;
  while (offset < end) {
    if (offset + 6 > end) throw new PDataError('a PDV item header runs past the end of the PDU');
    const length = pdu.readUInt32BE(offset);
    if (length < 2 || offset + 4 + length > end) throw new PDataError(`a PDV item length (${length}) does not fit the PDU`);
    const control = pdu[offset + 5];
    out.push({ presentationContextID: pdu[offset + 4], command: (control & 1) === 1, last: (control & 2) === 2, value: pdu.subarray(offset + 6, offset + 4 + length) });
    offset += 4 + length;
  }
  if (out.length === 0) throw new PDataError('a P-DATA-TF without any PDV item');
  return out;
}

/**
 * A command set as P-DATA-TF PDUs, fragmented to the peer's maximum length (of the PDU's
 * variable field, PS3.8 §D.1; 0 means no limit).
 */
export function commandPdus(presentationContextID: number, command: Buffer, peerMaxPduLength: number): Buffer[] {
  const maxFragment = peerMaxPduLength > 6 ? peerMaxPduLength - 6 : command.length;
  const pdus: Buffer[] = [];
  for (let offset = 0; offset < command.length || pdus.length === 0; offset += maxFragment) {
    const fragment = command.subarray(offset, offset + maxFragment);
    const last = offset + maxFragment >= command.length;
    const pdu = Buffer.alloc(PDU_HEADER_LENGTH + 6 + fragment.length);
    pdu[0] = PduType.PData;
    pdu.writeUInt32BE(6 + fragment.length, 2);
    pdu.writeUInt32BE(2 + fragment.length, 6);
    pdu[10] = presentationContextID;
    pdu[11] = last ? 0x03 : 0x01;
    fragment.copy(pdu, 12);
    pdus.push(pdu);
  }
  return pdus;
}
