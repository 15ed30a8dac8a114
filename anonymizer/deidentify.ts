/**
 * The de-identification engine: identified bytes in, de-identified bytes and a linkage record out.
 * It reads, decides per attribute from the profile (PS3.15 Table E.1-1 with options), rewrites only
 * what the profile changes, and writes Explicit VR Little Endian (or the input's encapsulated
 * transfer syntax). Pixel data and every kept value are copied byte for byte, never decoded.
 * No I/O: the caller decides what is stored where.
 */
import { Scrubber, TextScrubber, byteCleanable } from './clean.js';
import { shiftDate, shiftDateTime } from './dates.js';
import {
  DicomParseError,
  T,
  canStandFor,
  decodingOf,
  dictionaryVRs,
  find,
  fitsMultiplicity,
  fitsRepertoire,
  formatTag,
  hasForbiddenControl,
  isVR,
  isGroupLength,
  isPrivate,
  isPrivateCreator,
  isFreeText,
  isText,
  isUID,
  lookup,
  outputTransferSyntax,
  readDatasetIn,
  readPart10,
  stringOf,
  sequenceElement,
  stringsOf,
  textElement,
  uint16Of,
  valueElement,
  writePart10,
  type Dataset,
  type Element,
  type ParsedInstance,
  type VR,
} from './dicom/index.js';
import type { DeidentificationError } from './errors.js';
import { embeddedOverlayBits, withoutBits } from './overlays.js';
import type { IdentifierGenerator, PatientKey } from './identifiers.js';
import { LINKED_ATTRIBUTES, toBase64, type LinkageRecord } from './linkage.js';
import { BASIC_PROFILE_CODE, OPTION_CODES } from './profile/codes.js';
import { iodFamily, resolveCombined, type IodFamily } from './profile/iod.js';
import type { Profile } from './profile/profile.js';
import type { ActionCode } from './profile/table.js';

/** Limen's implementation identity in the file meta group (PS3.7 D.3.3.2). */
export const IMPLEMENTATION_CLASS_UID = '2.25.176402735298744233717305096396046011857';
export const IMPLEMENTATION_VERSION_NAME = 'LIMEN_0_1';

export interface DeidentifyInput {
  /** A Part 10 file, or a bare dataset with its transfer syntax (as DIMSE delivers it). */
  bytes: Uint8Array;
  format?: 'part10' | 'dataset';
  transferSyntaxUID?: string;
}

/** What happened to one attribute, by path: "(0040,0275)[0](0040,1001)". No values. */
export interface Change {
  path: string;
  action: 'removed' | 'emptied' | 'dummy' | 'uid' | 'cleaned' | 'shifted' | 'pseudonym' | 'added';
}

export interface Deidentified {
  ok: true;
  /** The de-identified Part 10 file. */
  bytes: Uint8Array;
  /** The de-identified dataset, for callers that index attributes without parsing again. */
  dataset: Dataset;
  transferSyntaxUID: string;
  sopClassUID: string;
  sopInstanceUID: string;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  linkage: LinkageRecord;
  changes: Change[];
}

export type DeidentifyResult = Deidentified | { ok: false; error: DeidentificationError };

const SOP_CLASSES_WITH_BURNED_IN_TEXT = [
  '1.2.840.10008.5.1.4.1.1.6.', // Ultrasound
  '1.2.840.10008.5.1.4.1.1.3.1', // Ultrasound Multi-frame
  '1.2.840.10008.5.1.4.1.1.7', // Secondary Capture family
  '1.2.840.10008.5.1.4.1.1.77.1.', // Visible Light
  '1.2.840.10008.5.1.4.1.1.104.', // Encapsulated documents
];
/** Retired classes of the same kinds, matched whole: as prefixes they would take in others (….1.1.3 is no prefix of Parametric Map's ….1.1.30). */
const RETIRED_SOP_CLASSES_WITH_BURNED_IN_TEXT = new Set([
  '1.2.840.10008.5.1.4.1.1.6', // Ultrasound Image Storage (Retired)
  '1.2.840.10008.5.1.4.1.1.3', // Ultrasound Multi-frame Image Storage (Retired)
]);

