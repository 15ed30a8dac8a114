/** The contract between volume assembly and the decoders of each transfer syntax. */

/** What a decoder needs to know about the frame it decodes, from the Image Pixel Module. */
export interface FrameLayout {
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: number;
}

/**
 * One decoded frame. `raw`: bytes laid out as native little-endian pixel data (BitsAllocated per
 * sample), read with BitsStored and HighBit like uncompressed data. `samples`: one element per
 * pixel; the low `precision` bits are the stored value, already sign-correct when `signed`.
 */
export type DecodedFrame =
  | { kind: 'raw'; bytes: Uint8Array }
  | { kind: 'samples'; samples: Uint8Array | Int8Array | Uint16Array | Int16Array; precision: number; signed: boolean };

/** Decodes one frame's compressed bytes; throws an Error whose message says what was wrong. */
export interface FrameDecoder {
  /** Codec and package, for messages and reports. */
  readonly name: string;
  decode(frame: Uint8Array, layout: FrameLayout): DecodedFrame;
}
