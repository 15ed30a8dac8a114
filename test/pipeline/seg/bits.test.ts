import { expect } from 'chai';
import { takeCensus, slicesWith } from '../../../pipeline/seg/census.js';
import { byteFrames, framesAreByteAligned, packFrames, packedLength, thresholdFrame, unpackFrame, type PackedFrame } from '../../../pipeline/seg/index.js';

/** The packing spelled out one bit at a time, to compare the fast path against. */
function naivePack(labels: Uint8Array, plane: number, frames: PackedFrame[]): Uint8Array {
  const out = new Uint8Array(Math.ceil((frames.length * plane) / 8));
  frames.forEach(({ labelId, z }, k) => {
    for (let i = 0; i < plane; i++) {
      const b = k * plane + i;
      if (labels[z * plane + i] === labelId) out[Math.floor(b / 8)] += 2 ** (b % 8);
    }
  });
  return out;
}

function pseudoRandomLabels(n: number, seed: number, values: number): Uint8Array {
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const r = (seed >>> 16) % (values * 2);
    labels[i] = r < values ? r : 0;
  }
  return labels;
}

describe('pipeline/seg bit packing (PS3.5 §8.1.1)', () => {
  it('puts the first pixel in the least significant bit of the first byte', () => {
    // One 3×3 frame whose pixels 0, 1 and 8 are set: bits 0, 1 of byte 0 and bit 0 of byte 1.
    const labels = new Uint8Array([1, 1, 0, 0, 0, 0, 0, 0, 1]);
    expect([...packFrames(labels, 9, [{ labelId: 1, z: 0 }])]).to.deep.equal([0b00000011, 0b00000001]);
  });

  it('packs frames back to back with no padding when a frame is not a whole number of bytes', () => {
    // Two 3×3 frames (9 bits each): the second starts at bit 9, i.e. bit 1 of byte 1.
    const plane = 9;
    const labels = new Uint8Array(2 * plane);
    labels[0] = 1; // frame 0, pixel 0 → bit 0
    labels[plane + 0] = 1; // frame 1, pixel 0 → bit 9
    labels[plane + 8] = 1; // frame 1, pixel 8 → bit 17
    const packed = packFrames(labels, plane, [{ labelId: 1, z: 0 }, { labelId: 1, z: 1 }]);
    expect(packed.length).to.equal(3); // 18 bits
    expect([...packed]).to.deep.equal([0b00000001, 0b00000010, 0b00000010]);
  });

  it('selects only the voxels of the frame label', () => {
    const labels = new Uint8Array([1, 2, 1, 2, 0, 2, 1, 1]);
    expect([...packFrames(labels, 8, [{ labelId: 2, z: 0 }])]).to.deep.equal([0b00101010]);
    expect([...packFrames(labels, 8, [{ labelId: 1, z: 0 }])]).to.deep.equal([0b11000101]);
  });

  it('packs as the bit-by-bit definition does, for frame sizes on and off byte boundaries', () => {
    for (const plane of [1, 3, 8, 9, 16, 23 * 38, 24 * 38, 101 * 122, 512 * 3]) {
      const labels = pseudoRandomLabels(plane * 6, plane, 3);
      const frames = [5, 0, 3, 3, 1].flatMap((z) => [{ labelId: 1, z }, { labelId: 2, z }]);
      expect(Buffer.from(packFrames(labels, plane, frames)).equals(Buffer.from(naivePack(labels, plane, frames))), `plane ${plane}`).to.equal(true);
    }
  });

  it('counts labels per slice the same with and without the word-at-a-time path', () => {
    for (const plane of [16, 18, 512]) {
      const all = pseudoRandomLabels(plane * 7 + 1, plane, 4);
      // subarray(1) is not 4-byte aligned, which takes the byte-at-a-time path.
      for (const labels of [all.subarray(0, plane * 7), all.subarray(1)]) {
        const census = takeCensus(labels, plane, 7);
        for (let label = 1; label < 4; label++) {
          const expected = [0, 1, 2, 3, 4, 5, 6].filter((z) => labels.subarray(z * plane, (z + 1) * plane).includes(label));
          expect(slicesWith(census, label), `plane ${plane}, label ${label}`).to.deep.equal(expected);
          expect(census.voxels[label]).to.equal(labels.reduce((a, v) => a + (v === label ? 1 : 0), 0));
        }
      }
    }
  });

  it('unpacks what it packed, for odd frame sizes and many frames', () => {
    for (const plane of [1, 7, 9, 23 * 38, 101 * 122]) {
      const frames = 5;
      const labels = new Uint8Array(plane * frames);
      let seed = plane;
      for (let i = 0; i < labels.length; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        labels[i] = (seed >>> 16) % 3 === 0 ? 1 : 0;
      }
      const order = [3, 0, 4, 1, 2].map((z) => ({ labelId: 1, z }));
      const packed = packFrames(labels, plane, order);
      expect(packed.length).to.equal(packedLength(frames, plane));
      order.forEach(({ z }, k) => {
        const out = new Uint8Array(plane);
        const set = unpackFrame(packed, k, plane, out, 0);
        expect(out).to.deep.equal(labels.subarray(z * plane, (z + 1) * plane), `plane ${plane}, frame ${k}`);
        expect(set).to.equal(out.reduce((a, b) => a + b, 0));
      });
    }
  });

  it('tells byte-aligned frame sizes (every frame starts a byte) from the others', () => {
    expect([512 * 512, 24 * 38, 8, 512 * 511].map(framesAreByteAligned)).to.deep.equal([true, true, true, true]);
    expect([101 * 122, 23 * 38, 1, 511 * 511].map(framesAreByteAligned)).to.deep.equal([false, false, false, false]);
  });

  it('writes one byte per pixel (255 inside, 0 outside) and reads fractions of at least half back as the mask', () => {
    const plane = 101 * 122;
    const labels = pseudoRandomLabels(plane * 4, 7, 3);
    const order: PackedFrame[] = [{ labelId: 2, z: 3 }, { labelId: 1, z: 0 }, { labelId: 1, z: 2, members: Uint8Array.from({ length: 256 }, (_, v) => (v === 1 || v === 2 ? 1 : 0)) }];
    const bytes = byteFrames(labels, plane, order);
    expect(bytes.length).to.equal(order.length * plane);
    const packed = packFrames(labels, plane, order);
    order.forEach((_, k) => {
      const fromBits = new Uint8Array(plane);
      unpackFrame(packed, k, plane, fromBits, 0);
      expect(Buffer.from(bytes.subarray(k * plane, (k + 1) * plane)).equals(Buffer.from(fromBits.map((v) => v * 255))), `frame ${k}`).to.equal(true);
      const back = new Uint8Array(plane);
      expect(thresholdFrame(bytes, k, plane, 255, back, 0)).to.equal(fromBits.reduce((a, v) => a + v, 0));
      expect(Buffer.from(back).equals(Buffer.from(fromBits)), `frame ${k} thresholded`).to.equal(true);
    });
    // Another writer's fractions: at least half of the maximum is inside.
    const out = new Uint8Array(5);
    expect(thresholdFrame(Uint8Array.from([0, 63, 64, 127, 128]), 0, 5, 127, out, 0)).to.equal(3);
    expect([...out]).to.deep.equal([0, 0, 1, 1, 1]);
  });
});