/**
 * How a sequence's content is treated, beyond the rows of Table E.1-1 that reach into it. Under D
 * (Content Sequence, Graphic Annotation Sequence in the Basic Profile) the values are replaced by
 * dummies, so the free text the table does not list (a Text Value, an Unformatted Text Value, a
 * name) gets a dummy too; under C (Clean Structured Content, Clean Graphics, Clean Descriptors) it
 * is cleaned. Anywhere else such text is kept with the values this instance carries taken out.
 */
type ContentMode = 'D' | 'C' | undefined;

/** Free-text VRs a value the table does not list is treated in by `ContentMode`. */
const CONTENT_TEXT = new Set<VR>(['LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT']);
/** The Code Sequence Macro (PS3.3 Table 8.8-1), (0008,0100)–(0008,01FF): a code and its meaning, kept. */
const isCodeAttribute = (tag: number): boolean => tag >>> 8 === 0x000801;

/**
 * What an image cannot be read or placed without: the pixel description (PS3.3 C.7.6.3 Image
 * Pixel, C.7.6.6 Multi-frame: Samples per Pixel, Photometric Interpretation, Planar
 * Configuration, Number of Frames, Rows, Columns, Bits Allocated, Bits Stored, High Bit, Pixel
 * Representation), the Modality (C.7.3.1), the plane in the patient (C.7.6.2: Image Position,
 * Image Orientation, Pixel Spacing) and a CT's rescale to Hounsfield units (C.8.2.1).
 */
const IMAGE_ESSENTIALS = new Set<number>([
  0x00280002, 0x00280004, 0x00280006, 0x00280008, 0x00280010, 0x00280011, 0x00280100, 0x00280101, 0x00280102, 0x00280103,
  0x00080060, 0x00200032, 0x00200037, 0x00280030, 0x00281052, 0x00281053,
]);

/** De-identifies one instance. Never throws for bad input: the result says what was wrong. */
export function deidentify(input: DeidentifyInput, profile: Profile, ids: IdentifierGenerator): DeidentifyResult {
  let parsed: ParsedInstance;
  try {
    parsed =
      (input.format ?? 'part10') === 'part10'
        ? readPart10(input.bytes)
        : readDatasetIn(input.bytes, input.transferSyntaxUID ?? '');
  } catch (e) {
    if (e instanceof DicomParseError) {
      return { ok: false, error: { code: e.code, message: e.message, tag: e.tag !== undefined ? formatTag(e.tag) : undefined } };
    }
    if (e instanceof RangeError) return { ok: false, error: { code: 'too-deep', message: `the dataset could not be read: ${e.message}` } };
    throw e;
  }
  return new Run(parsed, profile, ids).execute();
}

class Run {
  private readonly ds: Dataset;
  private readonly family: IodFamily;
  private readonly sopClassUID: string;
  private readonly patient: PatientKey;
  private scrubberCache?: Scrubber | TextScrubber;
  /** With a byte `Scrubber`: the values it takes out, and the same as text (built on first need) to check what the bytes left. */
  private identifyingValues?: Element[];
  private textCheck?: TextScrubber;
  private asciiValues?: boolean;
  private readonly uidMap = new Map<string, string>();
  /** UIDs the profile keeps as they are (Retain UIDs Option): in the linkage as themselves. */
  private readonly keptUIDs = new Set<string>();
  private readonly changes: Change[] = [];
  private shiftDays?: number;
  /** Bits of each pixel sample that hold an overlay the profile removes (see overlays.ts). */
  private overlayBits: number[] = [];
  /** The first kept value found damaged: the instance is refused once the walk is done. */
  private damage?: DeidentificationError;

  constructor(
    private readonly parsed: ParsedInstance,
    private readonly profile: Profile,
    private readonly ids: IdentifierGenerator,
  ) {
    this.ds = parsed.dataset;
    this.sopClassUID = stringOf(find(this.ds, T.SOPClassUID)) ?? '';
    this.family = iodFamily(this.sopClassUID);
    this.patient = patientKeyOf(this.ds);
  }

