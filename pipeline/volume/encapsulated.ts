/**
 * A study's encapsulated pixel data into frames, through the DICOM framework's splitter, with
 * its failures said as the pipeline's: the instance and why.
 */
import { dicom } from '../../anonymizer/index.js';
import { fail } from './errors.js';

/**
 * The compressed bytes of each frame. `extendedOffsets` is the decoded Extended Offset Table
 * (7FE0,0001) when present. Throws `missing-pixel-data` or `decode-failed` when the frames cannot be found.
 */
export function splitFrames(fragmentItems: Uint8Array, numberOfFrames: number, sopInstanceUID: string, extendedOffsets?: number[]): Uint8Array[] {
  const split = dicom.splitEncapsulatedFrames(fragmentItems, numberOfFrames, extendedOffsets);
  if (split.ok) return split.frames;
  const where = { attribute: 'PixelData', sopInstanceUID };
  return fail(split.code === 'ambiguous' ? 'decode-failed' : 'missing-pixel-data', `instance ${sopInstanceUID}: ${split.message}`, where);
}
