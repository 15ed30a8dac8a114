/**
 * Which instances of a series are slices of its volume. A CT series often carries objects that are
 * not: a localizer (scout) at right angles to the stack, a dose screen or a report stored as a
 * Secondary Capture, with no plane geometry at all. They are left out, and counted, rather than
 * making the series fail: the slices beside them are still a volume.
 */
import { isLocalizer, type ImageInstance } from './instance.js';

/** CT Image Storage, Enhanced CT Image Storage and Legacy Converted Enhanced CT Image Storage (PS3.4 B.5). */
export const CT_IMAGE_SOP_CLASSES: ReadonlySet<string> = new Set(['1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.5.1.4.1.1.2.1', '1.2.840.10008.5.1.4.1.1.2.2']);

/** The slices of a series, and what was left out of it. */
export interface SeriesImages {
  images: ImageInstance[];
  /** Localizers (ImageType value 3 LOCALIZER). */
  localizers: number;
  /** Instances whose SOP Class is not a CT image (Secondary Capture, Structured Report, ...). */
  notCtImages: number;
}

/**
 * Leaves out localizers and, when the series holds CT images, every instance that is not one. A
 * series without any CT image (MR, or a CT series written as Secondary Capture) is kept as it is,
 * so that selection and assembly refuse it with the reason that applies (`not-ct`, geometry...).
 */
export function seriesImages(instances: ImageInstance[]): SeriesImages {
  const slices = instances.filter((i) => !isLocalizer(i));
  const ct = slices.filter((i) => CT_IMAGE_SOP_CLASSES.has(i.sopClassUID));
  const images = ct.length > 0 ? ct : slices;
  return { images, localizers: instances.length - slices.length, notCtImages: slices.length - images.length };
}