  execute(): DeidentifyResult {
    const sopInstanceUID = stringOf(find(this.ds, T.SOPInstanceUID));
    if (!this.sopClassUID || !sopInstanceUID) {
      return { ok: false, error: { code: 'not-an-instance', message: 'no SOPClassUID or SOPInstanceUID: not a composite instance (a DICOMDIR or a fragment?)' } };
    }
    // Quoted in reasons and stored as it is: only once it is known to be a UID and nothing else.
    if (!isUID(this.sopClassUID)) {
      return { ok: false, error: { code: 'damaged-value', message: 'SOPClassUID (0008,0016) is not a valid UID (PS3.5 9.1): the data set is damaged', tag: formatTag(T.SOPClassUID) } };
    }
    const burnedIn = this.burnedInReason();
    if (burnedIn && !this.profile.allowBurnedIn) return { ok: false, error: { code: 'burned-in-annotation', message: burnedIn } };
    const overlays = embeddedOverlayBits(this.ds, this.parsed.transferSyntax.encapsulated);
    if (!overlays.ok && !(overlays.code === 'burned-in-annotation' && this.profile.allowBurnedIn)) return { ok: false, error: { code: overlays.code, message: overlays.message, tag: overlays.tag } };
    this.overlayBits = overlays.ok ? overlays.bits : [];

    const out = this.transform(this.ds, '', 0);
    if (this.damage) return { ok: false, error: this.damage };
    this.mark(out);

    const newSop = stringOf(find(out, T.SOPInstanceUID)) ?? '';
    const transferSyntaxUID = outputTransferSyntax(this.parsed.transferSyntax);
    const bytes = writePart10(
      {
        mediaStorageSOPClassUID: this.sopClassUID,
        mediaStorageSOPInstanceUID: newSop,
        transferSyntaxUID,
        implementationClassUID: IMPLEMENTATION_CLASS_UID,
        implementationVersionName: IMPLEMENTATION_VERSION_NAME,
      },
      out,
    );
    return {
      ok: true,
      bytes,
      dataset: out,
      transferSyntaxUID,
      sopClassUID: this.sopClassUID,
      sopInstanceUID: newSop,
      studyInstanceUID: stringOf(find(out, T.StudyInstanceUID)) ?? '',
      seriesInstanceUID: stringOf(find(out, T.SeriesInstanceUID)) ?? '',
      linkage: this.linkage(),
      changes: this.changes,
    };
  }

  private burnedInReason(): string | undefined {
    const flag = stringOf(find(this.ds, T.BurnedInAnnotation))?.toUpperCase();
    if (flag === 'YES') return 'BurnedInAnnotation (0028,0301) is YES: pixel data carries identifying text; the profile does not allow it';
    // Its Enumerated Values are YES and NO (PS3.3 C.7.6.1.1.3): anything else says neither, and is not quoted.
    if (flag !== undefined && flag !== '' && flag !== 'NO') return 'BurnedInAnnotation (0028,0301) is neither YES nor NO: whether pixel data carries identifying text is unknown; the profile does not allow it';
    const burnedInClass = RETIRED_SOP_CLASSES_WITH_BURNED_IN_TEXT.has(this.sopClassUID) || SOP_CLASSES_WITH_BURNED_IN_TEXT.some((p) => this.sopClassUID === p || this.sopClassUID.startsWith(p));
    // Empty says no more than absent.
    if (!flag && burnedInClass) {
      return `SOP Class ${this.sopClassUID} usually carries burned-in text and BurnedInAnnotation (0028,0301) is ${flag === '' ? 'empty' : 'absent'}; the profile does not allow it`;
    }
    return undefined;
  }

  /** The profile's action for a standard attribute, combined actions resolved for this IOD. */
  private actionOf(el: Element): ActionCode | undefined {
    const a = this.profile.actionFor(el.tag);
    if (a === undefined || !a.includes('/')) return a;
    // Patient's Sex Neutered is Type 2C, required only for animals: a human's is simply removed.
    if (el.tag === 0x00102203 && !find(this.ds, T.PatientSpeciesDescription) && !find(this.ds, T.PatientSpeciesCodeSequence)) return 'X';
    return resolveCombined(a, el.tag, this.family);
  }

