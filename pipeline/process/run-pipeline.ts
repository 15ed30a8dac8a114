/**
 * One study's way from CT instances to results: assemble the volume, segment it (ONNX in a worker
 * thread), write the DICOM SEG, mesh every segment, write GLB and STL. No storage and no files:
 * the job handler and `limen segment` put the outputs where they belong.
 */
import { dicom } from '../../anonymizer/index.js';
import { meshSegment } from '../mesh/index.js';
import { readManifest } from '../models/registry.js';
import type { ModelManifest } from '../models/manifest.js';
import { encodeGlb, encodeStl, encodeStlCombined, stlFileName, type ModelSegment } from '../models3d/index.js';
import { awaitingReviewDescription, writeSegmentation, type SegmentDescription } from '../seg/index.js';
import { TAG } from '../seg/tags.js';
import { segmentInWorker } from '../segment/segment-in-worker.js';
import { DEFAULT_SERIES_RULE, selectSeries, type SeriesRule } from '../volume/index.js';
import type { CtVolume } from '../volume/types.js';
import { assembleFirstUsable, type RefusedSeries } from './assemble-first.js';
import { PipelineError } from './errors.js';
import { IMPLEMENTATION_VERSION_NAME } from '../../anonymizer/deidentify.js';

export type PipelineStage = 'assemble' | 'segment' | 'seg' | 'mesh' | 'files';

export interface PipelineInput {
  /** De-identified instances of the study (any series; the rule picks one). */
  instances: ReadonlyArray<{ bytes: Uint8Array }>;
  /** The model's directory (`<models-dir>/<id>`). */
  modelDir: string;
  seriesRule?: Partial<SeriesRule>;
  /** New UIDs for the SEG (series, instance, dimension organisation). */
  newUID: () => string;
  /** Decimation target per segment, as a ratio of the extracted triangles (default 0.1). */
  decimationRatio?: number;
  onProgress?: (stage: PipelineStage, percent: number) => void;
  /** Aborting stops the run: segmentation before its next patch. */
  signal?: AbortSignal;
}

export interface PipelineSegmentReport {
  number: number;
  label: string;
  /** Voxel count × voxel volume. */
  volumeMl: number;
  /** Enclosed volume of the final mesh. */
  meshVolumeMl: number;
  triangles: number;
  color: [number, number, number];
  /** Triangles out of surface extraction, and milliseconds per meshing step. */
  meshing: { extractedTriangles: number; extractMs: number; smoothMs: number; decimateMs: number };
}

/** Milliseconds within the `segment` stage (the rest is starting the worker and moving data). */
export interface SegmentStageTimings {
  /** Loading and checking the model. */
  load: number;
  /** Inference, resampling to the model's grid included. */
  infer: number;
  /** Labels back to the CT grid. */
  labelsToCt: number;
  postprocess: number;
}

export interface PipelineReport {
  model: { id: string; name: string; version: string; sha256: string; cardUrl: string };
  series: {
    seriesInstanceUID: string;
    slices: number;
    dims: [number, number, number];
    spacing: [number, number, number];
    /** Instances of the series left out of the volume: localizers, and objects that are not CT images (a dose screen). */
    leftOut: { localizers: number; notCtImages: number };
  };
  /** Larger series tried first and refused at assembly, with the reason; empty when the first one assembled. */
  refusedSeries: RefusedSeries[];
  segments: PipelineSegmentReport[];
  /** Milliseconds per stage, and in all. */
  timings: Record<PipelineStage | 'total', number>;
  /**
   * CPU milliseconds per stage, every thread of the process (the segmentation worker included):
   * on a busy machine wall time also counts the wait for a core, CPU time does not.
   */
  cpuTimings: Record<PipelineStage | 'total', number>;
  segmentStages: SegmentStageTimings;
  peakRssMb: number;
  seg: { seriesInstanceUID: string; sopInstanceUID: string; frames: number; segmentationType: 'BINARY' | 'FRACTIONAL' };
}

export interface PipelineOutput {
  seg: Uint8Array;
  glb: Uint8Array;
  /** One binary STL per segment, millimetres, patient coordinates. */
  stls: Array<{ name: string; label: string; bytes: Uint8Array }>;
  /** Every segment in one binary STL. */
  combinedStl: Uint8Array;
  report: PipelineReport;
  /** The de-identified source the SEG was made from, for callers that store it beside the CT. */
  volume: Pick<CtVolume, 'studyInstanceUID' | 'seriesInstanceUID'>;
}

// CID 7150's current code for it, as the shipped manifest has it (older SEGs carry 91723000).
const SCT_ANATOMICAL_STRUCTURE = { value: '123037004', scheme: 'SCT', meaning: 'Anatomical Structure' };

