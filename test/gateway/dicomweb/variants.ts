/** Copies of fixtures with new UIDs and chosen attributes, so one fixture can make many instances. */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dicom } from '../../../anonymizer/index.js';

/** A fresh `2.25.` UID. */
export const uid = (): string => `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`)}`;

/**
 * The fixture with a new SOP Instance UID, the given study and series UIDs (new ones when
 * absent) and attributes set: text (written as UTF-8) or raw bytes in another character set. The writer writes Explicit VR Little Endian, encapsulated pixel
 * data as it was.
 */
export function variant(file: string | Uint8Array, values: Record<number, [dicom.VR, string | Uint8Array]> = {}, uids: { study?: string; series?: string } = {}): Uint8Array {
  const parsed = dicom.readPart10(typeof file === 'string' ? readFileSync(file) : file);
  const sop = uid();
  const set: Record<number, [dicom.VR, string | Uint8Array]> = {
    ...values,
    [dicom.T.StudyInstanceUID]: ['UI', uids.study ?? uid()],
    [dicom.T.SeriesInstanceUID]: ['UI', uids.series ?? uid()],
    [dicom.T.SOPInstanceUID]: ['UI', sop],
  };
  const dataset = parsed.dataset.filter((el) => !(el.tag in set)).concat(Object.entries(set).map(([t, [vr, v]]) => (typeof v === 'string' ? dicom.textElement(Number(t), vr, v) : { tag: Number(t), vr, value: v })));
  const classUID = dicom.stringOf(dicom.find(dataset, dicom.T.SOPClassUID))!;
  return dicom.writePart10(
    { mediaStorageSOPClassUID: classUID, mediaStorageSOPInstanceUID: sop, transferSyntaxUID: dicom.outputTransferSyntax(parsed.transferSyntax), implementationClassUID: '2.25.1', implementationVersionName: 'LIMEN_TEST' },
    dataset,
  );
}