  /**
   * Built on first use: most profiles never clean text. In a character set where bytes cannot be
   * matched exactly (ISO 2022, GB18030, GBK), values are compared as text instead (`TextScrubber`).
   */
  private get scrubber(): Scrubber | TextScrubber {
    if (!this.scrubberCache) {
      const charset = stringsOf(find(this.ds, T.SpecificCharacterSet));
      const scrubber = byteCleanable(charset) ? new Scrubber() : new TextScrubber(decodingOf(this.ds));
      const values: Element[] = [];
      this.collectIdentifyingValues(this.ds, (el) => {
        if (scrubber instanceof Scrubber) scrubber.add(el.value!);
        else scrubber.add(el.value!, el.vr === 'PN');
        values.push(el);
      });
      this.scrubberCache = scrubber;
      if (scrubber instanceof Scrubber) this.identifyingValues = values;
    }
    return this.scrubberCache;
  }

  /**
   * Bytes match one spelling only: "MÜLLER" is not "Müller" in UTF-8 or Latin-1, nor a full-width
   * "Ｍｕｌｌｅｒ" "Muller". Whether what the bytes left still names a value, read as text. Only
   * a spelling outside ASCII can differ from its bytes' (ASCII case is folded by the byte
   * scrubber), so a value in ASCII is read as text only when an identifying value is not ASCII.
   */
  private namesAsText(cleaned: Uint8Array, digits: boolean): boolean {
    const values = this.identifyingValues;
    if (!values) return false;
    this.asciiValues ??= values.every((el) => isAscii(el.value!));
    if (this.asciiValues && isAscii(cleaned)) return false;
    if (this.textCheck === undefined) {
      this.textCheck = new TextScrubber(decodingOf(this.ds));
      for (const el of values) this.textCheck.add(el.value!, el.vr === 'PN');
    }
    return this.textCheck.identifies(cleaned, digits);
  }

  /**
   * `el` with the identifying values this instance carries (and, with `digits`, long runs of
   * digits) taken out: starred where its bytes can be matched, emptied where they cannot or where
   * the text still names them. The same element when there was nothing to take out.
   */
  private scrubbed(el: Element, parent: string, digits: boolean): Element {
    const value = el.value!;
    const scrubber = this.scrubber;
    if (scrubber instanceof TextScrubber) {
      if (!scrubber.identifies(value, digits)) return this.unchanged(el);
      this.change(parent, el, 'emptied');
      return valueElement(el.tag, el.vr, new Uint8Array(0));
    }
    const cleaned = scrubber.clean(value, digits);
    if (this.namesAsText(cleaned, digits)) {
      this.change(parent, el, 'emptied');
      return valueElement(el.tag, el.vr, new Uint8Array(0));
    }
    if (!digits && cleaned.every((b, i) => b === value[i])) return this.unchanged(el);
    this.change(parent, el, 'cleaned');
    return valueElement(el.tag, el.vr, cleaned);
  }

  /** Values the profile takes out are what Clean must scrub from the text it keeps. */
  private collectIdentifyingValues(ds: Dataset, add: (el: Element) => void): void {
    const creators = privateCreators(ds);
    for (const el of ds) {
      if (el.items) {
        for (const item of el.items) this.collectIdentifyingValues(item, add);
        continue;
      }
      if (!el.value || el.value.length < 2 || isGroupLength(el.tag)) continue;
      if (isPrivate(el.tag) && (isPrivateCreator(el.tag) || this.isSafePrivate(el.tag, creators.get(privateBlock(el.tag))))) continue;
      // A name the table does not list gets a dummy (`unlisted`), and is scrubbed where it was copied.
      if (el.vr === 'PN' && !isPrivate(el.tag) && this.profile.actionFor(el.tag) === undefined) {
        add(el);
        continue;
      }
      const action = isPrivate(el.tag) ? 'X' : this.profile.actionFor(el.tag);
      // An original UID the profile replaces, written into text (a URL, a comment), is scrubbed there too.
      if (el.vr === 'UI' && action !== undefined && action !== 'K' && !stringOf(el)!.startsWith('1.2.840.10008.')) {
        add(el);
        continue;
      }
      if (action === undefined || action === 'K' || action === 'C' || action === 'U') continue;
      // A UN value is taken for text only when it reads as text: a vendor's binary blob split at
      // its '\\' and '^' bytes would make needles of random bytes (and cost a few thousand of them).
      if (isFreeText(el.vr) || el.vr === 'DA' || el.vr === 'DT' || el.vr === 'AE' || (el.vr === 'UN' && readsAsText(el.value))) add(el);
    }
  }

