/**
 * The model manifest (`<models-dir>/<id>/manifest.json`): what the pipeline must know to feed a
 * segmentation network and to describe its output, with nothing read from the graph itself. The
 * loader checks it against the ONNX graph (see graph-check.ts).
 *
 * Axis conventions: every [x, y, z] triple (spacing, patch size) is in the model grid's axes. The
 * model grid is the CT's grid resampled to `input.spacing`; with `input.orientation` set, its axes
 * are first permuted and flipped to point in the named patient directions. `input.axes` says in
 * which order those three axes appear in the tensor's spatial dimensions.
 */
import { z } from 'zod';

/** The manifest format this code reads. */
export const MANIFEST_SCHEMA_VERSION = 1;
/** A label map is a Uint8Array: label ids stop at 255. */
export const MAX_LABELS = 255;

/** A coded concept: CodeValue, CodingSchemeDesignator, CodeMeaning (PS3.3 Table 8.8-1). */
export const codeSchema = z.strictObject({
  code: z.string().min(1).max(64),
  scheme: z.string().min(1).max(16),
  meaning: z.string().min(1).max(64),
});
export type Code = z.output<typeof codeSchema>;

const positive = z.number().finite().positive();
const triple = z.tuple([positive, positive, positive]);
const patchTriple = z.tuple([z.number().int().min(1), z.number().int().min(1), z.number().int().min(1)]);

/**
 * How HU become the network's input. `window`: clamp HU to [min, max], subtract min, times scale
 * (so scale = 1/(max−min) maps the window onto 0..1). `zscore`: optionally clip HU to `clip`,
 * then (HU − mean) / std, as nnU-Net normalises CT.
 */
export const normalizationSchema = z.discriminatedUnion('kind', [
  z
    .strictObject({ kind: z.literal('window'), min: z.number().finite(), max: z.number().finite(), scale: positive })
    .refine((w) => w.min < w.max, { message: 'min must be below max', path: ['max'] }),
  z
    .strictObject({
      kind: z.literal('zscore'),
      mean: z.number().finite(),
      std: positive,
      clip: z.tuple([z.number().finite(), z.number().finite()]).optional(),
    })
    .refine((n) => n.clip === undefined || n.clip[0] < n.clip[1], { message: 'clip must be [low, high] with low < high', path: ['clip'] }),
]);
export type Normalization = z.output<typeof normalizationSchema>;

/** A patient-direction code for the model grid's x, y, z axes, e.g. "LPS" (DICOM) or "RAS" (NIfTI canonical). */
export const orientationSchema = z
  .string()
  .regex(/^[LRAPSI]{3}$/, 'three letters from L, R, A, P, S, I, e.g. "LPS" or "RAS"')
  .refine((o) => new Set([...o].map((c) => ({ L: 'x', R: 'x', A: 'y', P: 'y', S: 'z', I: 'z' })[c])).size === 3, {
    message: 'each patient axis (L/R, A/P, S/I) must appear exactly once',
  });

export const inputSchema = z.strictObject({
  /** The graph input's name. */
  name: z.string().min(1),
  /** 5: [batch, channel, ...spatial]; 4: [batch, ...spatial]. Batch and channel are 1. */
  rank: z.union([z.literal(4), z.literal(5)]),
  /** Order of the model grid's axes in the tensor's spatial dimensions; "zyx" is C-order of an x-fastest grid. */
  axes: z.enum(['zyx', 'zxy', 'yzx', 'yxz', 'xzy', 'xyz']).default('zyx'),
  /** Patient directions of the model grid's axes; absent: the CT's own column, row and slice directions. */
  orientation: orientationSchema.optional(),
  /** Voxel spacing the model expects in mm, [x, y, z]; null runs on the CT's own grid. */
  spacing: triple.nullable(),
  /** Sliding-window patch in voxels, [x, y, z]; null runs the whole volume at once. */
  patchSize: patchTriple.nullable(),
  /** Fraction of a patch that neighbouring patches share (nnU-Net uses 0.5). */
  overlap: z.number().min(0).max(0.9).default(0.5),
  /**
   * Voxels at each patch face whose output is not used, except where the face lies on the
   * volume's border. At least the graph's receptive-field radius makes the sliding window
   * equal to one whole-volume run; 0 is nnU-Net's behaviour (the Gaussian only down-weights edges).
   */
  patchMargin: z.number().int().min(0).default(0),
  normalization: normalizationSchema,
});
export type ModelInput = z.output<typeof inputSchema>;

