/**
 * Surface extraction at native resolution: marching cubes over a binary mask with the derived case
 * table of `cube-cases.ts`, which makes the surface closed, manifold and outward-oriented.
 *
 * The grid is padded by one empty voxel on every side (conceptually: nothing is copied), so a
 * segment touching the volume border is closed there too. Vertices sit at the midpoint of each
 * grid edge whose two voxels differ (the 0.5 iso-surface of a binary mask) and are welded through
 * per-edge index planes. The mask is first packed to bits; cubes are then found 32 at a time with
 * word operations, so only cubes the surface crosses are visited and a sparse mask costs little
 * more than one read of its bytes.
 */
import { CUBE_CASES, EDGE_AXIS, EDGE_START } from './cube-cases.js';
import { MeshError } from './errors.js';
import { voxelToPatient, type VolumeGeometry, type VoxelToPatient } from './geometry.js';
import { packMask, selectorTable, type MaskBits } from './mask-bits.js';
import type { MaskSelector, TriangleMesh } from './types.js';

/**
 * The closed surface of the voxels of `mask` selected by `inside`, in patient LPS millimetres.
 * `mask` holds one byte per voxel, column fastest, then row, then slice (`geometry.dims`).
 * Returns an empty mesh when no voxel is inside.
 */
export function extractSurface(mask: Uint8Array, geometry: VolumeGeometry, inside?: MaskSelector): TriangleMesh {
  const map = voxelToPatient(geometry);
  const [nx, ny, nz] = geometry.dims;
  if (mask.length !== nx * ny * nz) {
    throw new MeshError('invalid-input', `mask has ${mask.length} voxels, dims ${nx}×${ny}×${nz} need ${nx * ny * nz}`, { path: 'mask' });
  }
  const lut = selectorTable(inside);
  const bits = packMask(mask, nx, ny, nz, lut);
  const builder = new SurfaceBuilder(bits, map, nx, ny);
  for (let z = -1; z < nz; z++) builder.slab(z, nz);
  const { vertexCount, indexCount, indices, positions } = builder;
  if (vertexCount !== bits.crossings) throw new Error(`surface extraction: ${vertexCount} vertices for ${bits.crossings} crossed edges`);
  // The first estimate leaves a few thousand spare entries: a view then saves copying the whole
  // index array (14 MB on the bone benchmark); after growth the spare part is copied away.
  const spare = indices.length - indexCount;
  return { positions, indices: spare <= 4096 ? indices.subarray(0, indexCount) : indices.slice(0, indexCount) };
}

/**
 * The extraction state, advanced one slab of cubes (between slices z and z + 1) per call. A slab
 * per call lets V8 optimise the cube loop as a function after the first slabs, instead of
 * compiling the whole extraction on the fly while it runs.
 */
class SurfaceBuilder {
  // Vertex index caches, in one array: the x- and y-edges of two grid planes (by parity of the
  // plane; two entries per grid point), then the z-edges of the current slab (one per grid point).
  // Entries hold vertex index + 1 and are never cleared; an entry is valid only if it was created
  // recently enough (see `edgeValid`), and vertex indices only grow. The 0 of a fresh array is
  // never valid, so the cache needs no fill: pages no surface reaches are never touched.
  private readonly cache: Int32Array;
  private readonly planeSize: number;
  private readonly zEdgesBase: number;
  // Per cube edge: which cache (0 lower plane, 1 upper plane, 2 z-edges), the entries per grid
  // point in it, the offset from the cube's entry, and the fractional grid offset of the edge
  // midpoint. Per slab, `edgeBase` and `edgeValid` resolve the cache to its place and threshold.
  private readonly edgeCache = new Int32Array(12);
  private readonly edgeScale = new Int32Array(12);
  private readonly edgeOffset = new Int32Array(12);
  private readonly edgeBase = new Int32Array(12);
  private readonly edgeValid = new Int32Array(12);
  private readonly fx = new Float64Array(12);
  private readonly fy = new Float64Array(12);
  private readonly fz = new Float64Array(12);
  private readonly cubeVertex = new Int32Array(12);
  /** Vertex count when the previous slab began. */
  private prevSlabStart = 0;
  readonly positions: Float32Array;
  indices: Uint32Array;
  vertexCount = 0;
  indexCount = 0;

