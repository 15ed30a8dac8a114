/**
 * The CT volume the pipeline works on, and its place in patient space. Shared by volume assembly,
 * segmentation, the SEG writer and the mesher, so that all of them agree on one geometry.
 */

/** Patient geometry of a regular voxel grid, in DICOM LPS millimetres. */
export interface VolumeGeometry {
  /** [columns, rows, slices]: x (column index) varies fastest in every voxel array. */
  dims: [number, number, number];
  /** [column spacing, row spacing, slice spacing] in mm: PixelSpacing is [row spacing, column spacing]. */
  spacing: [number, number, number];
  /** ImagePositionPatient of the first slice (the centre of its first voxel). */
  origin: [number, number, number];
  /** Direction cosine of increasing column index (ImageOrientationPatient[0..2]). */
  rowDirection: [number, number, number];
  /** Direction cosine of increasing row index (ImageOrientationPatient[3..5]). */
  columnDirection: [number, number, number];
  /** Unit vector from one slice to the next, along which slices are sorted (ascending). */
  sliceDirection: [number, number, number];
}

/** One slice's (or frame's) source, for the SEG's references back to the CT. */
export interface SliceSource {
  sopClassUID: string;
  sopInstanceUID: string;
  /** 1-based frame number in a multi-frame (Enhanced CT) source; absent for single-frame. */
  frameNumber?: number;
  /** This slice's ImagePositionPatient. */
  position: [number, number, number];
}

/** A CT in Hounsfield units on a regular grid, ready for segmentation. */
export interface CtVolume extends VolumeGeometry {
  /** HU per voxel, rescale applied, index = x + columns * (y + rows * z); clamped to int16. */
  hu: Int16Array;
  /** Per slice z, where it came from. */
  sources: SliceSource[];
  studyInstanceUID: string;
  seriesInstanceUID: string;
  frameOfReferenceUID: string;
}

/** A label map on a volume's grid: 0 background, 1..n the manifest's labels. */
export interface LabelMap extends VolumeGeometry {
  labels: Uint8Array;
}
