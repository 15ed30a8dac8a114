/**
 * A de-identification profile: PS3.15 Table E.1-1 with the chosen options, compiled into a
 * lookup from tag to action. A profile is data; validating one returns every problem at once.
 */
import { TABLE_E1_1_2024B } from './table-2024b.generated.js';
import { OPTION_NAMES, type ActionCode, type OptionName, type TableEntry, type TablePattern } from './table.js';

/** A private attribute allowed through by the Retain Safe Private option: its block's creator and element. */
export interface SafePrivateAttribute {
  /** The private creator string, e.g. "GEMS_PARM_01". */
  creator: string;
  /** The odd group, e.g. 0x0043. */
  group: number;
  /** The element's low byte within its block (the xx in (0043,xx27)), e.g. 0x27. */
  element: number;
}

export interface ProfileSpec {
  /** A name for the profile; it keys pseudonyms, so two profiles never link one patient's data. */
  name?: string;
  options?: readonly string[];
  safePrivate?: readonly SafePrivateAttribute[];
  /** Accept instances with (or likely to have) burned-in annotation. Off by default. */
  allowBurnedIn?: boolean;
}

export interface Profile {
  readonly name: string;
  /** The edition of Table E.1-1 the rules come from. */
  readonly edition: '2024b';
  readonly options: ReadonlySet<OptionName>;
  readonly safePrivate: readonly SafePrivateAttribute[];
  readonly allowBurnedIn: boolean;
  /** The action for a standard tag after options, or undefined when neither the table nor `UIDS_BEYOND_TABLE` lists it (kept). */
  actionFor(tag: number): ActionCode | undefined;
  /** The action for one of the table's non-literal rows after options. */
  patternAction(pattern: TablePattern): ActionCode;
}

export interface ProfileIssue {
  code: 'unknown-option' | 'conflicting-options' | 'bad-safe-private';
  path: string;
  message: string;
}

export type ProfileResult = { ok: true; profile: Profile } | { ok: false; issues: ProfileIssue[] };

/**
 * The profiles Limen knows, each with what it is. Options add to a profile; the name a profile is
 * built under (`ProfileSpec.name`) may carry more (the route), after the known name.
 */
export const PROFILE_NAMES: Readonly<Record<string, string>> = Object.freeze({
  basic: 'PS3.15 Basic Application Confidentiality Profile, with options',
});

/** Whether `name` is one of `PROFILE_NAMES`. */
export function isProfileName(name: string): boolean {
  return Object.hasOwn(PROFILE_NAMES, name);
}

/** `unknown profile "basci"; known: basic (…)`: the message for a name that is not one of `PROFILE_NAMES`. */
export function unknownProfile(name: string): string {
  return `unknown profile "${name}"; known: ${Object.entries(PROFILE_NAMES).map(([n, what]) => `${n} (${what})`).join(', ')}`;
}

/** Builds a profile from its spec, or lists every problem with it. */
export function createProfile(spec: ProfileSpec = {}): ProfileResult {
  const issues: ProfileIssue[] = [];
  const options = new Set<OptionName>();
  (spec.options ?? []).forEach((o, i) => {
    if ((OPTION_NAMES as readonly string[]).includes(o)) options.add(o as OptionName);
    else issues.push({ code: 'unknown-option', path: `options[${i}]`, message: `unknown option "${o}"; known: ${OPTION_NAMES.join(', ')}` });
  });
  if (options.has('retainLongitudinalFullDates') && options.has('retainLongitudinalModifiedDates')) {
    issues.push({ code: 'conflicting-options', path: 'options', message: 'retainLongitudinalFullDates and retainLongitudinalModifiedDates exclude each other' });
  }
  (spec.safePrivate ?? []).forEach((p, i) => {
    if (!p.creator || !(p.group & 1) || p.group > 0xffff || p.element < 0 || p.element > 0xff) {
      issues.push({ code: 'bad-safe-private', path: `safePrivate[${i}]`, message: 'needs a creator, an odd group and an element byte (0x00-0xFF)' });
    }
  });
  if (spec.safePrivate?.length && !options.has('retainSafePrivate')) {
    issues.push({ code: 'conflicting-options', path: 'safePrivate', message: 'a safe private allowlist needs the retainSafePrivate option' });
  }
  if (issues.length) return { ok: false, issues };
  return { ok: true, profile: compile(spec.name ?? 'basic', options, spec.safePrivate ?? [], spec.allowBurnedIn ?? false) };
}

