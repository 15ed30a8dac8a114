/**
 * EXT_meshopt_compression as a pass over a finished GLB: each interleaved vertex buffer view is
 * encoded in ATTRIBUTES mode and each 32-bit triangle index view in TRIANGLES mode (meshopt codec
 * version 0, the one that extension specifies). The uncompressed layout survives as a data-less
 * fallback buffer, as the extension prescribes; the extension is marked required.
 */
import { MeshoptEncoder } from 'meshoptimizer';
import { MeshError } from '../mesh/index.js';

const GLB_MAGIC = 0x46546c67;
const CHUNK_JSON = 0x4e4f534a;
const CHUNK_BIN = 0x004e4942;
const ARRAY_BUFFER = 34962;
const ELEMENT_ARRAY_BUFFER = 34963;
const UNSIGNED_INT = 5125;
const TRIANGLES = 4;
const EXTENSION = 'EXT_meshopt_compression';

interface BufferViewDef {
  buffer: number;
  byteOffset?: number;
  byteLength: number;
  byteStride?: number;
  target?: number;
  extensions?: Record<string, unknown>;
}

interface GltfJson {
  buffers?: { byteLength: number; uri?: string; extensions?: Record<string, unknown> }[];
  bufferViews?: BufferViewDef[];
  accessors?: { bufferView?: number; componentType: number }[];
  meshes?: { primitives: { indices?: number; mode?: number }[] }[];
  extensionsUsed?: string[];
  extensionsRequired?: string[];
}

/** Splits a GLB into its JSON and binary chunks. */
export function parseGlb(glb: Uint8Array): { json: GltfJson; bin: Uint8Array | null } {
  const view = new DataView(glb.buffer, glb.byteOffset, glb.byteLength);
  if (glb.byteLength < 20 || view.getUint32(0, true) !== GLB_MAGIC || view.getUint32(4, true) !== 2) {
    throw new MeshError('invalid-input', 'not a glTF 2.0 binary (GLB)');
  }
  let offset = 12;
  let json: GltfJson | null = null;
  let bin: Uint8Array | null = null;
  while (offset + 8 <= glb.byteLength) {
    const length = view.getUint32(offset, true);
    const type = view.getUint32(offset + 4, true);
    const data = glb.subarray(offset + 8, offset + 8 + length);
    if (type === CHUNK_JSON) json = JSON.parse(new TextDecoder().decode(data)) as GltfJson;
    else if (type === CHUNK_BIN) bin = data;
    offset += 8 + length;
  }
  if (json === null) throw new MeshError('invalid-input', 'GLB has no JSON chunk');
  return { json, bin };
}

/** Assembles a GLB from a JSON object and an optional binary chunk. */
export function buildGlb(json: object, bin: Uint8Array | null): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(json));
  const jsonLength = align4(text.length);
  const binLength = bin === null ? 0 : align4(bin.length);
  const total = 12 + 8 + jsonLength + (bin === null ? 0 : 8 + binLength);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, GLB_MAGIC, true);
  view.setUint32(4, 2, true);
  view.setUint32(8, total, true);
  view.setUint32(12, jsonLength, true);
  view.setUint32(16, CHUNK_JSON, true);
  out.set(text, 20);
  out.fill(0x20, 20 + text.length, 20 + jsonLength);
  if (bin !== null) {
    const at = 20 + jsonLength;
    view.setUint32(at, binLength, true);
    view.setUint32(at + 4, CHUNK_BIN, true);
    out.set(bin, at + 8);
  }
  return out;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** Re-encodes a single-buffer GLB with EXT_meshopt_compression. */
export async function compressGlbWithMeshopt(glb: Uint8Array): Promise<Uint8Array> {
  await MeshoptEncoder.ready;
  const { json, bin } = parseGlb(glb);
  const views = json.bufferViews ?? [];
  if (bin === null || views.length === 0) return glb;
  if ((json.buffers ?? []).length !== 1) throw new MeshError('invalid-input', 'meshopt compression expects a GLB with one buffer');

  // Index views qualify only if every accessor in them is 32-bit and used as triangle indices.
  const triangleIndexViews = new Set<number>();
  const otherUse = new Set<number>();
  const accessors = json.accessors ?? [];
  for (const mesh of json.meshes ?? []) {
    for (const primitive of mesh.primitives) {
      if (primitive.indices === undefined) continue;
      const accessor = accessors[primitive.indices];
      if (accessor.bufferView === undefined) continue;
      if ((primitive.mode ?? TRIANGLES) === TRIANGLES && accessor.componentType === UNSIGNED_INT) triangleIndexViews.add(accessor.bufferView);
      else otherUse.add(accessor.bufferView);
    }
  }

  const parts: Uint8Array[] = [];
  let length = 0;
  const place = (data: Uint8Array): number => {
    const at = length;
    parts.push(data);
    length += data.length;
    const pad = align4(length) - length;
    if (pad > 0) {
      parts.push(new Uint8Array(pad));
      length += pad;
    }
    return at;
  };
  const newViews: BufferViewDef[] = views.map((view, i) => {
    const start = view.byteOffset ?? 0;
    const data = bin.subarray(start, start + view.byteLength);
    let mode: 'ATTRIBUTES' | 'TRIANGLES' | null = null;
    let size = 0;
    if (view.byteStride !== undefined && (view.target === undefined || view.target === ARRAY_BUFFER) && view.byteStride % 4 === 0 && view.byteStride <= 256) {
      mode = 'ATTRIBUTES';
      size = view.byteStride;
    } else if (view.target === ELEMENT_ARRAY_BUFFER && triangleIndexViews.has(i) && !otherUse.has(i) && (view.byteLength / 4) % 3 === 0) {
      mode = 'TRIANGLES';
      size = 4;
    }
    if (mode === null || view.byteLength % size !== 0) return { ...view, buffer: 0, byteOffset: place(data) };
    const count = view.byteLength / size;
    const encoded = MeshoptEncoder.encodeGltfBuffer(data, count, size, mode);
    return {
      ...view,
      buffer: 1,
      extensions: { ...(view.extensions ?? {}), [EXTENSION]: { buffer: 0, byteOffset: place(encoded), byteLength: encoded.length, byteStride: size, count, mode } },
    };
  });
  const packed = new Uint8Array(length);
  let o = 0;
  for (const p of parts) {
    packed.set(p, o);
    o += p.length;
  }
  const out: GltfJson = {
    ...json,
    buffers: [{ byteLength: packed.length }, { byteLength: bin.length, extensions: { [EXTENSION]: { fallback: true } } }],
    bufferViews: newViews,
    extensionsUsed: [...new Set([...(json.extensionsUsed ?? []), EXTENSION])],
    extensionsRequired: [...new Set([...(json.extensionsRequired ?? []), EXTENSION])],
  };
  return buildGlb(out, packed);
}