  private transform(ds: Dataset, path: string, depth: number, mode?: ContentMode): Dataset {
    const out: Element[] = [];
    const keptPrivateBlocks = new Set<number>();
    const creators = privateCreators(ds);

    for (const el of ds) {
      const group = el.tag >>> 16;
      // Group lengths are retired; meta (0002) and command (0000) elements do not belong in a dataset.
      if (isGroupLength(el.tag) || group === 0x0002 || group === 0x0000) continue;
      if (isPrivate(el.tag)) {
        if (isPrivateCreator(el.tag)) continue; // re-added below for blocks that keep an element
        const block = privateBlock(el.tag);
        if (this.isSafePrivate(el.tag, creators.get(block))) {
          const kept = this.cleanSafePrivate(el, path, depth);
          if (kept) {
            keptPrivateBlocks.add(block);
            out.push(kept);
          }
        } else this.change(path, el, 'removed');
        continue;
      }
      if (group >= 0x5000 && group <= 0x501e && !(group & 1)) {
        // Curves (retired) cannot be checked for identifying content: removed, Clean Graphics or not.
        this.change(path, el, 'removed');
        continue;
      }
      if (group >= 0x6000 && group <= 0x601e && !(group & 1)) {
        // Overlay bitmaps can hold burned-in text that no automatic check can clean: the whole
        // overlay group goes, so no Overlay Plane module is left without its data.
        this.change(path, el, 'removed');
        continue;
      }
      if (depth === 0 && el.tag === T.PixelData && el.value && this.overlayBits.length > 0) {
        this.change(path, el, 'cleaned');
        out.push(valueElement(el.tag, el.vr, withoutBits(el.value, uint16Of(find(ds, T.BitsAllocated)) ?? 16, this.overlayBits)));
        continue;
      }
      const next = this.apply(el, path, depth, mode);
      if (next) out.push(next);
    }
    for (const block of keptPrivateBlocks) {
      const creatorTag = (((block >>> 8) << 16) | (block & 0xff)) >>> 0;
      const creator = find(ds, creatorTag);
      if (creator) out.push(creator);
    }
    return out;
  }

  private isSafePrivate(tag: number, creator: string | undefined): boolean {
    if (!this.profile.options.has('retainSafePrivate') || creator === undefined) return false;
    const group = tag >>> 16;
    const element = tag & 0xff;
    return this.profile.safePrivate.some((s) => s.group === group && s.element === element && s.creator === creator.trim());
  }

  /**
   * A private attribute the Retain Safe Private Option keeps gets the table's action for it, C
   * (PS3.15 Table E.1-1, "Private Attributes"): being on the list says what the attribute is, not
   * what a sender put in it. Its items are de-identified as any, its text cleaned, its dates
   * shifted (kept under Full Dates), its UIDs replaced (kept under Retain UIDs), and a value the
   * sender did not type (UN) has the values this instance carries taken out. Numbers stay.
   */
  private cleanSafePrivate(el: Element, parent: string, depth: number): Element | undefined {
    if (el.items) return this.items(el, parent, depth, 'C');
    if (!el.value || el.value.length === 0) return el;
    if (el.vr === 'DA' || el.vr === 'DT') return this.profile.options.has('retainLongitudinalFullDates') ? this.unchanged(el) : this.clean(el, parent, depth);
    if (el.vr === 'UI') {
      if (this.profile.options.has('retainUIDs')) return this.unchanged(el);
      this.change(parent, el, 'uid');
      return textElement(el.tag, 'UI', stringsOf(el).map((u) => this.replaceUID(u)).join('\\'));
    }
    if (CONTENT_TEXT.has(el.vr)) return this.clean(el, parent, depth);
    if (el.vr === 'UN') return this.scrubbed(el, parent, false);
    return this.unchanged(el);
  }