/** Throwing form of createProfile. */
export function profileOrThrow(spec: ProfileSpec = {}): Profile {
  const r = createProfile(spec);
  if (!r.ok) throw new Error(r.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  return r.profile;
}

/**
 * Where several options name an action for a row, the most conservative wins: clean (C) over
 * keep (K). Options only ever relax or clean the Basic Profile's action.
 */
function effective(entry: TableEntry, options: ReadonlySet<OptionName>): ActionCode {
  let result: ActionCode | undefined;
  for (const name of options) {
    const a = entry.options[name];
    if (a === 'C') return 'C';
    if (a) result = a;
  }
  return result ?? entry.basic;
}

/**
 * UID attributes PS3.6 defines and Table E.1-1 (2024b) does not list, which hold the UID of an
 * instance or a frame of reference that the table does replace elsewhere: kept as they are, they
 * would carry an original UID (the concatenation's source SOP Instance UID, the Frame of Reference
 * UID under another name) next to its replacement. They get action U like their kin, and are kept
 * under the Retain UIDs Option as those are. UIDs that name classes, syntaxes, coding schemes or
 * organisations identify nobody and stay kept.
 */
export const UIDS_BEYOND_TABLE: ReadonlyMap<number, string> = new Map([
  [0x00081167, 'MultiFrameSourceSOPInstanceUID'],
  [0x00083012, 'RadiopharmaceuticalAdministrationEventUID'],
  [0x0018991e, 'TargetFrameOfReferenceUID'],
  [0x00200242, 'SOPInstanceUIDOfConcatenationSource'],
  [0x00209312, 'VolumeFrameOfReferenceUID'],
  [0x00209313, 'TableFrameOfReferenceUID'],
  [0x00280304, 'ReferencedColorPaletteInstanceUID'],
  [0x00440102, 'AssertionUID'],
  [0x00440108, 'ReferencedAssertionUID'],
  [0x0070031b, 'ReferencedFiducialUID'],
  [0x00701209, 'VolumetricPresentationInputSetUID'],
  [0x300a0675, 'EquipmentFrameOfReferenceUID'],
]);

/**
 * Attributes PS3.6 defines and Table E.1-1 (2024b) does not list, which carry identifying data
 * that no action of the table reaches, so they get action X: a file-set path written into an
 * instance (often the patient's name or ID as directory names), another party's encrypted copy of
 * the original attributes (PS3.15 E.1.2: only the de-identifier that made it may add one), and the
 * addresses an instance can be fetched from (they name the original UIDs and the sender's hosts),
 * or a person be contacted at.
 */
export const REMOVED_BEYOND_TABLE: ReadonlyMap<number, string> = new Map([
  [0x00041500, 'ReferencedFileID'],
  [0x04000500, 'EncryptedAttributesSequence'],
  [0x00081190, 'RetrieveURL'],
  [0x0040e010, 'RetrieveURI'],
  [0x00080407, 'StoredInstanceBaseURI'],
  [0x00080408, 'FolderAccessURI'],
  [0x00080409, 'FileAccessURI'],
  [0x0008040b, 'FilenameInContainer'],
  [0x00404073, 'StorageURL'],
  [0x0074100a, 'ContactURI'],
]);

function compile(name: string, options: Set<OptionName>, safePrivate: readonly SafePrivateAttribute[], allowBurnedIn: boolean): Profile {
  const byTag = new Map<number, ActionCode>();
  const byPattern = new Map<TablePattern, ActionCode>();
  for (const entry of TABLE_E1_1_2024B) {
    const action = effective(entry, options);
    if (entry.tag !== undefined) byTag.set(entry.tag, action);
    else if (entry.pattern) byPattern.set(entry.pattern, action);
  }
  for (const tag of UIDS_BEYOND_TABLE.keys()) if (!byTag.has(tag)) byTag.set(tag, options.has('retainUIDs') ? 'K' : 'U');
  for (const tag of REMOVED_BEYOND_TABLE.keys()) if (!byTag.has(tag)) byTag.set(tag, 'X');
  return {
    name,
    edition: '2024b',
    options,
    safePrivate,
    allowBurnedIn,
    actionFor: (t) => byTag.get(t),
    patternAction: (p) => byPattern.get(p) ?? 'X',
  };
}
