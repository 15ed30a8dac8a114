/**
 * Which PS3.15 A.5.3 audit message each Limen audit event becomes. Every event is exported, so a
 * repository's copy of the trail has no gaps in `seq` (a skipped event would look like a removed
 * one). An event with a DICOM counterpart takes that message; one of Limen's own workflow that
 * has none (a study judged complete, a review decision, an association ending) takes Application
 * Activity, the message for what the application itself did, with an EventTypeCode of Limen's
 * scheme naming the event. Every message also carries that 99LIMEN EventTypeCode, so a repository
 * can select Limen's events by their own name.
 *
 * | Limen event             | EventID (CID 400)                       | action | outcome                         | EventTypeCode (CID 401/403)           | participants                                        |
 * |-------------------------|-----------------------------------------|--------|---------------------------------|---------------------------------------|-----------------------------------------------------|
 * | gateway.started         | 110100 Application Activity             | E      | 0                               | 110120 Application Start              | Limen (110150 Application)                          |
 * | association.accepted    | 110113 Security Alert                   | E      | 0                               | 110126 Node Authentication            | caller (AE title, address; requestor), Limen        |
 * | association.rejected    | 110113 Security Alert                   | E      | 4 (refused: mitigation worked)  | 110126 Node Authentication            | caller (requestor), Limen                           |
 * | association.released    | 110100 Application Activity             | E      | 0                               | 99LIMEN only                          | caller (requestor), Limen (110150)                  |
 * | association.aborted     | 110100 Application Activity             | E      | 4                               | 99LIMEN only                          | caller (requestor), Limen (110150)                  |
 * | stow.request            | 110102 Begin Transferring DICOM Inst.   | E      | 0                               | -                                     | sender (110153 Source), Limen (110152 Destination)  |
 * | instance.stored         | 110104 DICOM Instances Transferred      | C (U for a duplicate) | 0                | -                                     | sender (110153), Limen (110152); study, patient     |
 * | instance.failed         | 110104 DICOM Instances Transferred      | C      | 4                               | -                                     | sender (110153), Limen (110152)                     |
 * | instance.discarded      | 110103 DICOM Instances Accessed         | D      | 0                               | -                                     | Limen (requestor); study, patient                   |
 * | study.complete          | 110100 Application Activity             | E      | 0                               | 99LIMEN only                          | Limen (110150); study, patient                      |
 * | processing.requested    | 110100 Application Activity             | E      | 0                               | 99LIMEN only                          | admin (requestor), Limen; study, patient            |
 * | processing.started      | 110103 DICOM Instances Accessed         | R      | 0                               | -                                     | Limen (requestor); study, patient                   |
 * | processing.completed    | 110103 DICOM Instances Accessed         | C      | 0                               | -                                     | Limen (requestor); study, patient                   |
 * | processing.failed       | 110103 DICOM Instances Accessed         | R      | 8                               | -                                     | Limen (requestor); study, patient                   |
 * | processing.superseded   | 110103 DICOM Instances Accessed         | D      | 0                               | -                                     | Limen (requestor); study, patient                   |
 * | review.approved         | 110100 Application Activity             | E      | 0                               | 99LIMEN only                          | reviewer (requestor), Limen; study, patient         |
 * | review.rejected         | 110100 Application Activity             | E      | 0                               | 99LIMEN only                          | reviewer (requestor), Limen; study, patient         |
 * | review.comment-refused  | 110100 Application Activity             | E      | 4 (nothing was recorded)        | 99LIMEN only                          | reviewer (requestor), Limen; study, patient         |
 * | study.accessed          | 110103 DICOM Instances Accessed         | R      | 0                               | -                                     | reader (requestor), Limen; study, patient           |
 * | result.downloaded       | 110106 Export                           | R      | 0                               | -                                     | Limen (110153 Source), downloader (110152; requestor); study, patient |
 * | export.sending          | 110102 Begin Transferring DICOM Inst.   | E      | 0                               | -                                     | Limen (110153; requestor), destination (110152); study, patient |
 * | exported                | 110104 DICOM Instances Transferred      | R      | 0, 4 with a C-STORE warning     | -                                     | Limen (110153; requestor), destination (110152); study, patient |
 * | export.failed           | 110104 DICOM Instances Transferred      | R      | 4 (retried), 8 (given up)       | -                                     | Limen (110153; requestor), destination (110152); study, patient |
 * | export.retry-requested  | 110100 Application Activity             | E      | 0                               | 99LIMEN only                          | admin (requestor), Limen; study, patient            |
 * | token.created           | 110113 Security Alert                   | E      | 0                               | 110137 User Security Attributes Changed | issuer (requestor), Limen; the token (by id)      |
 * | token.revoked           | 110113 Security Alert                   | E      | 0                               | 110137 User Security Attributes Changed | revoker (requestor), Limen; the token (by id)     |
 * | session.opened          | 110114 User Authentication              | E      | 0                               | 110122 Login                          | person (requestor), Limen (authenticating node)     |
 * | session.closed          | 110114 User Authentication              | E      | 0                               | 110123 Logout                         | person (requestor), Limen                           |
 * | any other type          | 110100 Application Activity             | E      | 0                               | 99LIMEN only                          | actor (requestor), Limen; study, patient if named   |
 *
 * Every message ends with one more participant object: the trail's event itself (ID type
 * 99LIMEN audit-event, ID its seq), whose ParticipantObjectDetail holds its seq, hash and
 * prevHash and, as `event`, the canonical JSON its hash is the SHA-256 of, so a repository's copy
 * can be checked against the chain without Limen.
 */
