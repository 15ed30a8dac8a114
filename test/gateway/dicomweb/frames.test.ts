/** Cutting pixel data into frames: native, one-bit across byte boundaries, and encapsulated. */
import { expect } from 'chai';
import { encapsulatedFrames, FrameError, nativeFrame, type PixelLayout } from '../../../gateway/dicomweb/frames.js';

const layout = (over: Partial<PixelLayout>): PixelLayout => ({ rows: 2, columns: 2, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 16, pixelRepresentation: 0, numberOfFrames: 1, ...over });

/** Items (first the Basic Offset Table) and the sequence delimiter, as the reader keeps them. */
function encapsulate(table: number[], fragments: Uint8Array[]): Uint8Array {
  const item = (bytes: Uint8Array) => {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(0xfffe, 0);
    h.writeUInt16LE(0xe000, 2);
    h.writeUInt32LE(bytes.length, 4);
    return Buffer.concat([h, bytes]);
  };
  const bot = Buffer.alloc(table.length * 4);
  table.forEach((o, i) => bot.writeUInt32LE(o, 4 * i));
  const end = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  return Buffer.concat([item(bot), ...fragments.map(item), end]);
}

describe('gateway/dicomweb frames', () => {
  it('cuts native frames by Rows × Columns × SamplesPerPixel × BitsAllocated', () => {
    const value = Uint8Array.from({ length: 24 }, (_, i) => i);
    const l = layout({ numberOfFrames: 3 });
    expect([...nativeFrame(value, l, 1)]).to.deep.equal([8, 9, 10, 11, 12, 13, 14, 15]);
    expect(() => nativeFrame(value, l, 3)).to.throw(FrameError, /frame 4 does not exist/);
    expect(() => nativeFrame(value.subarray(0, 20), l, 2)).to.throw(FrameError, /too few/);
  });

  it('shifts one-bit frames that start inside a byte to bit 0, and clears the next frame\'s bits', () => {
    // Three 3 × 3 frames of one bit: 27 bits, frames at bits 0, 9 and 18.
    const l = layout({ rows: 3, columns: 3, bitsAllocated: 1, bitsStored: 1, numberOfFrames: 3 });
    const frames = ['101010101', '111000111', '000111000'];
    const bits = frames.join('');
    const packed = new Uint8Array(Math.ceil(bits.length / 8));
    for (let i = 0; i < bits.length; i++) if (bits[i] === '1') packed[i >> 3] |= 1 << (i & 7);
    const unpack = (b: Uint8Array) => Array.from({ length: 9 }, (_, i) => ((b[i >> 3] >> (i & 7)) & 1).toString()).join('');
    frames.forEach((f, k) => {
      const out = nativeFrame(packed, l, k);
      expect(out.length).to.equal(2);
      expect(unpack(out)).to.equal(f);
      expect(out[1] & 0xfe).to.equal(0);
    });
  });

  it('finds encapsulated frames by the offset table, one fragment each, or codestream markers', () => {
    const jpeg = (n: number, more = 0) => Uint8Array.from([0xff, 0xd8, 0xff, n, ...Array(more).fill(n)]);
    const tail = Uint8Array.from([9, 9]);
    // Frame 1 in two fragments; the table says where frame 2 starts (8 + 6 bytes + 8 + 2 bytes).
    const withTable = encapsulate([0, 24], [jpeg(1, 2), tail, jpeg(2)]);
    expect(encapsulatedFrames(withTable, 2).map((f) => [...f])).to.deep.equal([[0xff, 0xd8, 0xff, 1, 1, 1, 9, 9], [0xff, 0xd8, 0xff, 2]]);
    const byMarkers = encapsulate([], [jpeg(1, 2), tail, jpeg(2)]);
    expect(encapsulatedFrames(byMarkers, 2).map((f) => f.length)).to.deep.equal([8, 4]);
    const oneEach = encapsulate([], [Uint8Array.from([1, 2]), Uint8Array.from([3, 4])]);
    expect(encapsulatedFrames(oneEach, 2).map((f) => [...f])).to.deep.equal([[1, 2], [3, 4]]);
    expect(encapsulatedFrames(oneEach, 1).map((f) => [...f])).to.deep.equal([[1, 2, 3, 4]]);
    expect(() => encapsulatedFrames(encapsulate([], [Uint8Array.from([1, 2]), Uint8Array.from([3, 4]), Uint8Array.from([5, 6])]), 2)).to.throw(FrameError, /cannot tell/);
    expect(() => encapsulatedFrames(withTable.subarray(0, withTable.length - 8), 2)).to.throw(FrameError, /without a sequence delimiter/);
  });
});