export const outputSchema = z.strictObject({
  /** The graph output's name. */
  name: z.string().min(1),
  /** 5: [batch, channel, ...spatial]; 4: [batch, ...spatial], `labels` only. */
  rank: z.union([z.literal(4), z.literal(5)]),
  /**
   * softmax: 1 + labels channels of exclusive class scores, channel 0 background, channel k label k;
   * argmax decides (probabilities or logits alike). sigmoid: one channel per label (channel k−1 is
   * label k), a label where its score exceeds `threshold`, the highest such score winning.
   * labels: one channel of label ids.
   */
  kind: z.enum(['softmax', 'sigmoid', 'labels']),
  /** sigmoid only: 0.5 for probabilities, 0 if the graph ends in logits. */
  threshold: z.number().finite().default(0.5),
});
export type ModelOutput = z.output<typeof outputSchema>;

export const postprocessSchema = z.strictObject({
  /** Keep only the largest 6-connected component. */
  largestComponent: z.boolean().default(false),
  /** Drop 6-connected components smaller than this many millilitres. */
  minComponentVolumeMl: z.number().min(0).default(0),
  /** Fill cavities that no 6-connected path links to the volume's border. */
  fillHoles: z.boolean().default(false),
  /** Then also fill, in each slice plane, what the slice's border cannot reach (lungs cut by the scan's end). */
  fillHolesPerSlice: z.boolean().default(false),
});
export type LabelPostprocess = z.output<typeof postprocessSchema>;

const rgb = z.tuple([z.number().int().min(0).max(255), z.number().int().min(0).max(255), z.number().int().min(0).max(255)]);
const dicomLab = z.tuple([
  z.number().int().min(0).max(65535),
  z.number().int().min(0).max(65535),
  z.number().int().min(0).max(65535),
]);

export const labelSchema = z.strictObject({
  /** The label map value, 1..255; ids run 1..n in manifest order. */
  id: z.number().int().min(1).max(MAX_LABELS),
  /** SegmentLabel. */
  name: z.string().min(1).max(64),
  description: z.string().max(1024).optional(),
  /** SegmentedPropertyCategoryCodeSequence (SNOMED CT), e.g. (85756007, SCT, Tissue). */
  category: codeSchema,
  /** SegmentedPropertyTypeCodeSequence (SNOMED CT), e.g. (272673000, SCT, Bone). */
  type: codeSchema,
  typeModifier: codeSchema.optional(),
  anatomicRegion: codeSchema.optional(),
  /** Display colour: sRGB 0..255 and/or RecommendedDisplayCIELabValue as DICOM scales it (0..65535). */
  color: z
    .strictObject({ rgb: rgb.optional(), cielab: dicomLab.optional() })
    .refine((c) => c.rgb !== undefined || c.cielab !== undefined, { message: 'give rgb, cielab or both' }),
  /**
   * Labels that lie inside this segment's solid (bone inside the body). The label map holds one
   * label per voxel, so this segment's full extent is itself plus these; post-processing and
   * surfaces treat it so.
   */
  contains: z.array(z.number().int().min(1).max(MAX_LABELS)).default([]),
  postprocess: postprocessSchema.prefault({}),
});
export type ModelLabel = z.output<typeof labelSchema>;