import type { AuditEvent } from '../../storage/index.js';
import { EVENT_ID, EVENT_TYPE, ROLE_ID, type AuditCode, type EventAction, type EventOutcome } from './dicom-audit-codes.js';

/** How one Limen event type becomes an A.5.3 message. */
export interface AuditMessageSpec {
  eventID: AuditCode;
  action: EventAction | ((e: AuditEvent) => EventAction);
  outcome?: (e: AuditEvent) => EventOutcome;
  /** The DICOM EventTypeCode, when the message wants one. */
  eventType?: AuditCode;
  /** What the event means, in words: the 99LIMEN EventTypeCode's meaning. */
  meaning: string;
  /**
   * How the event's actor takes part: `source` sends the data (110153) and requests, `recipient`
   * receives it (110152) and requests, `requestor` asks without a role, `none` is Limen itself.
   */
  actor: 'source' | 'recipient' | 'requestor' | 'none';
  /** Limen's own role, when the message gives it one. */
  limenRole?: AuditCode;
  /** A configured destination (detail.destination) receives the data. */
  destination?: boolean;
  /** The API token the event is about (detail.tokenId) is a participant object. */
  token?: boolean;
  /** Why it failed, for EventOutcomeDescription. */
  why?: (e: AuditEvent) => string | undefined;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const own = (meaning: string, actor: AuditMessageSpec['actor'] = 'requestor', rest: Partial<AuditMessageSpec> = {}): AuditMessageSpec => ({ eventID: EVENT_ID.applicationActivity, action: 'E', meaning, actor, limenRole: ROLE_ID.application, ...rest });
const exporting = (meaning: string, eventID: AuditCode, action: EventAction, rest: Partial<AuditMessageSpec> = {}): AuditMessageSpec => ({ eventID, action, meaning, actor: 'none', limenRole: ROLE_ID.source, destination: true, ...rest });

/** The mapping table above, as data. */
export const AUDIT_MESSAGE_SPECS: Readonly<Record<string, AuditMessageSpec>> = {
  'gateway.started': { eventID: EVENT_ID.applicationActivity, action: 'E', eventType: EVENT_TYPE.applicationStart, meaning: 'gateway started', actor: 'none', limenRole: ROLE_ID.application },
  'association.accepted': { eventID: EVENT_ID.securityAlert, action: 'E', eventType: EVENT_TYPE.nodeAuthentication, meaning: 'DIMSE association accepted', actor: 'requestor' },
  'association.rejected': {
    eventID: EVENT_ID.securityAlert,
    action: 'E',
    outcome: () => '4',
    eventType: EVENT_TYPE.nodeAuthentication,
    meaning: 'DIMSE association rejected',
    actor: 'requestor',
    why: (e) => text(e.detail.reason) ?? text(e.detail.certificateError),
  },
  'association.released': own('DIMSE association released'),
  'association.aborted': own('DIMSE association aborted', 'requestor', { outcome: () => '4', why: (e) => [text(e.detail.reason), text(e.detail.initiator) && `by ${String(e.detail.initiator)}`].filter(Boolean).join(' ') || undefined }),
  'stow.request': { eventID: EVENT_ID.beginTransferring, action: 'E', meaning: 'STOW-RS request received', actor: 'source', limenRole: ROLE_ID.destination },
  'instance.stored': { eventID: EVENT_ID.instancesTransferred, action: (e) => (e.detail.duplicate === true ? 'U' : 'C'), meaning: 'instance de-identified and stored', actor: 'source', limenRole: ROLE_ID.destination },
  'instance.failed': {
    eventID: EVENT_ID.instancesTransferred,
    action: 'C',
    outcome: () => '4',
    meaning: 'instance refused or not stored',
    actor: 'source',
    limenRole: ROLE_ID.destination,
    why: (e) => text(e.detail.why) ?? text(e.detail.reason),
  },
  'instance.discarded': { eventID: EVENT_ID.instancesAccessed, action: 'D', meaning: 'stored instance discarded (blob missing or damaged)', actor: 'none' },
  'study.complete': own('study complete, queued for processing', 'none'),
  'processing.requested': own('processing requested again'),
  'processing.started': { eventID: EVENT_ID.instancesAccessed, action: 'R', meaning: 'segmentation started', actor: 'none' },
  'processing.completed': { eventID: EVENT_ID.instancesAccessed, action: 'C', meaning: 'segmentation and 3D models created, awaiting review', actor: 'none' },
  'processing.failed': { eventID: EVENT_ID.instancesAccessed, action: 'R', outcome: () => '8', meaning: 'segmentation failed', actor: 'none', why: (e) => text(e.detail.reason) },
  'processing.superseded': { eventID: EVENT_ID.instancesAccessed, action: 'D', meaning: 'result set aside: instances arrived during processing', actor: 'none' },
  'review.approved': own('result approved by the reviewer'),
  'review.rejected': own('result rejected by the reviewer'),
  'review.comment-refused': own('review comment refused: it named the patient; nothing recorded', 'requestor', { outcome: () => '4', why: () => 'the review comment named the patient; the decision was not recorded' }),
  'study.accessed': { eventID: EVENT_ID.instancesAccessed, action: 'R', meaning: 'study images or results read', actor: 'requestor' },
  'result.downloaded': { eventID: EVENT_ID.export, action: 'R', meaning: 'result (3D model) downloaded', actor: 'recipient', limenRole: ROLE_ID.source },
  'export.sending': exporting('re-identified SEG being sent to a destination', EVENT_ID.beginTransferring, 'E'),
  exported: exporting('re-identified SEG delivered', EVENT_ID.instancesTransferred, 'R', { outcome: (e) => (text(e.detail.warning) ? '4' : '0'), why: (e) => text(e.detail.warning) }),
  'export.failed': exporting('delivery attempt failed', EVENT_ID.instancesTransferred, 'R', { outcome: (e) => (e.detail.outcome === 'dead' ? '8' : '4'), why: (e) => text(e.detail.error) ?? text(e.detail.outcome) }),
  'export.retry-requested': own('delivery retry requested'),
  'token.created': { eventID: EVENT_ID.securityAlert, action: 'E', eventType: EVENT_TYPE.userSecurityAttributesChanged, meaning: 'API token created', actor: 'requestor', token: true },
  'token.revoked': { eventID: EVENT_ID.securityAlert, action: 'E', eventType: EVENT_TYPE.userSecurityAttributesChanged, meaning: 'API token revoked', actor: 'requestor', token: true },
  'session.opened': { eventID: EVENT_ID.userAuthentication, action: 'E', eventType: EVENT_TYPE.login, meaning: 'viewer session opened', actor: 'requestor' },
  'session.closed': { eventID: EVENT_ID.userAuthentication, action: 'E', eventType: EVENT_TYPE.logout, meaning: 'viewer session closed', actor: 'requestor' },
};

/** The spec for an event type; a type Limen does not know yet goes out as Application Activity under its own name. */
export function auditMessageSpec(type: string): AuditMessageSpec {
  return AUDIT_MESSAGE_SPECS[type] ?? own(type);
}
