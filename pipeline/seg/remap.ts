/**
 * Rewrites UIDs through a map, everywhere in a dataset: every UI element, at any depth of
 * sequences, and the file meta's MediaStorageSOPInstanceUID. Nothing else changes, so the
 * exporter can put back the original study, series, instance and frame of reference UIDs (and
 * give the SEG new UIDs of its own) without knowing the SEG's layout.
 */
import { dicom } from '../../anonymizer/index.js';
import { SegError } from './errors.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from './tags.js';
import { isUID } from './validate.js';

type Element = dicom.Element;

/** What `remapReferences` did. */
export interface RemapResult {
  bytes: Uint8Array;
  /** UI values replaced (each occurrence counts). */
  replaced: number;
  /**
   * Distinct UIDs found that the map does not hold, except the standard's own (1.2.840.10008.*:
   * SOP classes, transfer syntaxes): what the caller may have forgotten to map.
   */
  unmapped: string[];
}

/** Well-known UIDs of the standard, never pseudonymous. */
const STANDARD_UID_ROOT = '1.2.840.10008.';

/**
 * Re-encodes a Part 10 file (Explicit VR Little Endian) with every UID found in `uidMap`
 * replaced. Multi-valued UI elements are remapped value by value. The file meta is rebuilt from
 * its required elements (optional ones such as SourceApplicationEntityTitle are not kept); a SEG
 * written by `writeSegmentation` comes out byte for byte the same apart from the UIDs. Throws SegError
 * 'invalid-input' when a replacement is not a valid UID, or the bytes are not DICOM.
 */
export function remapReferences(bytes: Uint8Array, uidMap: ReadonlyMap<string, string>): RemapResult {
  for (const [from, to] of uidMap) {
    if (!isUID(to)) throw new SegError('invalid-input', `the replacement for a UID is not a valid UID`, { path: `uidMap[${from}]` });
  }
  let parsed: dicom.ParsedInstance;
  try {
    parsed = dicom.readPart10(bytes);
  } catch (e) {
    throw new SegError('invalid-input', `not readable as DICOM: ${(e as Error).message}`, { cause: e });
  }
  const state = { replaced: 0, unmapped: new Set<string>() };
  const dataset = remapElements(parsed.dataset, uidMap, state);
  const meta = parsed.meta ?? [];
  const metaUID = (tag: number): string => dicom.stringOf(dicom.find(meta, tag)) ?? '';
  const sopInstance = metaUID(dicom.T.MediaStorageSOPInstanceUID);
  const mappedInstance = uidMap.get(sopInstance);
  if (mappedInstance !== undefined) state.replaced++;
  const out = dicom.writePart10(
    {
      mediaStorageSOPClassUID: metaUID(dicom.T.MediaStorageSOPClassUID),
      mediaStorageSOPInstanceUID: mappedInstance ?? sopInstance,
      // The writer encodes Explicit VR Little Endian whatever the input was.
      transferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
      implementationClassUID: metaUID(dicom.T.ImplementationClassUID),
      implementationVersionName: dicom.stringOf(dicom.find(meta, dicom.T.ImplementationVersionName)) ?? '',
    },
    dataset,
  );
  return { bytes: out, replaced: state.replaced, unmapped: [...state.unmapped].sort() };
}

/** The same on a dataset in memory: a new dataset, the input untouched. */
export function remapDataset(dataset: Element[], uidMap: ReadonlyMap<string, string>): { dataset: Element[]; replaced: number; unmapped: string[] } {
  const state = { replaced: 0, unmapped: new Set<string>() };
  const out = remapElements(dataset, uidMap, state);
  return { dataset: out, replaced: state.replaced, unmapped: [...state.unmapped].sort() };
}

interface State {
  replaced: number;
  unmapped: Set<string>;
}

const ascii = new TextEncoder();

function remapElements(elements: Element[], uidMap: ReadonlyMap<string, string>, state: State): Element[] {
  return elements.map((el) => {
    if (el.items) return dicom.sequenceElement(el.tag, el.items.map((item) => remapElements(item, uidMap, state)));
    if (el.vr !== 'UI' || !el.value) return el;
    const values = (dicom.stringOf(el) ?? '').split('\\');
    let changed = false;
    const mapped = values.map((v) => {
      const to = uidMap.get(v);
      if (to === undefined) {
        if (v !== '' && !v.startsWith(STANDARD_UID_ROOT)) state.unmapped.add(v);
        return v;
      }
      state.replaced++;
      changed = true;
      return to;
    });
    return changed ? dicom.valueElement(el.tag, el.vr, ascii.encode(mapped.join('\\'))) : el;
  });
}
