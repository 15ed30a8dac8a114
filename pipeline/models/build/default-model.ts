/**
 * Builds Limen's default model, "bone and body surface", as an ONNX graph plus its manifest. It
 * is not a trained network: a fixed computation of Gaussian smoothing, calibrated HU thresholds
 * (steep sigmoids) and a morphological closing, written as ONNX operators so it runs through the
 * same registry, sliding window and post-processing as any trained model.
 *
 *   input  ct: [1, 1, z, y, x], (HU + 1024) / 1000 on a 1.5 mm grid
 *   Pad (edge) → separable Gaussian convolutions, two channels (body σ, bone σ), minus thresholds
 *   → × gain → Sigmoid: p_body, p_bone
 *   p_bone → MaxPool (dilation) → −MaxPool(−·) (erosion): closing, which bridges the marrow
 *   output probabilities: [1, 3, z, y, x] = background (1−p_bone)(1−p_body), body (1−p_bone)·p_body, bone p_bone
 *
 * Run `node --import tsx pipeline/models/build/default-model.ts` (npm run build:model) to write
 * models/default/model.onnx and manifest.json. Output is byte-identical from run to run.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { ModelManifest } from '../manifest.js';
import { GraphBuilder, attr } from './graph-builder.js';
import { encodeOnnxModel } from './onnx.js';

/** The numbers that define the default model; thresholds were calibrated on ct-fakephi (see MODEL_CARD.md). */
export interface DefaultModelParameters {
  /** Isotropic grid spacing in mm. */
  spacingMm: number;
  /** Gaussian smoothing (standard deviation, mm) before the body threshold. */
  bodySigmaMm: number;
  /** Body: smoothed HU above this. */
  bodyThresholdHu: number;
  /** Gaussian smoothing (mm) before the bone threshold. */
  boneSigmaMm: number;
  /** Bone: smoothed HU above this. */
  boneThresholdHu: number;
  /** Closing radius for bone, in voxels (a (2r+1)³ box). */
  boneClosingVoxels: number;
  /** Width of the sigmoid's transition in HU: p = σ((HU − threshold) / width). */
  transitionHu: number;
  /** Patch edge in voxels. */
  patchVoxels: number;
  /** Minimum bone component kept by post-processing, mL. */
  minBoneComponentMl: number;
  version: string;
}

export const DEFAULT_MODEL_PARAMETERS: DefaultModelParameters = {
  spacingMm: 1.5,
  bodySigmaMm: 1.5,
  bodyThresholdHu: -500,
  boneSigmaMm: 0.75,
  boneThresholdHu: 110,
  boneClosingVoxels: 2,
  transitionHu: 10,
  patchVoxels: 128,
  minBoneComponentMl: 0.5,
  version: '1.0.0',
};

const WINDOW = { min: -1024, max: 3071, scale: 0.001 } as const;
const INPUT = 'ct';
const OUTPUT = 'probabilities';

/** Normalised Gaussian taps of standard deviation `sigma` voxels over [−radius, radius]. */
export function gaussianTaps(sigma: number, radius: number): number[] {
  const taps = Array.from({ length: 2 * radius + 1 }, (_, k) => Math.exp(-((k - radius) ** 2) / (2 * sigma * sigma)));
  const sum = taps.reduce((a, b) => a + b, 0);
  return taps.map((t) => t / sum);
}

/** Receptive-field radius of the graph in voxels: smoothing plus closing (dilation and erosion). */
export function receptiveRadius(p: DefaultModelParameters): number {
  return smoothingRadius(p) + 2 * p.boneClosingVoxels;
}

function smoothingRadius(p: DefaultModelParameters): number {
  return Math.max(1, Math.ceil(3 * (Math.max(p.bodySigmaMm, p.boneSigmaMm) / p.spacingMm)));
}

