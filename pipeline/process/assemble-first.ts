/**
 * The volume of a study: the first of selection's ranked series that assembles. Selection ranks on
 * headers alone; only assembly sees a tilted gantry, a missing slice or pixel data it cannot
 * decode. A study whose largest series is refused for such a reason, but which holds another usable
 * axial series (a thinner reconstruction, a second acquisition), is processed with that one; each
 * series refused on the way is kept with its reason for the run's report.
 */
import { assembleVolume, type AssembleOptions, type SeriesCandidate } from '../volume/index.js';
import type { CtVolume } from '../volume/types.js';
import { PipelineError } from './errors.js';

/** A series that was tried and could not be assembled, as report.json records it. */
export interface RefusedSeries {
  /** Pseudonymous, as everything in the core zone. */
  seriesInstanceUID: string;
  slices: number;
  /** The volume error code (`gantry-tilt`, `inconsistent-geometry`, ...). */
  code: string;
  reason: string;
}

export interface FirstUsable<I> {
  candidate: SeriesCandidate<I>;
  volume: CtVolume;
  /** The candidates tried before it, in order, with why each was refused. */
  refused: RefusedSeries[];
}

/**
 * Assembles the candidates in order and returns the first that assembles. When none does, throws a
 * PipelineError naming each series, its slice count and its reason: with the one candidate's own code
 * when there was only one, `no-usable-series` when several were tried.
 */
export async function assembleFirstUsable<I extends { bytes: Uint8Array }>(candidates: ReadonlyArray<SeriesCandidate<I>>, options: AssembleOptions = {}): Promise<FirstUsable<I>> {
  const refused: RefusedSeries[] = [];
  for (const candidate of candidates) {
    const assembled = await assembleVolume(candidate.instances, options);
    if (assembled.ok) return { candidate, volume: assembled.volume, refused };
    refused.push({ seriesInstanceUID: candidate.seriesInstanceUID, slices: candidate.slices, code: assembled.error.code, reason: assembled.error.message });
  }
  throw noUsableSeries(refused);
}

function noUsableSeries(refused: RefusedSeries[]): PipelineError {
  const each = refused.map((r) => `series ${r.seriesInstanceUID} (${r.slices} slice${r.slices === 1 ? '' : 's'}): ${r.reason} [${r.code}]`);
  if (refused.length === 1) return new PipelineError(refused[0].code, `series ${refused[0].seriesInstanceUID} (${refused[0].slices} slices) cannot be assembled: ${refused[0].reason}`, { refusedSeries: refused });
  return new PipelineError('no-usable-series', `none of the ${refused.length} axial CT series could be assembled: ${each.join('; ')}`, { refusedSeries: refused });
}
