/** One row of PS3.15 Table E.1-1 as data. */

/** Action codes of PS3.15 Table E.1-1, single or combined (e.g. 'X/Z/D', 'X/Z/U*'). */
export type ActionCode = 'D' | 'Z' | 'X' | 'K' | 'C' | 'U' | 'X/Z' | 'X/D' | 'Z/D' | 'X/Z/D' | 'X/Z/U*';

/** The table's non-literal rows. */
export type TablePattern = 'curve' | 'overlayData' | 'overlayComments' | 'private';

export interface TableEntry {
  /** (group << 16) | element, for rows naming one attribute. */
  tag?: number;
  /** For the repeating-group and private rows. */
  pattern?: TablePattern;
  /** The attribute name as the table gives it. */
  name: string;
  /** The Basic Profile's action. */
  basic: ActionCode;
  /** Per option, the action when that option is in force (only where the table has one). */
  options: Partial<Record<OptionName, ActionCode>>;
}

/** The profile options of PS3.15 Table E.1-1, as Limen names them. */
export const OPTION_NAMES = [
  'retainSafePrivate',
  'retainUIDs',
  'retainDeviceIdentity',
  'retainInstitutionIdentity',
  'retainPatientCharacteristics',
  'retainLongitudinalFullDates',
  'retainLongitudinalModifiedDates',
  'cleanDescriptors',
  'cleanStructuredContent',
  'cleanGraphics',
] as const;

export type OptionName = (typeof OPTION_NAMES)[number];
