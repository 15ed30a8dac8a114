/**
 * The DICOM Segmentation writer and reader: a label map on the CT grid to a SEG (BINARY, or
 * FRACTIONAL 0/255 when 1-bit frames would not be whole bytes) that references the de-identified
 * source, the way back to masks, and the UID remapping the exporter uses to re-identify it. Pure
 * computation, no I/O.
 */
export { SegError, isSegError, type SegErrorCode } from './errors.js';
export type {
  AlgorithmIdentification, CodedConcept, Equipment, PatientStudyValues, SegmentDescription, SegmentationInput,
  SegmentationSource, WrittenSegment, WrittenSegmentation,
} from './types.js';
export { BITS_ALLOCATED, DEIDENTIFICATION_MARKS, MAXIMUM_FRACTIONAL_VALUE, dicomDateTime, segmentationTypeFor, timezoneOffset, writeSegmentation } from './write.js';
export { readSegmentation, frameMask, segmentMasks, type Segmentation, type SegmentInfo, type SegmentationFrame, type ReferencedSeries } from './read.js';
export { remapReferences, remapDataset, type RemapResult } from './remap.js';
export { srgbToDicomLab, dicomLabToSrgb } from './cielab.js';
export { packFrames, unpackFrame, packedLength, byteFrames, thresholdFrame, framesAreByteAligned, type PackedFrame } from './bits.js';
export { SEGMENTATION_STORAGE } from './tags.js';
export { approvedDescription, awaitingReviewDescription } from './series-description.js';
