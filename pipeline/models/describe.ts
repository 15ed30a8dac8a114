/**
 * The manifest as the DICOM SEG writer describes it: segments (labels, SNOMED CT codes, colours)
 * and the algorithm identification.
 */
import type { AlgorithmIdentification, CodedConcept, SegmentDescription } from '../seg/types.js';
import type { Code, ModelManifest } from './manifest.js';

const concept = (c: Code): CodedConcept => ({ value: c.code, scheme: c.scheme, meaning: c.meaning });

/** One SegmentDescription per manifest label, in label order. */
export function segmentDescriptions(m: ModelManifest): SegmentDescription[] {
  return m.labels.map((l) => ({
    labelId: l.id,
    label: l.name,
    ...(l.description ? { description: l.description } : {}),
    category: concept(l.category),
    type: concept(l.type),
    ...(l.typeModifier ? { typeModifier: concept(l.typeModifier) } : {}),
    ...(l.anatomicRegion ? { anatomicRegion: concept(l.anatomicRegion) } : {}),
    ...(l.color.rgb ? { rgb: [...l.color.rgb] as [number, number, number] } : {}),
    ...(l.color.cielab ? { cieLab: [...l.color.cielab] as [number, number, number] } : {}),
  }));
}

/** The Algorithm Identification of the model. */
export function algorithmIdentification(m: ModelManifest): AlgorithmIdentification {
  return {
    name: m.algorithm.name,
    version: m.algorithm.version,
    family: concept(m.algorithm.family),
    ...(m.algorithm.source ? { source: m.algorithm.source } : {}),
  };
}
