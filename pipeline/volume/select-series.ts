/**
 * Which series of a study to process. The default rule: the axial CT series with the most slices,
 * with at least a minimum count. Enhanced CT counts its frames. Localizers riding in a series are
 * left out of it. Instances that cannot be read are skipped and reported, never fatal on their own.
 */
import { dicom } from '../../anonymizer/index.js';
import type { VolumeError } from './errors.js';
import { describeInstance, isLocalizer, orientationOf, type ImageInstance } from './instance.js';
import { sliceNormal } from './geometry.js';

/** A route's choice of series. */
export interface SeriesRule {
  /** Modality the series must have (0008,0060). */
  modality: string;
  /** Fewest slices (or Enhanced CT frames) accepted. */
  minSlices: number;
  /** Largest angle between the slice normal and patient Z for a series to count as axial, in degrees. */
  maxAxialDegrees?: number;
}

export const DEFAULT_SERIES_RULE: SeriesRule = { modality: 'CT', minSlices: 20, maxAxialDegrees: 10 };

/** What selection saw of one series, for reports and messages. */
export interface SeriesSummary {
  seriesInstanceUID: string;
  modality: string;
  /** Slices, counting Enhanced CT frames and leaving out localizers. */
  slices: number;
  /** Angle of the slice normal from patient Z in degrees; undefined when the orientation is unknown. */
  axialDegrees?: number;
}

/** The chosen series: the caller's own objects, in the order given. */
export interface SelectedSeries<I> {
  seriesInstanceUID: string;
  instances: I[];
  slices: number;
  /** Every series seen, the chosen one included. */
  considered: SeriesSummary[];
  /** Inputs that are not DICOM the reader understands, with the reason. */
  skipped: Array<{ index: number; reason: string }>;
  /** Localizers left out of the chosen series. */
  localizers: number;
}

export type SelectSeriesResult<I> = { ok: true; series: SelectedSeries<I> } | { ok: false; error: VolumeError };

/** Chooses the series to assemble from all instances of a study. */
export function selectSeries<I extends { bytes: Uint8Array }>(instances: I[], rule: SeriesRule = DEFAULT_SERIES_RULE): SelectSeriesResult<I> {
  const maxAxial = rule.maxAxialDegrees ?? DEFAULT_SERIES_RULE.maxAxialDegrees!;
  const skipped: Array<{ index: number; reason: string }> = [];
  const bySeries = new Map<string, ImageInstance[]>();
  instances.forEach((input, index) => {
    let described: ImageInstance;
    try {
      described = describeInstance(index, dicom.readPart10(input.bytes));
    } catch (e) {
      skipped.push({ index, reason: e instanceof dicom.DicomParseError ? `${e.code}: ${e.message}` : String(e) });
      return;
    }
    const list = bySeries.get(described.seriesInstanceUID);
    if (list) list.push(described);
    else bySeries.set(described.seriesInstanceUID, [described]);
  });
  const note = skipped.length ? ` (${skipped.length} instance${skipped.length > 1 ? 's' : ''} could not be read: ${skipped[0].reason})` : '';
  if (bySeries.size === 0) return { ok: false, error: { code: 'no-instances', message: `no readable DICOM instance among ${instances.length}${note}` } };

  const considered: SeriesSummary[] = [];
  const images = new Map<string, ImageInstance[]>();
  for (const [uid, list] of bySeries) {
    const slices = list.filter((i) => !isLocalizer(i));
    images.set(uid, slices);
    const orientation = slices.length ? orientationOf(slices[0]) : undefined;
    const axialDegrees = orientation ? (Math.acos(Math.min(1, Math.abs(sliceNormal(orientation)[2]))) * 180) / Math.PI : undefined;
    considered.push({
      seriesInstanceUID: uid,
      modality: list[0].modality,
      slices: slices.reduce((n, i) => n + i.numberOfFrames, 0),
      ...(axialDegrees === undefined ? {} : { axialDegrees }),
    });
  }
  considered.sort((a, b) => b.slices - a.slices || (a.seriesInstanceUID < b.seriesInstanceUID ? -1 : 1));

  const modality = rule.modality.toUpperCase();
  const ofModality = considered.filter((s) => s.modality === modality);
  if (ofModality.length === 0) {
    const found = [...new Set(considered.map((s) => s.modality || 'no modality'))].join(', ');
    return { ok: false, error: { code: 'not-ct', message: `no ${modality} series in the study: found ${found}${note}`, attribute: 'Modality' } };
  }
  const axial = ofModality.filter((s) => s.axialDegrees !== undefined && s.axialDegrees <= maxAxial);
  if (axial.length === 0) {
    const best = ofModality[0];
    const how = best.axialDegrees === undefined ? 'has no ImageOrientationPatient' : `is ${best.axialDegrees.toFixed(1)}° from axial`;
    return {
      ok: false,
      error: { code: 'not-axial', message: `no axial ${modality} series: the largest (${best.slices} slices) ${how}; at most ${maxAxial}° is accepted${note}`, attribute: 'ImageOrientationPatient' },
    };
  }
  const chosen = axial[0];
  if (chosen.slices < rule.minSlices) {
    return {
      ok: false,
      error: { code: 'too-few-slices', message: `the largest axial ${modality} series has ${chosen.slices} slice${chosen.slices === 1 ? '' : 's'}; at least ${rule.minSlices} are needed${note}` },
    };
  }
  const chosenImages = images.get(chosen.seriesInstanceUID)!;
  return {
    ok: true,
    series: {
      seriesInstanceUID: chosen.seriesInstanceUID,
      instances: chosenImages.map((i) => instances[i.index]),
      slices: chosen.slices,
      considered,
      skipped,
      localizers: bySeries.get(chosen.seriesInstanceUID)!.length - chosenImages.length,
    },
  };
}
