/**
 * The coded values Limen's audit messages use: DICOM's (PS3.16 CID 400 to 404, scheme "DCM"),
 * RFC 3881's where PS3.15 A.5 still names them, and Limen's own (scheme "99LIMEN", a private
 * coding scheme as PS3.16 8.2 allows: a "99" prefix) for what the standard has no code for.
 */

/** A coded value as the audit schema writes it: csd-code, codeSystemName, originalText (the Code Meaning). */
export interface AuditCode {
  readonly code: string;
  readonly scheme: string;
  readonly meaning: string;
}

const dcm = (code: string, meaning: string): AuditCode => ({ code, scheme: 'DCM', meaning });

/** Limen's private coding scheme designator. */
export const LIMEN_SCHEME = '99LIMEN';

/** CID 400 Audit Event ID. */
export const EVENT_ID = {
  applicationActivity: dcm('110100', 'Application Activity'),
  beginTransferring: dcm('110102', 'Begin Transferring DICOM Instances'),
  instancesAccessed: dcm('110103', 'DICOM Instances Accessed'),
  instancesTransferred: dcm('110104', 'DICOM Instances Transferred'),
  export: dcm('110106', 'Export'),
  securityAlert: dcm('110113', 'Security Alert'),
  userAuthentication: dcm('110114', 'User Authentication'),
} as const;

/** CID 401 Audit Event Type Code, and CID 403 Security Alert Type Code. */
export const EVENT_TYPE = {
  applicationStart: dcm('110120', 'Application Start'),
  login: dcm('110122', 'Login'),
  logout: dcm('110123', 'Logout'),
  nodeAuthentication: dcm('110126', 'Node Authentication'),
  userSecurityAttributesChanged: dcm('110137', 'User Security Attributes Changed'),
} as const;

/** CID 402 Audit Active Participant Role ID Code. */
export const ROLE_ID = {
  application: dcm('110150', 'Application'),
  destination: dcm('110152', 'Destination Role ID'),
  source: dcm('110153', 'Source Role ID'),
} as const;

/** CID 404 Audit Participant Object ID Type Code, and RFC 3881's Patient Number (PS3.15 A.5.3's patient object). */
export const OBJECT_ID_TYPE = {
  studyInstanceUID: dcm('110180', 'Study Instance UID'),
  patientNumber: { code: '2', scheme: 'RFC-3881', meaning: 'Patient Number' } as AuditCode,
  /** An API token, by its id (never its secret). */
  apiToken: { code: 'api-token', scheme: LIMEN_SCHEME, meaning: 'Limen API token id' } as AuditCode,
  /** One event of Limen's hash-chained audit trail, by its sequence number. */
  auditEvent: { code: 'audit-event', scheme: LIMEN_SCHEME, meaning: 'Limen audit trail event (sequence number)' } as AuditCode,
} as const;

/** Limen's event type as an EventTypeCode of its own scheme. */
export function limenEventType(type: string, meaning: string): AuditCode {
  return { code: type, scheme: LIMEN_SCHEME, meaning };
}

/** Audit Source Type Code (PS3.15 A.5.1.2.1): 4, an application server process. */
export const AUDIT_SOURCE_TYPE_APPLICATION_SERVER = '4';

/** ParticipantObjectTypeCode and ParticipantObjectTypeCodeRole (PS3.15 A.5.1.2). */
export const OBJECT_TYPE = { person: '1', systemObject: '2' } as const;
export const OBJECT_ROLE = { patient: '1', report: '3', securityUserEntity: '11', securityResource: '13' } as const;

/** EventOutcomeIndicator: success, minor failure, serious failure, major failure. */
export type EventOutcome = '0' | '4' | '8' | '12';
/** EventActionCode: create, read, update, delete, execute. */
export type EventAction = 'C' | 'R' | 'U' | 'D' | 'E';
