/**
 * Re-identification at egress: the approved SEG, built on pseudonymous data, is put back on the
 * right patient for the hospital PACS. Pure: the linkage records come in (from the vault), the
 * outgoing bytes go out, and nothing is written anywhere. The bytes live only while they are sent.
 */
import { dicom, fromBase64, type LinkageRecord } from '../../anonymizer/index.js';
import { approvedDescription, DEIDENTIFICATION_MARKS, dicomDateTime, remapDataset, timezoneOffset } from '../../pipeline/seg/index.js';

const { T, find, readPart10, stringOf, textElement, writePart10 } = dicom;
type Element = dicom.Element;

/** Patient and study attributes restored from the linkage record (PS3.3 C.7.1.1, C.7.2.1). */
const RESTORED: ReadonlyArray<readonly [number, string]> = [
  [T.PatientName, 'PatientName'],
  [T.PatientID, 'PatientID'],
  [T.IssuerOfPatientID, 'IssuerOfPatientID'],
  [T.PatientBirthDate, 'PatientBirthDate'],
  [T.PatientSex, 'PatientSex'],
  [T.AccessionNumber, 'AccessionNumber'],
  [T.StudyID, 'StudyID'],
  [T.StudyDate, 'StudyDate'],
  [T.StudyTime, 'StudyTime'],
  [T.ReferringPhysicianName, 'ReferringPhysicianName'],
  [T.StudyDescription, 'StudyDescription'],
];
/** Type 3 among them: left out when the source had none. */
const OPTIONAL = new Set<number>([T.IssuerOfPatientID, T.StudyDescription]);

export interface ReidentifyResult {
  bytes: Uint8Array;
  sopInstanceUID: string;
  seriesInstanceUID: string;
  studyInstanceUID: string;
  /** Pseudonymous UIDs found in the SEG that no linkage record maps: a reason to refuse sending. */
  unmapped: string[];
}

export class ReidentifyError extends Error {
  override readonly name = 'ReidentifyError';
}

/**
 * Builds the outgoing SEG: original patient module, original study, source series, instance and
 * frame-of-reference UIDs everywhere they are referenced, and Series and SOP Instance UIDs of its
 * own, `egressUID` of Limen's (so the delivered object shares no identifier with Limen's
 * pseudonymous copy). `egressUID` must give the same UID for the same input every time: a send
 * retried after a crash, or the same SEG sent to a second destination, is then the same object
 * to the PACS, not a second SEG. `createdAt` is when Limen made the SEG: Limen's copy is dated
 * in the de-identified study's time, the outgoing one in the real time, the same at every send.
 */