export async function runPipeline(input: PipelineInput): Promise<PipelineOutput> {
  const started = performance.now();
  const startedCpu = process.cpuUsage();
  const timings = { assemble: 0, segment: 0, seg: 0, mesh: 0, files: 0, total: 0 };
  const cpuTimings = { ...timings };
  let t = performance.now();
  let c = process.cpuUsage();
  const begin = () => {
    t = performance.now();
    c = process.cpuUsage();
  };
  const end = (stage: PipelineStage) => {
    timings[stage] = performance.now() - t;
    cpuTimings[stage] = cpuMs(process.cpuUsage(c));
  };
  let peakRss = process.memoryUsage().rss;
  const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
  const progress = (stage: PipelineStage, percent: number) => {
    sampleRss();
    input.onProgress?.(stage, percent);
  };
  const manifest = await readManifest(input.modelDir).catch((e: Error) => {
    throw new PipelineError('model-unavailable', `the model in ${input.modelDir} cannot be used: ${e.message}`);
  });

  // 1. Assemble.
  begin();
  progress('assemble', 0);
  const selected = selectSeries([...input.instances], { ...DEFAULT_SERIES_RULE, ...input.seriesRule });
  if (!selected.ok) throw new PipelineError(selected.error.code, selected.error.message);
  const { candidate: chosen, volume, refused } = await assembleFirstUsable(selected.series.candidates, { onSlice: (n, total) => progress('assemble', Math.round((100 * n) / total)) });
  end('assemble');

  // 2. Segment, off the event loop.
  begin();
  input.signal?.throwIfAborted();
  const result = await segmentInWorker(volume, input.modelDir, (percent) => progress('segment', percent), input.signal ? { signal: input.signal } : {});
  end('segment');
  const present = result.segments.filter((s) => s.voxels > 0);
  if (present.length === 0) throw new PipelineError('empty-segmentation', 'the model found none of its structures in this CT');

  // 3. DICOM SEG on the CT's grid, referencing the de-identified source.
  begin();
  progress('seg', 0);
  const labels = new Map(manifest.labels.map((l) => [l.id, l]));
  // A segment that contains others (the body, its bones) covers their voxels in the SEG too, as its surface does.
  const presentIds = new Set(present.map((s) => s.id));
  const descriptions: SegmentDescription[] = present.map((s) => ({ ...describe(labels.get(s.id)!), contains: containedLabels(manifest, s.id).filter((id) => presentIds.has(id)) }));
  const source = chosen.instances[0] as { bytes: Uint8Array };
  const patientStudy = dicom.readPart10(source.bytes).dataset;
  // The SEG's frames are the CT's slices: its slices' nominal thickness, not their spacing.
  const sliceThickness = Number(dicom.stringOf(dicom.find(patientStudy, TAG.SliceThickness))?.trim() || NaN);
  const written = writeSegmentation({
    labelMap: result.labelMap,
    source: volume,
    patientStudy,
    ...(sliceThickness > 0 ? { sliceThickness } : {}),
    segments: descriptions,
    algorithm: {
      name: manifest.algorithm.name,
      version: manifest.algorithm.version,
      family: { value: manifest.algorithm.family.code, scheme: manifest.algorithm.family.scheme, meaning: manifest.algorithm.family.meaning },
      source: manifest.algorithm.source,
    },
    equipment: { manufacturer: 'Limen', modelName: manifest.name.slice(0, 64), deviceSerialNumber: manifest.onnx.sha256.slice(0, 16), softwareVersions: [IMPLEMENTATION_VERSION_NAME, manifest.algorithm.version] },
    contentCreatorName: '',
    contentLabel: 'LIMEN_AI',
    contentDescription: `AI segmentation by ${manifest.name}`.slice(0, 64),
    seriesNumber: 9901,
    seriesDescription: awaitingReviewDescription(`AI segmentation (${manifest.id} ${manifest.algorithm.version})`),
    newUID: input.newUID,
  });
  end('seg');

  // 4. Mesh each segment at native resolution; a segment's surface includes the labels it contains.
  begin();
  const models: ModelSegment[] = [];
  const reports: PipelineSegmentReport[] = [];
  for (const [i, s] of present.entries()) {
    const label = labels.get(s.id)!;
    const inside = new Set([s.id, ...containedLabels(manifest, s.id)]);
    const meshed = await meshSegment(result.labelMap.labels, volume, (v) => inside.has(v), { decimation: { targetRatio: input.decimationRatio ?? 0.1 } });
    const rgb = label.color.rgb ?? [200, 200, 200];
    const writtenSegment = written.segments.find((w) => w.labelId === s.id)!;
    models.push({
      segmentNumber: writtenSegment.segmentNumber,
      label: label.name,
      color: [rgb[0] / 255, rgb[1] / 255, rgb[2] / 255],
      category: concept(label.category),
      type: concept(label.type),
      anatomicRegion: label.anatomicRegion ? concept(label.anatomicRegion) : undefined,
      mesh: meshed.mesh,
      normals: meshed.normals,
      volumeMl: meshed.volumeMl,
    });
    const m = meshed.timings;
    reports.push({
      number: writtenSegment.segmentNumber,
      label: label.name,
      // The segment as the SEG holds it, contained labels included.
      volumeMl: (writtenSegment.voxels * volume.spacing[0] * volume.spacing[1] * volume.spacing[2]) / 1000,
      meshVolumeMl: meshed.volumeMl,
      triangles: meshed.mesh.indices.length / 3,
      color: rgb as [number, number, number],
      meshing: { extractedTriangles: meshed.extractedTriangles, extractMs: Math.round(m.extractMs), smoothMs: Math.round(m.smoothMs), decimateMs: Math.round(m.decimateMs) },
    });
    progress('mesh', Math.round((100 * (i + 1)) / present.length));
  }
  end('mesh');

  // 5. Files.
  begin();
  const glb = await encodeGlb(models, { modelId: manifest.id, modelVersion: manifest.algorithm.version, studyInstanceUID: volume.studyInstanceUID });
  const stls = models.map((m) => ({ name: stlFileName(m.segmentNumber, m.label), label: m.label, bytes: encodeStl(m.mesh, `Limen ${m.label} (mm, patient LPS)`) }));
  const combinedStl = encodeStlCombined(models.map((m) => m.mesh), 'Limen segmentation (mm, patient LPS)');
  end('files');
  progress('files', 100);
  timings.total = performance.now() - started;
  cpuTimings.total = cpuMs(process.cpuUsage(startedCpu));

  return {
    seg: written.bytes,
    glb,
    stls,
    combinedStl,
    volume,
    report: {
      model: { id: manifest.id, name: manifest.name, version: manifest.algorithm.version, sha256: manifest.onnx.sha256, cardUrl: `/api/v1/models/${manifest.id}/card` },
      series: {
        seriesInstanceUID: volume.seriesInstanceUID,
        slices: volume.dims[2],
        dims: volume.dims,
        spacing: volume.spacing,
        leftOut: { localizers: chosen.localizers, notCtImages: chosen.notCtImages },
      },
      refusedSeries: refused,
      segments: reports,
      timings: roundAll(timings),
      cpuTimings: roundAll(cpuTimings),
      segmentStages: {
        load: Math.round(result.timings.loadMs),
        infer: Math.round(result.timings.inferMs),
        labelsToCt: Math.round(result.timings.resampleMs),
        postprocess: Math.round(result.timings.postprocessMs),
      },
      peakRssMb: Math.round(sampleRss() / 2 ** 20),
      seg: { seriesInstanceUID: written.seriesInstanceUID, sopInstanceUID: written.sopInstanceUID, frames: written.numberOfFrames, segmentationType: written.segmentationType },
    },
  };
}

