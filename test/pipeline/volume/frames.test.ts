/**
 * Splitting encapsulated pixel data into frames, and the RLE decoder, on byte strings built by
 * hand from PS3.5 A.4 and Annex G (no peer needed).
 */
import { expect } from 'chai';
import { splitFrames } from '../../../pipeline/volume/encapsulated.js';
import { VolumeAssemblyError } from '../../../pipeline/volume/errors.js';
import { rleDecoder } from '../../../pipeline/volume/codecs/index.js';
import { jpegHeader, withPaddedEnd } from '../../../pipeline/volume/codecs/jpeg-lossless.js';

const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const item = (bytes: number[]): number[] => [0xfe, 0xff, 0x00, 0xe0, ...u32(bytes.length), ...bytes];
const DELIMITER = [0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0];
const encapsulate = (offsetTable: number[], fragments: number[][]): Uint8Array =>
  new Uint8Array([...item(offsetTable.flatMap(u32)), ...fragments.flatMap(item), ...DELIMITER]);

const JPEG = (tag: number, n = 4): number[] => [0xff, 0xd8, 0xff, tag, ...Array.from({ length: n - 4 }, (_, i) => i)];
const PART = (tag: number, n = 6): number[] => Array.from({ length: n }, () => tag);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof VolumeAssemblyError) return e.detail.code;
    throw e;
  }
  return 'no error';
}

describe('pipeline/volume: encapsulated frames', () => {
  it('one frame: every fragment, concatenated', () => {
    const frames = splitFrames(encapsulate([], [[1, 2], [3, 4], [5, 6]]), 1, 'x');
    expect(frames.map((f) => [...f])).to.deep.equal([[1, 2, 3, 4, 5, 6]]);
  });

  it('Basic Offset Table: frames of several fragments each', () => {
    // Item offsets count from the first fragment's item tag: 8 + length per item.
    const fragments = [PART(1), PART(2), PART(3), PART(4), PART(5)];
    const frames = splitFrames(encapsulate([0, 28, 42], fragments), 3, 'x');
    expect(frames.map((f) => [...f])).to.deep.equal([[...PART(1), ...PART(2)], [...PART(3)], [...PART(4), ...PART(5)]]);
  });

  it('Extended Offset Table wins over an empty Basic Offset Table', () => {
    const fragments = [PART(1), PART(2), PART(3)];
    const frames = splitFrames(encapsulate([], fragments), 2, 'x', [0, 14]);
    expect(frames.map((f) => [...f])).to.deep.equal([[...PART(1)], [...PART(2), ...PART(3)]]);
  });

  it('an offset table that points between items is not trusted: one fragment per frame instead', () => {
    const frames = splitFrames(encapsulate([0, 5], [PART(1), PART(2)]), 2, 'x');
    expect(frames.map((f) => [...f])).to.deep.equal([PART(1), PART(2)]);
  });

  it('no offset table, more fragments than frames: frames start where a codestream starts', () => {
    const fragments = [JPEG(0xc3, 8), PART(9), JPEG(0xc3, 6), PART(8), PART(7)];
    const frames = splitFrames(encapsulate([], fragments), 2, 'x');
    expect(frames.map((f) => [...f])).to.deep.equal([[...JPEG(0xc3, 8), ...PART(9)], [...JPEG(0xc3, 6), ...PART(8), ...PART(7)]]);
    // JPEG 2000 codestreams (SOC, SIZ) are found the same way.
    const j2k = [0xff, 0x4f, 0xff, 0x51, 0, 0];
    expect(splitFrames(encapsulate([], [j2k, PART(1), j2k]), 2, 'x')).to.have.length(2);
  });

  it('refuses what cannot be split, and pixel data with too few fragments', () => {
    expect(code(() => splitFrames(encapsulate([], [PART(1), PART(2), PART(3)]), 2, 'x'))).to.equal('decode-failed');
    expect(code(() => splitFrames(encapsulate([], [PART(1)]), 3, 'x'))).to.equal('missing-pixel-data');
    expect(code(() => splitFrames(encapsulate([], []), 1, 'x'))).to.equal('missing-pixel-data');
    expect(code(() => splitFrames(new Uint8Array(item([]).concat(item([1, 2]))), 1, 'x'))).to.equal('missing-pixel-data');
  });
});