  /**
   * A standard attribute Table E.1-1 does not list: a person's name gets a dummy; free text has the
   * values this instance carries taken out, or, in a sequence whose content the table replaces or
   * cleans, a dummy or a cleaning (`ContentMode`). Anything else is kept (`keep`).
   */
  private unlisted(el: Element, parent: string, depth: number, mode: ContentMode): Element | undefined {
    if (el.items || !el.value || el.value.length === 0) return this.keep(el, parent, depth, mode);
    const vrs = dictionaryVRs(el.tag);
    // A value the sender could not type (UN) is treated as what the dictionary says it is.
    const vr = el.vr === 'UN' && vrs?.length === 1 && isVR(vrs[0]) ? vrs[0] : el.vr;
    if (!CONTENT_TEXT.has(vr) || !vrs || !canStandFor(el.vr, vrs)) return this.keep(el, parent, depth, mode);
    if (hasForbiddenControl(el.vr, el.value)) return this.unchanged(el);
    // A code keeps its meaning; only a value this instance carries is taken out of it.
    if (isCodeAttribute(el.tag)) return this.scrubbed(el, parent, false);
    if (mode === 'D' || vr === 'PN') {
      this.change(parent, el, 'dummy');
      return valueElement(el.tag, vr, dummyValue({ ...el, vr }, this.ids));
    }
    return this.scrubbed(el, parent, mode === 'C');
  }

  /** `parent`: the path of the dataset `el` is in ("" at the top); an element's own path is made only for a change. */
  private apply(el: Element, parent: string, depth: number, mode?: ContentMode): Element | undefined {
    if (el.tag === T.PatientName || el.tag === T.PatientID) {
      const pseudonym = this.ids.patientPseudonym(this.patient, this.profile.name);
      this.change(parent, el, 'pseudonym');
      // As a person name the pseudonym is the family name component ("CODE^"), PS3.5 §6.2.1.
      if (el.tag === T.PatientName) return textElement(el.tag, 'PN', `${pseudonym}^`);
      return textElement(el.tag, 'LO', pseudonym);
    }
    const action = this.actionOf(el);
    switch (action) {
      case undefined:
        return this.unlisted(el, parent, depth, mode);
      case 'K':
        return this.keep(el, parent, depth, mode);
      case 'X':
        this.change(parent, el, 'removed');
        return undefined;
      case 'Z':
        this.change(parent, el, 'emptied');
        return el.items ? sequenceElement(el.tag, []) : valueElement(el.tag, el.vr, new Uint8Array(0));
      case 'D':
        if (el.items) return this.items(el, parent, depth, 'D');
        this.change(parent, el, 'dummy');
        return valueElement(el.tag, el.vr, dummyValue(el, this.ids));
      case 'U':
        if (el.items) return this.items(el, parent, depth, mode);
        this.change(parent, el, 'uid');
        return textElement(el.tag, 'UI', stringsOf(el).map((u) => this.replaceUID(u)).join('\\'));
      case 'C':
        return this.clean(el, parent, depth);
      default:
        // Combined actions were resolved above; anything else is a table value this engine does not know.
        this.change(parent, el, 'removed');
        return undefined;
    }
  }

  /**
   * An attribute the profile keeps: Table E.1-1 leaves it out, or says K. The table can leave out
   * only what the standard describes. So these go, as they could hold anything: an attribute the
   * dictionary does not know (a later edition's, or a tag that is off); a value whose VR is not the
   * dictionary's (a date under a code's tag); a code, number, date or UID with characters its VR
   * does not hold (a name read as a CS under Implicit VR); binary numbers of a multiplicity the
   * dictionary does not allow (a length grown over the elements after it). A kept value with
   * control characters its VR does not allow has run over other elements: the instance is refused
   * (`damage`).
   */
  private keep(el: Element, parent: string, depth: number, mode?: ContentMode): Element | undefined {
    const vrs = dictionaryVRs(el.tag);
    if (!vrs || !canStandFor(el.vr, vrs)) return this.misfit(el, parent);
    if (el.items) return this.items(el, parent, depth, mode);
    if (!el.value) return el;
    if (hasForbiddenControl(el.vr, el.value)) return this.unchanged(el);
    if (!fitsRepertoire(el.vr, el.value) || !fitsMultiplicity(el.tag, el.vr, el.value.length)) return this.misfit(el, parent);
    if (el.vr === 'UI') for (const uid of stringsOf(el)) if (uid && !uid.startsWith('1.2.840.10008.')) this.keptUIDs.add(uid);
    return el;
  }

