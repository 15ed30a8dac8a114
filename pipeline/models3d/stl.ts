/**
 * Binary STL: millimetres, patient LPS coordinates, counter-clockwise facets seen from outside
 * with their unit normals (what slicers for 3D printing expect).
 */
import { MeshError, type TriangleMesh } from '../mesh/index.js';

const HEADER_BYTES = 80;
const FACET_BYTES = 50;

/** A default header; it must not start with "solid", which some readers take for ASCII STL. */
export const STL_HEADER = 'Limen binary STL; units mm; DICOM patient coordinates (LPS)';

/** One binary STL holding one mesh. */
export function encodeStl(mesh: TriangleMesh, header: string = STL_HEADER): Uint8Array {
  return encodeStlCombined([mesh], header);
}

/** One binary STL holding several meshes (e.g. every segment of a study in one file). */
export function encodeStlCombined(meshes: readonly TriangleMesh[], header: string = STL_HEADER): Uint8Array {
  const facets = meshes.reduce((n, m) => n + m.indices.length / 3, 0);
  const out = new Uint8Array(HEADER_BYTES + 4 + facets * FACET_BYTES);
  const view = new DataView(out.buffer);
  const text = new TextEncoder().encode(header.replace(/^\s*solid/i, 'STL'));
  out.set(text.subarray(0, HEADER_BYTES), 0);
  view.setUint32(HEADER_BYTES, facets, true);
  let o = HEADER_BYTES + 4;
  for (const mesh of meshes) {
    const p = mesh.positions;
    const idx = mesh.indices;
    for (let t = 0; t < idx.length; t += 3) {
      const a = idx[t] * 3;
      const b = idx[t + 1] * 3;
      const c = idx[t + 2] * 3;
      const ux = p[b] - p[a], uy = p[b + 1] - p[a + 1], uz = p[b + 2] - p[a + 2];
      const vx = p[c] - p[a], vy = p[c + 1] - p[a + 1], vz = p[c + 2] - p[a + 2];
      let nx = uy * vz - uz * vy;
      let ny = uz * vx - ux * vz;
      let nz = ux * vy - uy * vx;
      const l = Math.hypot(nx, ny, nz);
      if (l > 0) {
        nx /= l;
        ny /= l;
        nz /= l;
      }
      view.setFloat32(o, nx, true);
      view.setFloat32(o + 4, ny, true);
      view.setFloat32(o + 8, nz, true);
      view.setFloat32(o + 12, p[a], true);
      view.setFloat32(o + 16, p[a + 1], true);
      view.setFloat32(o + 20, p[a + 2], true);
      view.setFloat32(o + 24, p[b], true);
      view.setFloat32(o + 28, p[b + 1], true);
      view.setFloat32(o + 32, p[b + 2], true);
      view.setFloat32(o + 36, p[c], true);
      view.setFloat32(o + 40, p[c + 1], true);
      view.setFloat32(o + 44, p[c + 2], true);
      view.setUint16(o + 48, 0, true);
      o += FACET_BYTES;
    }
  }
  return out;
}

/** Reads a binary STL back (for tests and tools): facet normals and the triangle soup. */
export function decodeStl(bytes: Uint8Array): { header: string; normals: Float32Array; vertices: Float32Array } {
  if (bytes.byteLength < HEADER_BYTES + 4) throw new MeshError('invalid-input', 'binary STL shorter than its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const facets = view.getUint32(HEADER_BYTES, true);
  if (bytes.byteLength !== HEADER_BYTES + 4 + facets * FACET_BYTES) throw new MeshError('invalid-input', `binary STL length ${bytes.byteLength} does not match ${facets} facets`);
  const normals = new Float32Array(facets * 3);
  const vertices = new Float32Array(facets * 9);
  for (let f = 0, o = HEADER_BYTES + 4; f < facets; f++, o += FACET_BYTES) {
    for (let k = 0; k < 3; k++) normals[f * 3 + k] = view.getFloat32(o + k * 4, true);
    for (let k = 0; k < 9; k++) vertices[f * 9 + k] = view.getFloat32(o + 12 + k * 4, true);
  }
  const header = new TextDecoder().decode(bytes.subarray(0, HEADER_BYTES)).replace(/\0+$/, '');
  return { header, normals, vertices };
}

/** A file name for a segment's STL: its number and a portable form of its label. */
export function stlFileName(segmentNumber: number, label: string): string {
  const slug = label.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase() || 'segment';
  return `${String(segmentNumber).padStart(2, '0')}-${slug}.stl`;
}