describe('pipeline/volume: RLE Lossless (PS3.5 Annex G)', () => {
  const layout = { rows: 2, columns: 3, bitsAllocated: 16, bitsStored: 16, pixelRepresentation: 1 };
  // Pixels: 0x0102, 0x0102, 0x0102, 0xFFFE (-2), 0x0000, 0x7FFF.
  const msb = [0x01, 0x01, 0x01, 0xff, 0x00, 0x7f];
  const lsb = [0x02, 0x02, 0x02, 0xfe, 0x00, 0xff];
  // PackBits: a replicate run (-2 → 3 copies) then a literal run (2 → 3 bytes), and a no-op (-128).
  const packedMsb = [0xfe, 0x01, 0x80, 0x02, 0xff, 0x00, 0x7f];
  const packedLsb = [0x05, ...lsb];
  const frame = (segments: number[][]): Uint8Array => {
    const header = new Array<number>(64).fill(0);
    header.splice(0, 4, ...u32(segments.length));
    let offset = 64;
    segments.forEach((s, i) => {
      header.splice(4 + 4 * i, 4, ...u32(offset));
      offset += s.length;
    });
    return new Uint8Array([...header, ...segments.flat()]);
  };

  it('decodes byte planes, most significant first, into little-endian pixels', () => {
    const decoded = rleDecoder.decode(frame([packedMsb, packedLsb]), layout);
    expect(decoded.kind).to.equal('raw');
    if (decoded.kind !== 'raw') return;
    const expected = msb.flatMap((m, i) => [lsb[i], m]);
    expect([...decoded.bytes]).to.deep.equal(expected);
  });

  it('refuses a wrong segment count and a segment that decodes short', () => {
    expect(() => rleDecoder.decode(frame([packedMsb]), layout)).to.throw(/1 segments; 2 are expected/);
    expect(() => rleDecoder.decode(frame([packedMsb, [0x01, 0x02, 0x02]]), layout)).to.throw(/segment 2 decodes to 2 bytes; 6 are expected/);
    expect(() => rleDecoder.decode(new Uint8Array(10), layout)).to.throw(/shorter than its 64-byte header/);
  });
});

describe('pipeline/volume: JPEG Lossless codestream tail', () => {
  it('fill bytes before EOI give way to stuffed padding (DCMTK writes FF FF D9; the package then dropped the last pixel)', () => {
    const tail = withPaddedEnd(new Uint8Array([0xff, 0xd8, 0x12, 0x9c, 0xff, 0xff, 0xd9, 0x00]));
    expect([...tail]).to.deep.equal([0xff, 0xd8, 0x12, 0x9c, 0xff, 0x00, 0xff, 0x00, 0xff, 0xd9]);
    const clean = new Uint8Array([0xff, 0xd8, 0x12, 0x39, 0xff, 0xd9]);
    expect([...withPaddedEnd(clean)]).to.deep.equal([0xff, 0xd8, 0x12, 0x39, 0xff, 0x00, 0xff, 0x00, 0xff, 0xd9]);
  });

  it('reads the start-of-frame marker and the point transform from the header', () => {
    // SOI, SOF3 (length 11), SOS (length 8: one component, Ss 1, Se 0, Ah|Al 0x02).
    const header = new Uint8Array([0xff, 0xd8, 0xff, 0xc3, 0, 11, 16, 0, 2, 0, 3, 1, 1, 0x11, 0, 0xff, 0xda, 0, 8, 1, 1, 0, 1, 0, 0x02]);
    expect(jpegHeader(header)).to.deep.equal({ sof: 0xffc3, pointTransform: 2 });
    expect(jpegHeader(new Uint8Array([1, 2, 3, 4]))).to.deep.equal({});
  });
});