/** The ONNX bytes of the default model. */
export function buildDefaultOnnx(p: DefaultModelParameters = DEFAULT_MODEL_PARAMETERS): Uint8Array {
  const g = new GraphBuilder();
  const r = smoothingRadius(p);
  const taps = [gaussianTaps(p.bodySigmaMm / p.spacingMm, r), gaussianTaps(p.boneSigmaMm / p.spacingMm, r)];
  const n = 2 * r + 1;
  const norm = (hu: number): number => (hu - WINDOW.min) * WINDOW.scale;
  const x = g.input(INPUT);
  // Edge padding: at the volume's border the CT continues as its last voxel, not as air.
  const padded = g.op('Pad', [x, g.int64s('pads', [0, 0, r, r, r, 0, 0, r, r, r])], { mode: attr.string('edge') });
  const kz = g.floats('gauss_z', [2, 1, n, 1, 1], [...taps[0], ...taps[1]]);
  const ky = g.floats('gauss_y', [2, 1, 1, n, 1], [...taps[0], ...taps[1]]);
  const kx = g.floats('gauss_x', [2, 1, 1, 1, n], [...taps[0], ...taps[1]]);
  const thresholds = g.floats('minus_thresholds', [2], [-norm(p.bodyThresholdHu), -norm(p.boneThresholdHu)]);
  const sz = g.op('Conv', [padded, kz], { kernel_shape: attr.ints([n, 1, 1]) });
  const sy = g.op('Conv', [sz, ky], { group: attr.int(2), kernel_shape: attr.ints([1, n, 1]) });
  const sx = g.op('Conv', [sy, kx, thresholds], { group: attr.int(2), kernel_shape: attr.ints([1, 1, n]) });
  const gain = g.floats('gain', [1], [1 / (p.transitionHu * WINDOW.scale)]);
  const probs = g.op('Sigmoid', [g.op('Mul', [sx, gain])]);
  const [pBody, pBoneRaw] = g.opMulti('Split', [probs], 2, { axis: attr.int(1) });
  // A (2c+1)³ box maximum is three 1D maxima in a row: dilation, then erosion as −max(−·).
  const c = p.boneClosingVoxels;
  const k = 2 * c + 1;
  const boxMax = (t: string): string =>
    [
      [k, 1, 1, c, 0, 0],
      [1, k, 1, 0, c, 0],
      [1, 1, k, 0, 0, c],
    ].reduce(
      (input, [kernelZ, kernelY, kernelX, padZ, padY, padX]) =>
        g.op('MaxPool', [input], {
          kernel_shape: attr.ints([kernelZ, kernelY, kernelX]),
          pads: attr.ints([padZ, padY, padX, padZ, padY, padX]),
          strides: attr.ints([1, 1, 1]),
        }),
      t,
    );
  const dilated = boxMax(pBoneRaw);
  const pBone = g.op('Neg', [boxMax(g.op('Neg', [dilated]))]);
  const one = g.floats('one', [1], [1]);
  const notBone = g.op('Sub', [one, pBone]);
  const body = g.op('Mul', [notBone, pBody]);
  const background = g.op('Mul', [notBone, g.op('Sub', [one, pBody])]);
  g.op('Concat', [background, body, pBone], { axis: attr.int(1) }, OUTPUT);
  const spatial = ['z', 'y', 'x'];
  return encodeOnnxModel({
    irVersion: 8,
    opsetVersion: 17,
    producerName: 'limen',
    producerVersion: p.version,
    modelVersion: 1,
    docString: 'Limen default model: bone and body surface from calibrated HU thresholds after Gaussian smoothing. Not a trained network.',
    graph: g.graph(
      'limen_bone_body',
      [{ name: INPUT, dataType: 'float', shape: [1, 1, ...spatial], docString: `(clamp(HU, ${WINDOW.min}, ${WINDOW.max}) + 1024) × ${WINDOW.scale}` }],
      [{ name: OUTPUT, dataType: 'float', shape: [1, 3, ...spatial], docString: 'background, body, bone probabilities' }],
    ),
    metadata: {
      'limen.model': 'default',
      'limen.version': p.version,
      'limen.parameters': JSON.stringify(p),
    },
  });
}

