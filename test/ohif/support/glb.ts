/**
 * Small GLBs shaped like Limen's (one node per segment, identity in `extras`, colour as the
 * material's base colour), made with @gltf-transform/core.
 */
import { Document, NodeIO } from '@gltf-transform/core';

export interface TestSegment {
  number: number;
  label: string;
  /** sRGB 0–1. */
  color: [number, number, number];
  volumeMl: number;
  /** Centre of the box, metres. */
  center: [number, number, number];
  /** Half the box's edge, metres. */
  half: number;
}

export const TEST_SEGMENTS: TestSegment[] = [
  { number: 1, label: 'Liver', color: [0.87, 0.47, 0.35], volumeMl: 1523.4, center: [-0.04, 0, 0], half: 0.035 },
  { number: 2, label: 'Spleen', color: [0.62, 0.36, 0.78], volumeMl: 187.25, center: [0.05, 0.01, 0], half: 0.02 },
];

const srgbToLinear = (c: number) => (c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4));

/** An axis-aligned box: 8 corners, 12 triangles, counter-clockwise outside. */
function box(center: [number, number, number], h: number): { positions: Float32Array; indices: Uint32Array } {
  const [x, y, z] = center;
  const p: number[] = [];
  for (const dz of [-h, h]) for (const dy of [-h, h]) for (const dx of [-h, h]) p.push(x + dx, y + dy, z + dz);
  const quads = [
    [0, 2, 3, 1], [4, 5, 7, 6], [0, 1, 5, 4], [2, 6, 7, 3], [0, 4, 6, 2], [1, 3, 7, 5],
  ];
  const idx = quads.flatMap(([a, b, c, d]) => [a, b, c, a, c, d]);
  return { positions: new Float32Array(p), indices: new Uint32Array(idx) };
}

export async function makeTestGlb(segments: readonly TestSegment[] = TEST_SEGMENTS): Promise<Uint8Array> {
  const doc = new Document();
  const buffer = doc.createBuffer();
  const scene = doc.createScene('segments').setExtras({ modelId: 'test-model', modelVersion: '1.0.0' });
  doc.getRoot().setDefaultScene(scene);
  for (const s of segments) {
    const { positions, indices } = box(s.center, s.half);
    const material = doc
      .createMaterial(s.label)
      .setBaseColorFactor([srgbToLinear(s.color[0]), srgbToLinear(s.color[1]), srgbToLinear(s.color[2]), 1])
      .setMetallicFactor(0)
      .setRoughnessFactor(0.6);
    const prim = doc
      .createPrimitive()
      .setAttribute('POSITION', doc.createAccessor().setType('VEC3').setArray(positions).setBuffer(buffer))
      .setIndices(doc.createAccessor().setType('SCALAR').setArray(indices).setBuffer(buffer))
      .setMaterial(material);
    const node = doc
      .createNode(s.label)
      .setExtras({ segmentNumber: s.number, segmentLabel: s.label, displayColorSRGB: [...s.color], volumeMl: s.volumeMl })
      .setMesh(doc.createMesh(s.label).addPrimitive(prim));
    scene.addChild(node);
  }
  return new NodeIO().writeBinary(doc);
}

export const toArrayBuffer = (b: Uint8Array): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
