/** Two small segments meshed from one label mask, for the file-writer tests. */
import { meshSegment, type TriangleMesh } from '../../../pipeline/mesh/index.js';
import type { ModelSegment } from '../../../pipeline/models3d/index.js';
import { axialGeometry, maskFrom } from '../mesh/masks.js';

const code = (codeValue: string, codeMeaning: string) => ({ codeValue, codingSchemeDesignator: 'SCT', codeMeaning });

/** Bone (a hollow cylinder) and skin-like blob, plus an empty segment. Patient LPS far from the origin. */
export async function sampleSegments(): Promise<ModelSegment[]> {
  const dims: [number, number, number] = [32, 30, 20];
  const mask = maskFrom(dims, (i, j, k) => {
    const r = Math.hypot(i - 15.5, j - 14.5);
    if (r >= 5 && r <= 9 && k > 2 && k < 17) return 1;
    if (Math.hypot(i - 15.5, j - 14.5, k - 9.5) <= 3.5) return 2;
    return 0;
  });
  const geometry = axialGeometry(dims, [0.9, 0.9, 1.5], [-120.4, 80.2, -655]);
  const bone = await meshSegment(mask, geometry, 1, { decimation: { targetRatio: 0.25 } });
  const marrow = await meshSegment(mask, geometry, 2, { decimation: { targetRatio: 0.5 } });
  const empty: TriangleMesh = { positions: new Float32Array(0), indices: new Uint32Array(0) };
  return [
    { segmentNumber: 1, label: 'Bone', color: [0.89, 0.85, 0.79], category: code('91723000', 'Anatomical Structure'), type: code('272673000', 'Bone'), mesh: bone.mesh, normals: bone.normals, volumeMl: bone.volumeMl },
    { segmentNumber: 2, label: 'Bone marrow', color: [0.8, 0.2, 0.2], category: code('91723000', 'Anatomical Structure'), type: code('14016003', 'Bone marrow'), anatomicRegion: code('71341001', 'Femur'), mesh: marrow.mesh, volumeMl: marrow.volumeMl },
    { segmentNumber: 3, label: 'Nothing found', color: [0, 1, 0], category: code('91723000', 'Anatomical Structure'), type: code('39607008', 'Lung'), mesh: empty, volumeMl: 0 },
  ];
}

/** Signed volume of an indexed mesh whose positions are given separately (any units). */
export function signedVolume(positions: ArrayLike<number>, indices: ArrayLike<number>): number {
  let six = 0;
  for (let t = 0; t < indices.length; t += 3) {
    const [a, b, c] = [indices[t] * 3, indices[t + 1] * 3, indices[t + 2] * 3];
    six +=
      positions[a] * (positions[b + 1] * positions[c + 2] - positions[b + 2] * positions[c + 1]) -
      positions[a + 1] * (positions[b] * positions[c + 2] - positions[b + 2] * positions[c]) +
      positions[a + 2] * (positions[b] * positions[c + 1] - positions[b + 1] * positions[c]);
  }
  return six / 6;
}