  constructor(
    private readonly bits: MaskBits,
    private readonly map: VoxelToPatient,
    private readonly nx: number,
    private readonly ny: number,
  ) {
    const W = nx + 2;
    this.planeSize = W * (ny + 2);
    this.cache = new Int32Array(this.planeSize * 5);
    this.zEdgesBase = this.planeSize * 4;
    for (let e = 0; e < 12; e++) {
      const [dx, dy, dz] = EDGE_START[e];
      const axis = EDGE_AXIS[e];
      if (axis === 2) {
        this.edgeCache[e] = 2;
        this.edgeScale[e] = 1;
        this.edgeOffset[e] = dy * W + dx;
      } else {
        this.edgeCache[e] = dz;
        this.edgeScale[e] = 2;
        this.edgeOffset[e] = (dy * W + dx) * 2 + axis;
      }
      this.fx[e] = dx + (axis === 0 ? 0.5 : 0);
      this.fy[e] = dy + (axis === 1 ? 0.5 : 0);
      this.fz[e] = dz + (axis === 2 ? 0.5 : 0);
    }
    // Exactly one vertex per crossed edge. A closed mesh has T = 2V − 2χ triangles (χ = 2 per
    // sphere-like component, less with handles): 2V plus some slack rarely has to grow.
    this.positions = new Float32Array(bits.crossings * 3);
    this.indices = new Uint32Array(6 * bits.crossings + 3072);
  }