/** The manifest for the given ONNX bytes. */
export function defaultManifest(onnx: Uint8Array, p: DefaultModelParameters = DEFAULT_MODEL_PARAMETERS): ModelManifest {
  const patch = p.patchVoxels;
  return {
    schemaVersion: 1,
    id: 'default',
    name: 'Limen bone and body surface (HU threshold network)',
    description:
      'Bone and the body (whose surface is the skin) for 3D printing and visualisation. A fixed ONNX computation: Gaussian smoothing, calibrated HU thresholds and a morphological closing, not a trained network. Not for diagnosis.',
    algorithm: {
      name: 'Limen HU threshold network',
      version: p.version,
      family: { code: '123104', scheme: 'DCM', meaning: 'Morphological Operations' },
      source: 'Limen',
    },
    onnx: { sha256: createHash('sha256').update(onnx).digest('hex') },
    input: {
      name: INPUT,
      rank: 5,
      axes: 'zyx',
      spacing: [p.spacingMm, p.spacingMm, p.spacingMm],
      patchSize: [patch, patch, patch],
      overlap: overlapFor(patch, receptiveRadius(p) + 1),
      patchMargin: receptiveRadius(p) + 1,
      normalization: { kind: 'window', ...WINDOW },
    },
    output: { name: OUTPUT, rank: 5, kind: 'softmax', threshold: 0.5 },
    labels: [
      {
        id: 1,
        name: 'Body',
        description: 'Everything inside the skin surface: tissue above the body threshold, with the lungs, airways and bowel gas it encloses.',
        category: { code: '123037004', scheme: 'SCT', meaning: 'Anatomical Structure' },
        type: { code: '38266002', scheme: 'SCT', meaning: 'Entire body' },
        color: { rgb: [226, 185, 160] },
        contains: [2],
        postprocess: { largestComponent: true, minComponentVolumeMl: 0, fillHoles: true, fillHolesPerSlice: true },
      },
      {
        id: 2,
        name: 'Bone',
        description: 'Bone including its marrow cavity, above the bone threshold after smoothing and closing.',
        category: { code: '85756007', scheme: 'SCT', meaning: 'Tissue' },
        type: { code: '272673000', scheme: 'SCT', meaning: 'Bone' },
        color: { rgb: [241, 214, 145] },
        contains: [],
        postprocess: { largestComponent: false, minComponentVolumeMl: p.minBoneComponentMl, fillHoles: true, fillHolesPerSlice: false },
      },
    ],
  };
}

/** The smallest overlap (in 1/64ths) whose step fits inside the patch less both margins. */
function overlapFor(patch: number, margin: number): number {
  for (let n = 0; n < 58; n++) {
    const overlap = n / 64;
    if (Math.max(1, Math.floor(patch * (1 - overlap))) <= patch - 2 * margin) return overlap;
  }
  throw new RangeError(`a ${patch}-voxel patch cannot carry a ${margin}-voxel margin`);
}

/** Writes model.onnx and manifest.json into `dir`; returns the manifest. */
export async function writeDefaultModel(dir: string, p: DefaultModelParameters = DEFAULT_MODEL_PARAMETERS): Promise<ModelManifest> {
  const onnx = buildDefaultOnnx(p);
  const manifest = defaultManifest(onnx, p);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.onnx'), onnx);
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** models/default in the source tree (for the build script, tests and benchmarks, which run from sources). */
export const SHIPPED_DEFAULT_DIR = fileURLToPath(new URL('../../../models/default/', import.meta.url));

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const manifest = await writeDefaultModel(SHIPPED_DEFAULT_DIR);
  process.stdout.write(`wrote ${SHIPPED_DEFAULT_DIR} (model.onnx sha256 ${manifest.onnx.sha256})\n`);
}