  /**
   * A kept attribute that is not what PS3.6 says it is goes. One the image cannot be read or
   * placed without goes with its instance: stored without it, the image would be half there.
   */
  private misfit(el: Element, parent: string): undefined {
    if (IMAGE_ESSENTIALS.has(el.tag)) {
      this.damage ??= {
        code: 'damaged-value',
        message: `${formatTag(el.tag)} ${lookup(el.tag)?.keyword ?? ''}: its ${el.vr} value is not what PS3.6 defines, and the image cannot be read or placed without it; the data set is damaged (a length or tag that is off?)`,
        tag: formatTag(el.tag),
      };
    }
    this.change(parent, el, 'removed');
    return undefined;
  }

  /** A value kept byte for byte, once it is known to be what its VR says. */
  private unchanged(el: Element): Element {
    if (el.value && hasForbiddenControl(el.vr, el.value)) {
      this.damage ??= {
        code: 'damaged-value',
        message: `${formatTag(el.tag)} ${lookup(el.tag)?.keyword ?? ''}: its ${el.vr} value holds control characters the VR does not allow; the data set is damaged (a length or tag that is off?)`,
        tag: formatTag(el.tag),
      };
    }
    return el;
  }

  /** A sequence kept, each of its items transformed; `mode` says what becomes of the free text the table does not list. */
  private items(el: Element, parent: string, depth: number, mode?: ContentMode): Element {
    const path = `${parent}${formatTag(el.tag)}`;
    return sequenceElement(el.tag, (el.items ?? []).map((item, i) => this.transform(item, `${path}[${i}]`, depth + 1, mode)));
  }

  private change(parent: string, el: Element, action: Change['action']): void {
    this.changes.push({ path: `${parent}${formatTag(el.tag)}`, action });
  }

  private clean(el: Element, parent: string, depth: number): Element | undefined {
    if (el.items) return this.items(el, parent, depth, 'C');
    if (el.vr === 'DA' || el.vr === 'DT') {
      const days = this.dateShift();
      const shifted = stringsOf(el).map((v) => (v === '' ? '' : ((el.vr === 'DA' ? shiftDate(v, days) : shiftDateTime(v, days)) ?? '')));
      this.change(parent, el, 'shifted');
      return textElement(el.tag, el.vr, shifted.join('\\'));
    }
    // A whole-day shift leaves the time of day meaningful and identifying nobody.
    if (el.vr === 'TM' || !el.value) return this.unchanged(el);
    if (!isText(el.vr)) {
      // Binary content (a camera's maker note) cannot be cleaned without knowing its format.
      this.change(parent, el, 'removed');
      return undefined;
    }
    return this.scrubbed(el, parent, true);
  }

  private dateShift(): number {
    return (this.shiftDays ??= this.ids.dateShiftDays(this.patient, this.profile.name));
  }

  private replaceUID(uid: string): string {
    // Well-known UIDs of the standard (frames of reference such as Talairach, coding schemes) identify nobody.
    if (uid === '' || uid.startsWith('1.2.840.10008.')) return uid;
    let out = this.uidMap.get(uid);
    if (!out) {
      out = this.ids.uid(uid);
      this.uidMap.set(uid, out);
    }
    return out;
  }

  /** PatientIdentityRemoved, DeidentificationMethod and its code sequence (PS3.15 E.1.1, CID 7050). */
  private mark(out: Dataset): void {
    for (let i = out.length - 1; i >= 0; i--) if (MARK_TAGS.has(out[i].tag)) out.splice(i, 1);
    out.push(...markElements(this.profile));
    this.changes.push({ path: formatTag(T.DeidentificationMethodCodeSequence), action: 'added' });
  }

  private linkage(): LinkageRecord {
    const patient: LinkageRecord['patient'] = {};
    for (const [t, keyword] of LINKED_ATTRIBUTES) {
      const el = find(this.ds, t);
      if (el?.value) patient[keyword] = { vr: el.vr, base64: toBase64(el.value) };
    }
    return {
      version: 1,
      profile: this.profile.name,
      specificCharacterSet: stringOf(find(this.ds, T.SpecificCharacterSet)) ?? '',
      patient,
      // Kept UIDs as pairs of themselves, never in uidMap: that map is also the replacement cache.
      uids: [...this.uidMap.entries(), ...[...this.keptUIDs].filter((u) => !this.uidMap.has(u)).map((u): [string, string] => [u, u])],
    };
  }
}