  /** Emits the triangles of the cubes between slices z and z + 1 (z = −1 and z = slices − 1 are the padding). */
  slab(z: number, nz: number): void {
    const { nx, ny, cache, planeSize, edgeCache, edgeScale, edgeOffset, edgeBase, edgeValid, fx, fy, fz, cubeVertex, positions } = this;
    const { words, wordsPerLine: wpl, zeroLine, lineHasInside, sliceHasInside } = this.bits;
    const slabStart = this.vertexCount;
    const lowerValid = this.prevSlabStart;
    const upperValid = slabStart;
    this.prevSlabStart = slabStart;
    const hasLower = z >= 0 && sliceHasInside[z] === 1;
    const hasUpper = z + 1 < nz && sliceHasInside[z + 1] === 1;
    if (!hasLower && !hasUpper) return;
    const lowerBase = ((z + 1) & 1) * planeSize * 2;
    const upperBase = ((z + 2) & 1) * planeSize * 2;
    for (let e = 0; e < 12; e++) {
      const kind = edgeCache[e];
      edgeBase[e] = (kind === 0 ? lowerBase : kind === 1 ? upperBase : this.zEdgesBase) + edgeOffset[e];
      edgeValid[e] = kind === 0 ? lowerValid : upperValid;
    }
    const [ox, oy, oz] = this.map.origin;
    const [cx, cy, cz] = this.map.column;
    const [rx, ry, rz] = this.map.row;
    const [sx, sy, sz] = this.map.slice;
    const flip = this.map.determinant < 0;
    const caseEdgeOffset = CUBE_CASES.edgeOffset;
    const caseEdges = CUBE_CASES.edges;
    const caseTriOffset = CUBE_CASES.triOffset;
    const caseSlots = CUBE_CASES.slots;
    const W = nx + 2;
    const lastChunk = nx >> 5; // chunks of 32 cubes; cube x covers bits x+1 and x+2
    let vertexCount = this.vertexCount;
    let indexCount = this.indexCount;
    let indices = this.indices;

    for (let y = -1; y < ny; y++) {
      // The four voxel rows at the cube corners: (y, z), (y+1, z), (y, z+1), (y+1, z+1).
      const l0 = hasLower && y >= 0 ? z * ny + y : zeroLine;
      const l1 = hasLower && y + 1 < ny ? z * ny + y + 1 : zeroLine;
      const l2 = hasUpper && y >= 0 ? (z + 1) * ny + y : zeroLine;
      const l3 = hasUpper && y + 1 < ny ? (z + 1) * ny + y + 1 : zeroLine;
      if ((lineHasInside[l0] | lineHasInside[l1] | lineHasInside[l2] | lineHasInside[l3]) === 0) continue;
      const w0 = l0 * wpl;
      const w1 = l1 * wpl;
      const w2 = l2 * wpl;
      const w3 = l3 * wpl;
      const rowBase = (y + 1) * W;
      for (let j = 0; j <= lastChunk; j++) {
        // a: bit i is column 32j+i-1 (the cube's lower corners); h: bit i is the next column.
        const a0 = words[w0 + j];
        const a1 = words[w1 + j];
        const a2 = words[w2 + j];
        const a3 = words[w3 + j];
        const n0 = words[w0 + j + 1];
        const n1 = words[w1 + j + 1];
        const n2 = words[w2 + j + 1];
        const n3 = words[w3 + j + 1];
        if (((a0 | a1 | a2 | a3) | ((n0 | n1 | n2 | n3) & 1)) === 0) continue;
        const h0 = (a0 >>> 1) | (n0 << 31);
        const h1 = (a1 >>> 1) | (n1 << 31);
        const h2 = (a2 >>> 1) | (n2 << 31);
        const h3 = (a3 >>> 1) | (n3 << 31);
        // A cube is trivial when its eight corners agree.
        let pending = (a0 | h0 | a1 | h1 | a2 | h2 | a3 | h3) & ~(a0 & h0 & a1 & h1 & a2 & h2 & a3 & h3);
        while (pending !== 0) {
          const low = pending & -pending;
          pending ^= low;
          const i = 31 - Math.clz32(low);
          const c =
            ((a0 >>> i) & 1) |
            (((h0 >>> i) & 1) << 1) |
            (((a1 >>> i) & 1) << 2) |
            (((h1 >>> i) & 1) << 3) |
            (((a2 >>> i) & 1) << 4) |
            (((h2 >>> i) & 1) << 5) |
            (((a3 >>> i) & 1) << 6) |
            (((h3 >>> i) & 1) << 7);
          const x = (j << 5) + i - 1;
          const cb = rowBase + x + 1;
          for (let k = caseEdgeOffset[c], kEnd = caseEdgeOffset[c + 1]; k < kEnd; k++) {
            const e = caseEdges[k];
            const slot = edgeBase[e] + cb * edgeScale[e];
            let v = cache[slot] - 1;
            if (v < edgeValid[e]) {
              v = vertexCount++;
              const gx = x + fx[e];
              const gy = y + fy[e];
              const gz = z + fz[e];
              positions[v * 3] = ox + gx * cx + gy * rx + gz * sx;
              positions[v * 3 + 1] = oy + gx * cy + gy * ry + gz * sy;
              positions[v * 3 + 2] = oz + gx * cz + gy * rz + gz * sz;
              cache[slot] = v + 1;
            }
            cubeVertex[e] = v;
          }
          const t0 = caseTriOffset[c];
          const t1 = caseTriOffset[c + 1];
          if (indexCount + (t1 - t0) > indices.length) indices = grow(indices);
          if (flip) {
            for (let t = t0; t < t1; t += 3) {
              indices[indexCount++] = cubeVertex[caseSlots[t]];
              indices[indexCount++] = cubeVertex[caseSlots[t + 2]];
              indices[indexCount++] = cubeVertex[caseSlots[t + 1]];
            }
          } else {
            for (let t = t0; t < t1; t++) indices[indexCount++] = cubeVertex[caseSlots[t]];
          }
        }
      }
    }
    this.vertexCount = vertexCount;
    this.indexCount = indexCount;
    this.indices = indices;
  }
}

function grow(indices: Uint32Array): Uint32Array {
  const grown = new Uint32Array(Math.ceil(indices.length * 1.25) + 3072);
  grown.set(indices);
  return grown;
}