type Label = ModelManifest['labels'][number];

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

function roundAll(timings: Record<PipelineStage | 'total', number>): Record<PipelineStage | 'total', number> {
  return Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])) as Record<PipelineStage | 'total', number>;
}

function describe(label: Label): SegmentDescription {
  return {
    labelId: label.id,
    label: label.name,
    description: label.description?.slice(0, 1024),
    category: label.category ? { value: label.category.code, scheme: label.category.scheme, meaning: label.category.meaning } : SCT_ANATOMICAL_STRUCTURE,
    type: { value: label.type.code, scheme: label.type.scheme, meaning: label.type.meaning },
    anatomicRegion: label.anatomicRegion ? { value: label.anatomicRegion.code, scheme: label.anatomicRegion.scheme, meaning: label.anatomicRegion.meaning } : undefined,
    rgb: label.color.rgb as [number, number, number] | undefined,
    cieLab: label.color.cielab as [number, number, number] | undefined,
  };
}

/** The labels a label's surface encloses (transitively), e.g. the body contains the bones. */
function containedLabels(manifest: ModelManifest, id: number, seen = new Set<number>()): number[] {
  const label = manifest.labels.find((l) => l.id === id);
  for (const c of label?.contains ?? []) {
    if (seen.has(c)) continue;
    seen.add(c);
    containedLabels(manifest, c, seen);
  }
  return [...seen];
}

function concept(c: { code: string; scheme: string; meaning: string }) {
  return { codeValue: c.code, codingSchemeDesignator: c.scheme, codeMeaning: c.meaning };
}
