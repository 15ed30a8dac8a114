/** The SEG the export tests send: one the pipeline's writer makes over the test CT grid. */
import { readPart10Meta } from '../../../gateway/dicomweb/part10.js';
import type { OutgoingInstance } from '../../../gateway/export/destinations.js';
import { writeSegmentation, SEGMENTATION_STORAGE } from '../../../pipeline/seg/index.js';
import { loadCtGrid, segInput, syntheticLabels } from '../../pipeline/seg/helpers.js';

/** The SEG as sent (a Part 10 file), its data set as a receiver stores it, and that data set's transfer syntax. */
export function outgoingSeg(): { seg: OutgoingInstance; dataSet: Uint8Array; transferSyntaxUID: string } {
  const written = writeSegmentation(segInput(syntheticLabels(loadCtGrid().geometry)));
  const meta = readPart10Meta(written.bytes);
  if (!meta.ok) throw new Error(meta.message);
  return {
    seg: { bytes: written.bytes, sopClassUID: SEGMENTATION_STORAGE, sopInstanceUID: written.sopInstanceUID },
    dataSet: written.bytes.subarray(meta.value.datasetOffset),
    transferSyntaxUID: meta.value.transferSyntaxUID,
  };
}
