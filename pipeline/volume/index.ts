/**
 * Volume assembly: choose a study's series, check its geometry, decode its pixels (uncompressed in
 * either byte order, RLE, JPEG Lossless, JPEG-LS, JPEG 2000) and give back one CT volume in HU.
 * Pure computation on bytes in memory; no I/O.
 */
export type { CtVolume, LabelMap, SliceSource, VolumeGeometry } from './types.js';
export type { VolumeError, VolumeErrorCode } from './errors.js';
export { VolumeAssemblyError } from './errors.js';
export { selectSeries, DEFAULT_SERIES_RULE, type SeriesRule, type SeriesSummary, type SeriesCandidate, type SelectedSeries, type SelectSeriesResult } from './select-series.js';
export { CT_IMAGE_SOP_CLASSES } from './series-images.js';
export { assembleVolume, assembleVolumeOrThrow, type AssembleOptions, type AssembleResult } from './assemble.js';
export { DEFAULT_TOLERANCES, sliceNormal, type GeometryTolerances } from './geometry.js';
export { Codecs, DECODABLE_TRANSFER_SYNTAXES, type DecodedFrame, type FrameDecoder, type FrameLayout } from './codecs/index.js';
