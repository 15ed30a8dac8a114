/**
 * The bone mask of the benchmark CT series (`bench/ct-series.ts`, 300 × 512 × 512) as the pipeline
 * produces it: the series assembled and segmented by the shipped default model, in memory. Only
 * the mask and the grid leave this module; the series' identifying header values do not.
 */
import { readFileSync } from 'node:fs';
import type { VolumeGeometry } from '../../pipeline/mesh/index.js';
import { SHIPPED_DEFAULT_DIR } from '../../pipeline/models/build/default-model.js';
import { segmentInWorker } from '../../pipeline/segment/index.js';
import { DEFAULT_SERIES_RULE, assembleVolumeOrThrow, selectSeries } from '../../pipeline/volume/index.js';
import { generateCtSeries } from '../ct-series.js';

/** A binary mask (1 = bone) and its grid. */
export interface BoneMask {
  mask: Uint8Array;
  geometry: VolumeGeometry;
  /** The series directory it came from. */
  seriesDir: string;
}

/** Generates (or reuses) the series, segments it and returns the voxels labelled bone. */
export async function ctSeriesBoneMask(): Promise<BoneMask> {
  const series = generateCtSeries();
  const instances = series.files.map((f) => ({ bytes: new Uint8Array(readFileSync(f)) }));
  const selected = selectSeries(instances, DEFAULT_SERIES_RULE);
  if (!selected.ok) throw new Error(`bench series not usable: ${selected.error.message}`);
  const volume = await assembleVolumeOrThrow(selected.series.instances);
  const result = await segmentInWorker(volume, SHIPPED_DEFAULT_DIR);
  const bone = result.segments.find((s) => s.name === 'Bone');
  if (!bone) throw new Error('the default model has no Bone segment');
  const labels = result.labelMap.labels;
  const mask = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) mask[i] = labels[i] === bone.id ? 1 : 0;
  return {
    mask,
    seriesDir: series.dir,
    geometry: volume,
  };
}
