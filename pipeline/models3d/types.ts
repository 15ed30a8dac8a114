/** What the 3D-file writers need to know about a segment. */
import type { TriangleMesh } from '../mesh/index.js';

/** A code triplet as in a DICOM code sequence item. */
export interface CodedConcept {
  readonly codeValue: string;
  readonly codingSchemeDesignator: string;
  readonly codeMeaning: string;
}

/** One segment's mesh and identity. */
export interface ModelSegment {
  /** SegmentNumber in the SEG. */
  readonly segmentNumber: number;
  /** SegmentLabel: names the glTF node, mesh and material, and the STL file. */
  readonly label: string;
  /** Display colour, sRGB components 0..1 (the SEG's RecommendedDisplayCIELabValue converted by the caller). */
  readonly color: readonly [number, number, number];
  readonly category: CodedConcept;
  readonly type: CodedConcept;
  readonly anatomicRegion?: CodedConcept;
  /** Closed mesh in patient LPS millimetres. May be empty. */
  readonly mesh: TriangleMesh;
  /** Unit outward vertex normals in LPS; computed when absent. */
  readonly normals?: Float32Array;
  /** Enclosed volume in mL. */
  readonly volumeMl: number;
}

/** The model and study the files belong to. */
export interface ModelProvenance {
  readonly modelId: string;
  readonly modelVersion: string;
  /** The study's pseudonymous StudyInstanceUID (never the original). */
  readonly studyInstanceUID: string;
}
