/** A label mask reduced to one bit per voxel, so the extractor can skip 32 empty cubes at a time. */
import { MeshError } from './errors.js';
import type { MaskSelector } from './types.js';

/** A 256-entry table: 1 where a mask byte value is inside the segment, else 0. */
export function selectorTable(inside: MaskSelector | undefined): Uint8Array {
  if (typeof inside === 'number' && (!Number.isInteger(inside) || inside < 0 || inside > 255)) {
    throw new MeshError('invalid-input', `label ${inside} is not a byte value (0..255)`, { path: 'inside' });
  }
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) {
    if (inside === undefined) lut[v] = v !== 0 ? 1 : 0;
    else if (typeof inside === 'number') lut[v] = v === inside ? 1 : 0;
    else lut[v] = inside(v) ? 1 : 0;
  }
  return lut;
}

/**
 * Inside voxels as bits. Image row (j, k) is line `k * rows + j`; column i is bit `i + 1` of the
 * line (bit 0 and the bits past the last column stay 0: the conceptual padding). Each line has a
 * spare zero word at its end, and one extra all-zero line (`zeroLine`) stands in for rows
 * outside the volume.
 */
export interface MaskBits {
  readonly words: Uint32Array;
  readonly wordsPerLine: number;
  /** Index of the all-zero line. */
  readonly zeroLine: number;
  /** 1 where a line holds any inside voxel (length lines + 1). */
  readonly lineHasInside: Uint8Array;
  /** 1 where a slice holds any inside voxel. */
  readonly sliceHasInside: Uint8Array;
  /**
   * Grid edges (along columns, rows and slices, padding included) whose two voxels differ: exactly
   * the number of vertices the extractor will create, so it can size its arrays once.
   */
  readonly crossings: number;
}

/** Set bits of a 32-bit word. */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Number of bit positions where two lines differ. Most words of a line are empty: they skip the count. */
function lineDifferences(words: Uint32Array, a: number, b: number, wordsPerLine: number): number {
  let n = 0;
  for (let w = 0; w < wordsPerLine; w++) {
    const d = words[a + w] ^ words[b + w];
    if (d !== 0) n += popcount(d);
  }
  return n;
}

/** Number of adjacent bit pairs that differ within a line (a spare zero word ends every line). */
function lineTransitions(words: Uint32Array, a: number, wordsPerLine: number): number {
  let n = 0;
  for (let w = 0; w + 1 < wordsPerLine; w++) {
    const x = words[a + w];
    const d = x ^ ((x >>> 1) | (words[a + w + 1] << 31));
    if (d !== 0) n += popcount(d);
  }
  return n;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Packs the mask in one pass, then counts the crossed edges (each phase a function V8 optimises on its own). */
export function packMask(mask: Uint8Array, columns: number, rows: number, slices: number, lut: Uint8Array): MaskBits {
  const lines = rows * slices;
  const wordsPerLine = ((columns + 1) >> 5) + 2;
  const words = new Uint32Array((lines + 1) * wordsPerLine);
  const lineHasInside = new Uint8Array(lines + 1);
  const sliceHasInside = new Uint8Array(slices);
  packLines(mask, columns, rows, lines, lut, words, wordsPerLine, lineHasInside, sliceHasInside);
  const crossings = countCrossings(words, wordsPerLine, rows, slices, lineHasInside);
  return { words, wordsPerLine, zeroLine: lines, lineHasInside, sliceHasInside, crossings };
}

/** Sets the inside bits of every line; zero words of the mask are skipped four voxels at a time when value 0 is outside. */
function packLines(
  mask: Uint8Array,
  columns: number,
  rows: number,
  lines: number,
  lut: Uint8Array,
  words: Uint32Array,
  wordsPerLine: number,
  lineHasInside: Uint8Array,
  sliceHasInside: Uint8Array,
): void {
  const fast = LITTLE_ENDIAN && lut[0] === 0 && columns % 4 === 0 && mask.byteOffset % 4 === 0;
  const quads = fast ? new Uint32Array(mask.buffer, mask.byteOffset, mask.length >> 2) : null;
  const quadsPerLine = columns >> 2;
  for (let line = 0; line < lines; line++) {
    const out = line * wordsPerLine;
    let any = 0;
    if (quads !== null) {
      const q0 = line * quadsPerLine;
      let q = 0;
      while (q < quadsPerLine) {
        // Sixteen voxels per test: most of a mask is empty.
        if (q + 4 <= quadsPerLine && (quads[q0 + q] | quads[q0 + q + 1] | quads[q0 + q + 2] | quads[q0 + q + 3]) === 0) {
          q += 4;
          continue;
        }
        for (const qEnd = Math.min(q + 4, quadsPerLine); q < qEnd; q++) {
          const w = quads[q0 + q];
          if (w === 0) continue;
          const bits = lut[w & 255] | (lut[(w >>> 8) & 255] << 1) | (lut[(w >>> 16) & 255] << 2) | (lut[w >>> 24] << 3);
          if (bits === 0) continue;
          // Columns 4q..4q+3 are bits 4q+1..4q+4: they cross into the next word when they start at bit 29.
          const pos = (q << 2) + 1;
          words[out + (pos >> 5)] |= bits << (pos & 31);
          if ((pos & 31) > 28) words[out + (pos >> 5) + 1] |= bits >>> (32 - (pos & 31));
          any = 1;
        }
      }
    } else {
      const b0 = line * columns;
      for (let i = 0; i < columns; i++) {
        if (lut[mask[b0 + i]] === 1) {
          const pos = i + 1;
          words[out + (pos >> 5)] |= 1 << (pos & 31);
          any = 1;
        }
      }
    }
    if (any === 1) {
      lineHasInside[line] = 1;
      sliceHasInside[(line / rows) | 0] = 1;
    }
  }
}

/**
 * Crossed edges: along each line, between neighbouring rows and between neighbouring slices, the
 * padding included (the zero line stands for rows and slices outside the volume).
 */
function countCrossings(words: Uint32Array, wordsPerLine: number, rows: number, slices: number, lineHasInside: Uint8Array): number {
  const lines = rows * slices;
  let crossings = 0;
  const zero = lines * wordsPerLine;
  for (let line = 0; line < lines; line++) {
    const j = line % rows;
    const k = (line / rows) | 0;
    const here = lineHasInside[line] === 1;
    const at = line * wordsPerLine;
    if (here) crossings += lineTransitions(words, at, wordsPerLine);
    const below = j > 0 ? line - 1 : lines;
    if (here || lineHasInside[below] === 1) crossings += lineDifferences(words, at, below * wordsPerLine, wordsPerLine);
    if (j === rows - 1 && here) crossings += lineDifferences(words, at, zero, wordsPerLine);
    const before = k > 0 ? line - rows : lines;
    if (here || lineHasInside[before] === 1) crossings += lineDifferences(words, at, before * wordsPerLine, wordsPerLine);
    if (k === slices - 1 && here) crossings += lineDifferences(words, at, zero, wordsPerLine);
  }
  return crossings;
}
