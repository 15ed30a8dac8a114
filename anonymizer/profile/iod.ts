/**
 * Resolving the table's combined actions (X/Z, X/D, Z/D, X/Z/D, X/Z/U*) to the most conservative
 * action that keeps the instance valid for its IOD: remove where the attribute is Type 3 in the
 * IOD, empty it where it is Type 2, give it a dummy where it is Type 1 (PS3.15 E.1.1 "X/Z: X
 * unless Z is required to maintain IOD conformance (Type 3 versus Type 2)", and so on).
 *
 * Only the attributes that carry a combined action in Table E.1-1 need a Type here, and only for
 * the IOD families whose modules (PS3.3) make them Type 1 or 2. For an IOD this file does not
 * know, the least destructive valid choice is taken (Z, D or U), which still leaks nothing.
 */
import type { ActionCode } from './table.js';

/** The IOD families that differ in the requirement of a combined-action attribute. */
export type IodFamily = 'image' | 'enhanced' | 'segmentation' | 'sr' | 'rt-plan' | 'rt-record' | 'pet' | 'presentation' | 'unknown';

export type SingleAction = 'D' | 'Z' | 'X' | 'U';

/** PS3.4 SOP Class UID → IOD family, for the families whose requirements differ. */
export function iodFamily(sopClassUID: string): IodFamily {
  const s = sopClassUID;
  if (s === '1.2.840.10008.5.1.4.1.1.66.4' || s === '1.2.840.10008.5.1.4.1.1.66.7') return 'segmentation';
  if (s.startsWith('1.2.840.10008.5.1.4.1.1.88.') || s === '1.2.840.10008.5.1.4.1.1.88') return 'sr';
  if (s.startsWith('1.2.840.10008.5.1.4.1.1.11.')) return 'presentation';
  if (s === '1.2.840.10008.5.1.4.1.1.481.5' || s === '1.2.840.10008.5.1.4.1.1.481.8') return 'rt-plan';
  if (/^1\.2\.840\.10008\.5\.1\.4\.1\.1\.481\.(4|6|7)$/.test(s)) return 'rt-record';
  if (s === '1.2.840.10008.5.1.4.1.1.128') return 'pet';
  if (ENHANCED.has(s)) return 'enhanced';
  if (IMAGE.test(s)) return 'image';
  return 'unknown';
}

// Multi-frame functional-group IODs with the Enhanced General Equipment and Enhanced image modules.
const ENHANCED = new Set([
  '1.2.840.10008.5.1.4.1.1.2.1', // Enhanced CT
  '1.2.840.10008.5.1.4.1.1.4.1', // Enhanced MR
  '1.2.840.10008.5.1.4.1.1.130', // Enhanced PET
  '1.2.840.10008.5.1.4.1.1.12.1.1', // Enhanced XA
  '1.2.840.10008.5.1.4.1.1.12.2.1', // Enhanced XRF
  '1.2.840.10008.5.1.4.1.1.6.2', // Enhanced US Volume
  '1.2.840.10008.5.1.4.1.1.30', // Parametric Map
  '1.2.840.10008.5.1.4.1.1.2.2', // Legacy Converted Enhanced CT
  '1.2.840.10008.5.1.4.1.1.4.4', // Legacy Converted Enhanced MR
]);
// The classic single-frame image IODs (CT, MR, CR, DX, MG, US, SC, NM, XA, RT Image...): General
// Image, General Series and General Equipment, where the combined-action attributes are Type 3 or 2C.
const IMAGE = /^1\.2\.840\.10008\.5\.1\.4\.1\.1\.(1(\.\d+)*|2|3\.1|4|4\.2|6(\.1)?|7(\.\d)?|12\.\d|20|481\.1|77\.1(\.\d+)*)$/;

type Requirement = 1 | 2 | 3;

/** The Type of a combined-action attribute in an IOD family, where it is not 3. */
const TYPES: Record<number, Partial<Record<IodFamily, Requirement>>> = {
  0x00400555: { enhanced: 2, sr: 2, segmentation: 3 }, // Acquisition Context Sequence (Acquisition Context Module)
  0x0008002a: { enhanced: 1 }, // Acquisition DateTime: 1C for ORIGINAL/MIXED enhanced images
  0x00700084: { segmentation: 1, presentation: 2, sr: 2 }, // Content Creator's Name (Content Identification)
  0x00080023: { image: 2, pet: 2, enhanced: 1, segmentation: 1, sr: 1, presentation: 1, 'rt-plan': 2 }, // Content Date
  0x00080033: { image: 2, pet: 2, enhanced: 1, segmentation: 1, sr: 1, presentation: 1, 'rt-plan': 2 }, // Content Time
  0x00180010: { image: 2, pet: 2, enhanced: 2 }, // Contrast/Bolus Agent (Contrast/Bolus Module, when present)
  0x00181000: { enhanced: 1, segmentation: 1 }, // Device Serial Number (Enhanced General Equipment)
  0x00100020: { image: 2, pet: 2, enhanced: 2, segmentation: 2, sr: 2, presentation: 2, 'rt-plan': 2, 'rt-record': 2 }, // Patient ID
  0x00102203: { image: 2, pet: 2, enhanced: 2, segmentation: 2, sr: 2, 'rt-plan': 2 }, // Patient's Sex Neutered: 2C for animals
  0x00080021: { pet: 1 }, // Series Date (PET Series)
  0x00080031: { pet: 1 }, // Series Time (PET Series)
  0x300a0006: { 'rt-plan': 2 }, // RT Plan Date
  0x300a0007: { 'rt-plan': 2 }, // RT Plan Time
  0x300e0008: { 'rt-plan': 2, 'rt-record': 2 }, // Reviewer Name: 2C with Approval Status
  0x300a00b2: { 'rt-plan': 2, 'rt-record': 2 }, // Treatment Machine Name
  0x30080250: { 'rt-record': 2 }, // Treatment Date
  0x30080251: { 'rt-record': 2 }, // Treatment Time
  0x00081140: { presentation: 1, sr: 1 }, // Referenced Image Sequence
  // Source Image Sequence: in a SEG's Derivation Image Sequence it names the segmented images, without
  // which its Referenced Series Sequence references nothing; kept, its UIDs replaced.
  0x00082112: { segmentation: 1 },
  0x00081070: { 'rt-plan': 2, 'rt-record': 2 }, // Operators' Name (RT Series)
  0x00081111: { sr: 2 }, // Referenced Performed Procedure Step Sequence (SR Document Series)
};

/** Which single action a combined one becomes for this attribute in this IOD. */
export function resolveCombined(action: ActionCode, tag: number, family: IodFamily): SingleAction {
  const choices = action.split('/').map((a) => (a === 'U*' ? 'U' : a)) as SingleAction[];
  if (choices.length === 1) return choices[0];
  const type = family === 'unknown' ? undefined : TYPES[tag]?.[family] ?? 3;
  // Unknown IOD: keep the attribute in its least destructive non-identifying form.
  if (type === undefined) return choices.includes('U') ? 'U' : choices.includes('D') ? 'D' : 'Z';
  if (type === 3 && choices.includes('X')) return 'X';
  if (type === 1) return choices.includes('U') ? 'U' : choices.includes('D') ? 'D' : 'Z';
  // Type 2: present, possibly empty.
  if (choices.includes('Z')) return 'Z';
  if (choices.includes('U')) return 'U';
  return 'D';
}
