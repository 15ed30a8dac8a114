/**
 * Why a series cannot become a volume. Errors are data: a stable `code` an admin's screen and the
 * worker branch on, a message that names the attribute and the size of the problem, and never an
 * identified value (only pseudonymous UIDs, which are what the core zone holds anyway).
 */
export type VolumeErrorCode =
  /** No instance could be read as DICOM at all. */
  | 'no-instances'
  /** An instance given for assembly is not DICOM the reader understands. */
  | 'unreadable-instance'
  /** Instances of more than one series were given as one. */
  | 'mixed-series'
  /** No series of the modality the rule asks for (CT by default). */
  | 'not-ct'
  /** CT series exist, but none is axial (slice normal within the rule's angle of patient Z). */
  | 'not-axial'
  /** The chosen series has fewer slices (or frames) than the rule's minimum. */
  | 'too-few-slices'
  /** Orientation, pixel spacing, matrix, slice spacing or positions disagree beyond tolerance. */
  | 'inconsistent-geometry'
  /** Slices step off their own normal: a tilted gantry, which a regular grid cannot hold. */
  | 'gantry-tilt'
  /** A required attribute is absent or malformed (ImagePositionPatient, Rows, ...). */
  | 'missing-attribute'
  /** Rescale Type (0028,1054) is present and not HU: the rescaled values are not Hounsfield units. */
  | 'not-hounsfield'
  /** The pixel data is in a transfer syntax Limen has no decoder for. */
  | 'unsupported-transfer-syntax'
  /** The pixel format is not a single-sample greyscale image of 8, 16 or 32 bits allocated. */
  | 'unsupported-pixel-format'
  /** A decoder failed, or gave back a frame of the wrong size. */
  | 'decode-failed'
  /** An instance has no pixel data, or fewer frames than it declares. */
  | 'missing-pixel-data';

/** One reason, with the attribute at fault and how far off it is where that applies. */
export interface VolumeError {
  code: VolumeErrorCode;
  message: string;
  /** DICOM keyword of the attribute at fault (ImageOrientationPatient, PixelSpacing, ...). */
  attribute?: string;
  /** How far off: millimetres, degrees or a unitless cosine difference, as the message says. */
  deviation?: number;
  /** The (de-identified) instance at fault, when one is. */
  sopInstanceUID?: string;
}

/** Thrown inside the module and turned into a result at its boundary. */
export class VolumeAssemblyError extends Error {
  override readonly name = 'VolumeAssemblyError';
  constructor(readonly detail: VolumeError) {
    super(detail.message);
  }
}

/** Shorthand to throw a VolumeAssemblyError. */
export function fail(code: VolumeErrorCode, message: string, extra: Omit<VolumeError, 'code' | 'message'> = {}): never {
  throw new VolumeAssemblyError({ code, message, ...extra });
}
