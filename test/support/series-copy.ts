/** A copy of a series as another study of the same patient: new Study, Series, SOP and Frame of Reference UIDs. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { dicom } from '../../anonymizer/index.js';

const { T, find, readPart10, stringOf, textElement, writePart10 } = dicom;

export function copyAsNewStudy(files: readonly string[], dir: string, suffix: number): string[] {
  mkdirSync(dir, { recursive: true });
  return files.map((f) => {
    const parsed = readPart10(readFileSync(f));
    const retag = (t: number) => {
      const el = find(parsed.dataset, t);
      if (el) Object.assign(el, textElement(t, 'UI', `${stringOf(el)}.${suffix}`));
    };
    [T.StudyInstanceUID, T.SeriesInstanceUID, T.SOPInstanceUID, T.FrameOfReferenceUID].forEach(retag);
    const out = join(dir, basename(f));
    writeFileSync(
      out,
      writePart10(
        {
          mediaStorageSOPClassUID: stringOf(find(parsed.dataset, T.SOPClassUID))!,
          mediaStorageSOPInstanceUID: stringOf(find(parsed.dataset, T.SOPInstanceUID))!,
          transferSyntaxUID: parsed.transferSyntax.uid,
          implementationClassUID: '2.25.1',
          implementationVersionName: 'TEST',
        },
        parsed.dataset,
      ),
    );
    return out;
  });
}