const MARK_TAGS = new Set<number>([T.PatientIdentityRemoved, T.DeidentificationMethod, T.DeidentificationMethodCodeSequence, T.LongitudinalTemporalInformationModified]);
const markCache = new WeakMap<Profile, readonly Element[]>();

/** What `mark` adds depends on the profile alone: made once per profile, the same (never mutated) elements in every output. */
function markElements(profile: Profile): readonly Element[] {
  let elements = markCache.get(profile);
  if (elements) return elements;
  const options = [...profile.options].sort();
  const codes = [BASIC_PROFILE_CODE, ...options.map((o) => OPTION_CODES[o])];
  const temporal = profile.options.has('retainLongitudinalFullDates') ? 'UNMODIFIED' : profile.options.has('retainLongitudinalModifiedDates') ? 'MODIFIED' : 'REMOVED';
  elements = [
    textElement(T.PatientIdentityRemoved, 'CS', 'YES'),
    textElement(T.DeidentificationMethod, 'LO', [`Limen: PS3.15 E.1-1 (2024b), profile ${profile.name}`.slice(0, 64), ...codes.map((c) => c.meaning.slice(0, 64))].join('\\')),
    sequenceElement(
      T.DeidentificationMethodCodeSequence,
      codes.map((c) => [textElement(T.CodeValue, 'SH', c.value), textElement(T.CodingSchemeDesignator, 'SH', 'DCM'), textElement(T.CodeMeaning, 'LO', c.meaning)]),
    ),
    textElement(T.LongitudinalTemporalInformationModified, 'CS', temporal),
  ];
  markCache.set(profile, elements);
  return elements;
}

/** Bytes of a character string: no control character but TAB, LF, FF, CR and ESC (PS3.5 6.1.2). */
function readsAsText(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d && b !== 0x1b) return false;
  }
  return true;
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] >= 0x80) return false;
  return true;
}

/** A private block, (group << 8) | block byte: (0029,1110) is in block 0x002911, reserved by (0029,0011). */
const privateBlock = (tag: number): number => ((tag >>> 16) << 8) | ((tag >>> 8) & 0xff);

/** The private creator of each block of a dataset, by `privateBlock`. */
function privateCreators(ds: Dataset): Map<number, string> {
  const creators = new Map<number, string>();
  for (const el of ds) if (isPrivateCreator(el.tag)) creators.set(((el.tag >>> 16) << 8) | (el.tag & 0xff), stringOf(el) ?? '');
  return creators;
}

function patientKeyOf(ds: Dataset): PatientKey {
  return {
    patientID: stringOf(find(ds, T.PatientID))?.trim() ?? '',
    issuerOfPatientID: stringOf(find(ds, T.IssuerOfPatientID))?.trim() ?? '',
    patientName: stringOf(find(ds, T.PatientName))?.trim() ?? '',
  };
}

const ascii = new TextEncoder();

/** A non-empty value of the element's VR that identifies nobody (PS3.15 action D). */
function dummyValue(el: Element, ids: IdentifierGenerator): Uint8Array {
  const vr: VR = el.vr;
  switch (vr) {
    case 'UI':
      return ascii.encode(stringsOf(el).map((u) => (u.startsWith('1.2.840.10008.') ? u : ids.uid(u))).join('\\') || ids.uid('dummy'));
    case 'DA': return ascii.encode('19000101');
    case 'DT': return ascii.encode('19000101000000');
    case 'TM': return ascii.encode('000000');
    case 'AS': return ascii.encode('000D');
    case 'DS': case 'IS': return ascii.encode('0');
    case 'AE': case 'CS': case 'LO': case 'LT': case 'PN': case 'SH': case 'ST': case 'UC': case 'UT':
      return ascii.encode('ANONYMIZED');
    case 'UR': return ascii.encode('urn:x-limen:anonymized');
    case 'FD': case 'SV': case 'UV': return new Uint8Array(8);
    case 'FL': case 'SL': case 'UL': case 'AT': return new Uint8Array(4);
    case 'SS': case 'US': return new Uint8Array(2);
    default: return new Uint8Array(2);
  }
}
