/**
 * P-DATA-TF PDUs (PS3.8 §9.3.5, Annex E): framing the byte stream into PDUs, reading their
 * presentation data values, and writing a command as PDVs. Limen handles P-DATA itself: the
 * library's receive path re-concatenated a PDU on every socket read and parsed every command
 * through a general DICOM encoder, costing more than de-identifying the instance.
 */
import { PDU_HEADER_LENGTH, PduType } from './pdu.js';

/**
 * A whole PDU as it arrived: views of the socket reads it spans, in order, never copied. A
 * P-DATA-TF of 256 KiB spans several reads; its PDV values stay views of them until the data set
 * is joined once (`DataSetCollector`).
 */
export class Pdu {
  constructor(
    readonly parts: readonly Buffer[],
    /** Header included. */
    readonly length: number,
  ) {}

  get type(): number {
    return this.parts[0][0];
  }

  /** The PDU in one buffer: a view when it came in one read, else a copy (for the small PDUs that are not P-DATA). */
  bytes(): Buffer {
    return this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.length);
  }
}

/** Reassembles whole PDUs from socket reads. The guard has already bounded every length. */
export class PduFramer {
  private parts: Buffer[] = [];
  private buffered = 0;
  /** Total bytes (header included) of the PDU being assembled, once its header is in. */
  private expected: number | undefined;

  /** Adds a read; returns the PDUs it completed, in order. */
  push(chunk: Buffer): Pdu[] {
    const out: Pdu[] = [];
    if (chunk.length === 0) return out;
    this.parts.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.expected === undefined) {
        if (this.buffered < PDU_HEADER_LENGTH) break;
        this.expected = PDU_HEADER_LENGTH + new Segments(this.parts).uint32(2);
      }
      if (this.buffered < this.expected) break;
      out.push(new Pdu(this.take(this.expected), this.expected));
      this.expected = undefined;
    }
    return out;
  }

  /** The next `n` bytes, as views of the reads they lie in. */
  private take(n: number): Buffer[] {
    this.buffered -= n;
    const out: Buffer[] = [];
    for (let taken = 0; taken < n; ) {
      const part = this.parts[0];
      const use = Math.min(part.length, n - taken);
      out.push(use === part.length ? part : part.subarray(0, use));
      taken += use;
      if (use === part.length) this.parts.shift();
      else this.parts[0] = part.subarray(use);
    }
    return out;
  }
}

/** Reads across the views a PDU is made of, front to back. */
class Segments {
  private index = 0;
  private start = 0;

  constructor(private readonly parts: readonly Buffer[]) {}

  byte(offset: number): number {
    this.seek(offset);
    return this.parts[this.index][offset - this.start];
  }

  uint32(offset: number): number {
    this.seek(offset);
    const part = this.parts[this.index];
    if (offset - this.start + 4 <= part.length) return part.readUInt32BE(offset - this.start);
    return ((this.byte(offset) << 24) | (this.byte(offset + 1) << 16) | (this.byte(offset + 2) << 8) | this.byte(offset + 3)) >>> 0;
  }

  /** Bytes `from` to `to` as views, one per part they touch. */
  views(from: number, to: number): Buffer[] {
    const out: Buffer[] = [];
    if (from === to) return out;
    this.seek(from);
    for (let at = from; at < to; ) {
      const part = this.parts[this.index];
      const end = Math.min(to, this.start + part.length);
      out.push(part.subarray(at - this.start, end - this.start));
      at = end;
      if (at < to) this.seek(at);
    }
    return out;
  }

  /** Moves to the part holding `offset` (offsets only grow, but for a reread in the current part). */
  private seek(offset: number): void {
    if (offset < this.start) {
      this.index = 0;
      this.start = 0;
    }
    while (offset >= this.start + this.parts[this.index].length) {
      this.start += this.parts[this.index].length;
      this.index += 1;
    }
  }
}

/** One presentation data value item. */
export interface Pdv {
  presentationContextID: number;
  /** Message control header bit 0: a command fragment (else data set). */
  command: boolean;
  /** Message control header bit 1: the last fragment of its command or data set. */
  last: boolean;
  /** Views into the PDU's reads (none for an empty fragment). */
  value: Buffer[];
}

export class PDataError extends Error {
  override readonly name = 'PDataError';
}

/** The PDV items of a whole P-DATA-TF PDU. */
export function readPdvs(pdu: Pdu): Pdv[] {
  const bytes = new Segments(pdu.parts);
  const end = pdu.length;
  const out: Pdv[] = [];
  let offset = PDU_HEADER_LENGTH;
  while (offset < end) {
    if (offset + 6 > end) throw new PDataError('a PDV item header runs past the end of the PDU');
    const length = bytes.uint32(offset);
    if (length < 2 || offset + 4 + length > end) throw new PDataError(`a PDV item length (${length}) does not fit the PDU`);
    const control = bytes.byte(offset + 5);
    out.push({ presentationContextID: bytes.byte(offset + 4), command: (control & 1) === 1, last: (control & 2) === 2, value: bytes.views(offset + 6, offset + 4 + length) });
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
