/**
 * The PS3.15 de-identification engine. Isomorphic: no Node-only API, so the browser upload runs
 * the very same code. It imports no other Limen module.
 */
export { deidentify, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from './deidentify.js';
export type { DeidentifyInput, DeidentifyResult, Deidentified, Change } from './deidentify.js';
export type { DeidentificationError, DeidentificationErrorCode } from './errors.js';
export { keyedIdentifiers, SECRET_BYTES, type IdentifierGenerator, type PatientKey } from './identifiers.js';
export { LINKED_ATTRIBUTES, fromBase64, isLinkageRecord, linkedText, type LinkageRecord, type OriginalValue } from './linkage.js';
export { createProfile, profileOrThrow, PROFILE_NAMES, isProfileName, unknownProfile, type Profile, type ProfileSpec, type ProfileIssue, type SafePrivateAttribute } from './profile/profile.js';
export { OPTION_NAMES, type OptionName, type ActionCode } from './profile/table.js';
export { OPTION_CODES, BASIC_PROFILE_CODE } from './profile/codes.js';
export { scanResidualPhi, needlesOf, type ResidualHit } from './scanner/index.js';
export * as dicom from './dicom/index.js';