export function reidentifySegmentation(seg: Uint8Array, records: readonly LinkageRecord[], egressUID: (own: string) => string, createdAt: Date): ReidentifyResult {
  if (records.length === 0) throw new ReidentifyError('the vault holds no linkage record for this study');
  const reverse = new Map<string, string>();
  for (const r of records) for (const [original, replacement] of r.uids) reverse.set(replacement, original);

  const parsed = readPart10(seg);
  // Limen's own UIDs in the SEG (its series, instance, dimension organization) get outgoing ones.
  const own = [
    stringOf(find(parsed.dataset, T.SeriesInstanceUID)),
    stringOf(find(parsed.dataset, T.SOPInstanceUID)),
    stringOf(findDeep(parsed.dataset, DIMENSION_ORGANIZATION_UID)),
  ].filter((u): u is string => !!u);
  const mapped = remapDataset(parsed.dataset, new Map([...reverse, ...own.map((u) => [u, egressUID(u)] as [string, string])]));
  if (mapped.unmapped.length) {
    throw new ReidentifyError(`${mapped.unmapped.length} referenced UID(s) have no original in the vault (${mapped.unmapped.slice(0, 3).join(", ")}); refusing to send a half re-identified SEG`);
  }

  // The patient is the one of the source instances, which must all name the same one: a study
  // that arrived under two patients (a merge, a modality's error) is not put on either of them.
  const identities = new Set(records.map(patientIdentity));
  if (identities.size > 1) {
    throw new ReidentifyError(`the study's instances name ${identities.size} different patients; refusing to put the SEG on any of them`);
  }
  const patient = records[0].patient;
  // The restored values are in the source's character set. A source with none has them in the
  // default repertoire, which the SEG's own set (UTF-8, chosen for non-ASCII labels) holds too.
  // A SEG whose own text took it to UTF-8 away from the source's set stays in UTF-8, and the
  // restored values are transcoded into it, as the writer did with the pseudonymous ones.
  const sourceCharset = records[0].specificCharacterSet;
  const segCharset = stringOf(find(parsed.dataset, T.SpecificCharacterSet));
  const transcode = segCharset === 'ISO_IR 192' && sourceCharset && sourceCharset !== segCharset ? dicom.textDecoding(sourceCharset.split('\\')) : undefined;
  const charset = transcode ? segCharset : sourceCharset || segCharset;
  // The delivered SEG is identified: the marks of de-identification it copied from its source go.
  const restoredTags = new Set([...RESTORED.map(([t]) => t), ...CREATION.flat(), ...DEIDENTIFICATION_MARKS, TIMEZONE_OFFSET]);
  const out: Element[] = mapped.dataset.filter((e) => !restoredTags.has(e.tag) && e.tag !== T.SpecificCharacterSet && e.tag !== T.SeriesDescription);
  // The source's offset from UTC, which the profile may have removed: the restored Study Date and
  // Time are at it, and the SEG's own are written at it too, saying so. Without one, local time.
  const offset = timezoneOffset(originalOffset(patient)) ?? timezoneOffset(mapped.dataset);
  const created = dicomDateTime(createdAt, offset);
  for (const [dateTag, timeTag] of CREATION) out.push(textElement(dateTag, 'DA', created.date), textElement(timeTag, 'TM', created.time));
  if (offset !== null) out.push(textElement(TIMEZONE_OFFSET, 'SH', offset));
  // Only approved results leave: the PACS's copy says so, not "requires review".
  const description = stringOf(find(mapped.dataset, T.SeriesDescription));
  if (description !== undefined) out.push(textElement(T.SeriesDescription, 'LO', approvedDescription(description)));
  for (const [t, keyword] of RESTORED) {
    const v = patient[keyword];
    // Type 2 attributes stay present, empty when the source had no value.
    if (v) {
      const bytes = fromBase64(v.base64);
      out.push(dicom.valueElement(t, v.vr as dicom.VR, transcode ? utf8.encode(transcode.decode(bytes, v.vr === 'PN').replace(/[\0 ]+$/, '')) : bytes));
    }
    else if (!OPTIONAL.has(t)) out.push(textElement(t, vrOf(t), ''));
  }
  if (charset) out.push(textElement(T.SpecificCharacterSet, 'CS', charset));

  const sopInstanceUID = stringOf(find(out, T.SOPInstanceUID))!;
  const bytes = writePart10(
    {
      mediaStorageSOPClassUID: stringOf(find(out, T.SOPClassUID))!,
      mediaStorageSOPInstanceUID: sopInstanceUID,
      transferSyntaxUID: dicom.EXPLICIT_VR_LITTLE_ENDIAN,
      implementationClassUID: stringOf(find(parsed.meta ?? [], T.ImplementationClassUID)) ?? '2.25.0',
      implementationVersionName: stringOf(find(parsed.meta ?? [], T.ImplementationVersionName)) ?? 'LIMEN',
    },
    out,
  );
  return {
    bytes,
    sopInstanceUID,
    seriesInstanceUID: stringOf(find(out, T.SeriesInstanceUID))!,
    studyInstanceUID: stringOf(find(out, T.StudyInstanceUID))!,
    unmapped: mapped.unmapped,
  };
}

/** Timezone Offset From UTC (0008,0201). */
const TIMEZONE_OFFSET = 0x00080201;

/** The source's Timezone Offset From UTC, kept in the linkage record, as a data set to read it from (empty without one). */
function originalOffset(patient: LinkageRecord['patient']): Element[] {
  const v = patient.TimezoneOffsetFromUTC;
  return v ? [textElement(TIMEZONE_OFFSET, 'SH', new TextDecoder('latin1').decode(fromBase64(v.base64)).trim())] : [];
}

/** The SEG's own dates: when it was made (Instance Creation, Series, Content). */
const CREATION: ReadonlyArray<readonly [number, number]> = [
  [0x00080012, 0x00080013],
  [0x00080021, 0x00080031],
  [0x00080023, 0x00080033],
];

/** Who an instance is about (the Patient Identification attributes of PS3.3 C.7.1.1), as one comparable string. */
const IDENTIFYING = ['PatientName', 'PatientID', 'IssuerOfPatientID', 'PatientBirthDate', 'PatientSex'];
function patientIdentity(r: LinkageRecord): string {
  return JSON.stringify(IDENTIFYING.map((k) => r.patient[k] ?? null));
}

const DIMENSION_ORGANIZATION_UID = 0x00209164;
const utf8 = new TextEncoder();

/** The first element with this tag at any depth (the dimension organization sits in a sequence). */
function findDeep(ds: Element[], t: number): Element | undefined {
  for (const e of ds) {
    if (e.tag === t) return e;
    for (const item of e.items ?? []) {
      const hit = findDeep(item, t);
      if (hit) return hit;
    }
  }
  return undefined;
}

function vrOf(t: number): dicom.VR {
  return (dicom.lookup(t)?.vr ?? 'LO') as dicom.VR;
}
