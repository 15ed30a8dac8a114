/** A small DICOM encoding framework: read, model and write datasets, kept apart from any profile. */
export * from './tag.js';
export * from './vr.js';
export * from './element.js';
export * from './errors.js';
export * from './transfer-syntax.js';
export { isUID } from './uid.js';
export { dictionaryVRs, fitsMultiplicity, lookup, tagOfKeyword, type DictionaryEntry } from './dictionary.js';
export { readPart10, readDatasetIn, outputTransferSyntax, MAX_SEQUENCE_DEPTH, type ParsedInstance } from './reader.js';
export { writePart10, writeDataset, textElement, type FileMeta } from './writer.js';
export { splitEncapsulatedFrames, extendedOffsets, type FrameSplit } from './encapsulated.js';
export { textDecoding, decodingOf, DEFAULT_DECODING, type TextDecoding } from './charset.js';
