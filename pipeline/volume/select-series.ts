/**
 * Which series of a study to process. The default rule: the axial CT series with the most slices,
 * with at least a minimum count. Enhanced CT counts its frames. Localizers and non-image objects
 * (a Secondary Capture dose screen) riding in a series are left out of it. Instances that cannot be
 * read are skipped and reported, never fatal on their own. Selection only looks at headers, so it
 * also ranks the other series that qualify: when the first cannot be assembled (a tilted gantry,
 * a missing slice), the caller tries the next rather than failing a study that has a usable one.
 */
import { dicom } from '../../anonymizer/index.js';
import type { VolumeError } from './errors.js';
import { describeInstance, orientationOf, type ImageInstance } from './instance.js';
import { sliceNormal } from './geometry.js';
import { seriesImages, type SeriesImages } from './series-images.js';

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

/** A series that qualifies under the rule: its slices as the caller's own objects, in the order given. */
export interface SeriesCandidate<I> {
  seriesInstanceUID: string;
  instances: I[];
  slices: number;
  /** Localizers left out of the series. */
  localizers: number;
  /** Instances left out because their SOP Class is not a CT image (a Secondary Capture dose screen...). */
  notCtImages: number;
}

/** The chosen series (the first candidate), and the others that qualify. */
export interface SelectedSeries<I> extends SeriesCandidate<I> {
  /** Every axial series of the rule's modality with enough slices, most slices first; the chosen one first. */
  candidates: SeriesCandidate<I>[];
  /** Every series seen, the chosen one included. */
  considered: SeriesSummary[];
  /** Inputs that are not DICOM the reader understands, with the reason. */
  skipped: Array<{ index: number; reason: string }>;
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
  const images = new Map<string, SeriesImages>();
  for (const [uid, list] of bySeries) {
    const kept = seriesImages(list);
    images.set(uid, kept);
    const slices = kept.images;
    const orientation = slices.length ? orientationOf(slices[0]) : undefined;
    const axialDegrees = orientation ? (Math.acos(Math.min(1, Math.abs(sliceNormal(orientation)[2]))) * 180) / Math.PI : undefined;
    considered.push({
      seriesInstanceUID: uid,
      modality: (slices[0] ?? list[0]).modality,
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
  if (axial[0].slices < rule.minSlices) {
    const n = axial[0].slices;
    return {
      ok: false,
      error: { code: 'too-few-slices', message: `the largest axial ${modality} series has ${n} slice${n === 1 ? '' : 's'}; at least ${rule.minSlices} are needed${note}` },
    };
  }
  const candidates = axial
    .filter((s) => s.slices >= rule.minSlices)
    .map((s): SeriesCandidate<I> => {
      const kept = images.get(s.seriesInstanceUID)!;
      return {
        seriesInstanceUID: s.seriesInstanceUID,
        instances: kept.images.map((i) => instances[i.index]),
        slices: s.slices,
        localizers: kept.localizers,
        notCtImages: kept.notCtImages,
      };
    });
  return { ok: true, series: { ...candidates[0], candidates, considered, skipped } };
}