export const manifestSchema = z
  .strictObject({
    schemaVersion: z.literal(MANIFEST_SCHEMA_VERSION),
    /** Equals the model's directory name. */
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, ".", "_" and "-", starting with a letter or digit'),
    /** Human name, e.g. "Limen bone and body surface (HU threshold network)". */
    name: z.string().min(1).max(128),
    description: z.string().max(4096).optional(),
    /** Algorithm Identification (PS3.3 Table 10-19), written into the SEG. */
    algorithm: z.strictObject({
      name: z.string().min(1).max(64),
      version: z.string().min(1).max(64),
      /** AlgorithmFamilyCodeSequence (CID 7162), e.g. (123110, DCM, Artificial Intelligence). */
      family: codeSchema,
      source: z.string().max(64).optional(),
    }),
    onnx: z.strictObject({
      /** Lower-case hex SHA-256 of model.onnx. */
      sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits'),
    }),
    input: inputSchema,
    output: outputSchema,
    labels: z.array(labelSchema).min(1).max(MAX_LABELS),
  })
  .superRefine((m, ctx) => {
    m.labels.forEach((label, i) => {
      if (label.id !== i + 1) {
        ctx.addIssue({ code: 'custom', path: ['labels', i, 'id'], message: `label ids run 1..n in order: expected ${i + 1}, got ${label.id}` });
      }
      for (const [j, c] of label.contains.entries()) {
        if (c === label.id || c > m.labels.length) {
          ctx.addIssue({ code: 'custom', path: ['labels', i, 'contains', j], message: `${c} is not another label's id` });
        }
      }
    });
    if (hasContainmentCycle(m.labels)) {
      ctx.addIssue({ code: 'custom', path: ['labels'], message: '"contains" must not form a cycle' });
    }
    const { patchSize, overlap, patchMargin } = m.input;
    if (patchSize !== null) {
      for (const p of patchSize) {
        // Each voxel must lie in some patch's used interior: the step may not exceed it.
        const step = Math.max(1, Math.floor(p * (1 - overlap)));
        if (p - 2 * patchMargin < step) {
          ctx.addIssue({
            code: 'custom',
            path: ['input', 'patchMargin'],
            message: `a margin of ${patchMargin} leaves ${p - 2 * patchMargin} used voxels of a ${p}-voxel patch, less than the step of ${step}: raise overlap or lower the margin`,
          });
        }
      }
    } else if (patchMargin !== 0) {
      ctx.addIssue({ code: 'custom', path: ['input', 'patchMargin'], message: 'a margin needs a patch size' });
    }
    if (m.output.rank === 4 && m.output.kind !== 'labels') {
      ctx.addIssue({ code: 'custom', path: ['output', 'rank'], message: `${m.output.kind} output needs a channel axis (rank 5)` });
    }
  });
export type ModelManifest = z.output<typeof manifestSchema>;

function hasContainmentCycle(labels: readonly { id: number; contains: number[] }[]): boolean {
  const state = new Map<number, 'open' | 'done'>();
  const byId = new Map(labels.map((l) => [l.id, l.contains]));
  const visit = (id: number): boolean => {
    const s = state.get(id);
    if (s === 'open') return true;
    if (s === 'done') return false;
    state.set(id, 'open');
    for (const c of byId.get(id) ?? []) if (visit(c)) return true;
    state.set(id, 'done');
    return false;
  };
  return labels.some((l) => visit(l.id));
}

/** Number of output channels the manifest implies. */
export function expectedChannels(m: Pick<ModelManifest, 'output' | 'labels'>): number {
  switch (m.output.kind) {
    case 'softmax':
      return m.labels.length + 1;
    case 'sigmoid':
      return m.labels.length;
    case 'labels':
      return 1;
  }
}

/** One problem in a manifest, at a dotted path (`labels[1].color`). */
export interface ManifestIssue {
  path: string;
  message: string;
}

/** Result form of `parseManifest`. */
export type ManifestResult = { ok: true; manifest: ModelManifest } | { ok: false; issues: ManifestIssue[] };

/** Validates parsed JSON as a manifest, collecting every problem. */
export function safeParseManifest(json: unknown): ManifestResult {
  const r = manifestSchema.safeParse(json);
  if (r.success) return { ok: true, manifest: r.data };
  return {
    ok: false,
    issues: r.error.issues.map((issue) => ({
      path: issue.path
        .filter((k): k is string | number => typeof k !== 'symbol')
        .reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc === '' ? k : `${acc}.${k}`), ''),
      message: issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message,
    })),
  };
}
