/**
 * One stored audit event as one DICOM PS3.15 A.5 AuditMessage (the A.5.1 schema, the A.5.2
 * conventions, the A.5.3 message the mapping in `dicom-audit-mapping.ts` names), for an IHE ATNA
 * Audit Record Repository. Pure: what goes in is the event, the study row's de-identified facts and
 * the configuration; nothing identifying can come from anywhere else, and none is added.
 */
import { isIP } from 'node:net';
import { canonicalJSON, type AuditEvent } from '../../storage/index.js';
import { AUDIT_SOURCE_TYPE_APPLICATION_SERVER, OBJECT_ID_TYPE, OBJECT_ROLE, OBJECT_TYPE, ROLE_ID, limenEventType, type AuditCode, type EventAction } from './dicom-audit-codes.js';
import { auditMessageSpec, type AuditMessageSpec } from './dicom-audit-mapping.js';
import { xml, xmlDocument, type XmlElement } from './xml-element.js';

/** A configured destination, as the participant that receives an export. */
export type AuditDestination = { kind: 'dimse'; aeTitle: string; host: string } | { kind: 'dicomweb'; url: string };

/** What the messages say about Limen itself, from the configuration. */
export interface AuditMessageContext {
  /** Limen's AE title (dimse.aeTitle): Limen's UserID, and AETITLES= in its AlternativeUserID. */
  aeTitle: string;
  /** AuditSourceID; the AE title unless configured otherwise. */
  auditSourceID: string;
  /** AuditEnterpriseSiteID, when the hospital names one. */
  auditEnterpriseSiteID?: string;
  /** The configured destinations by name, for export events. */
  destinations?: Readonly<Record<string, AuditDestination>>;
}

/** What the study row holds of the patient: the pseudonymous Patient ID the anonymizer wrote. */
export interface AuditStudyFacts {
  patientID?: string;
}

/** The AuditMessage XML document for one event. */
export function dicomAuditMessage(event: AuditEvent, context: AuditMessageContext, study?: AuditStudyFacts): string {
  const spec = auditMessageSpec(event.type);
  const actor = actorParticipant(event, spec);
  const destination = spec.destination ? destinationParticipant(event, context) : undefined;
  return xmlDocument(
    xml(
      'AuditMessage',
      {},
      eventIdentification(event, spec),
      ...[limenParticipant(context, spec, !actor?.requestor), actor?.element, destination].filter((p): p is XmlElement => p !== undefined),
      xml('AuditSourceIdentification', { AuditEnterpriseSiteID: context.auditEnterpriseSiteID, AuditSourceID: context.auditSourceID }, xml('AuditSourceTypeCode', { 'csd-code': AUDIT_SOURCE_TYPE_APPLICATION_SERVER })),
      ...studyObjects(event, study),
      spec.token && typeof event.detail.tokenId === 'string' && tokenObject(event.detail.tokenId),
      chainObject(event),
    ),
  );
}

function eventIdentification(event: AuditEvent, spec: AuditMessageSpec): XmlElement {
  const action: EventAction = typeof spec.action === 'function' ? spec.action(event) : spec.action;
  const outcome = spec.outcome?.(event) ?? '0';
  const why = outcome === '0' ? undefined : spec.why?.(event);
  return xml(
    'EventIdentification',
    // A.5.2.5: UTC, with its zone.
    { EventActionCode: action, EventDateTime: event.at.toISOString(), EventOutcomeIndicator: outcome },
    coded('EventID', spec.eventID),
    spec.eventType && coded('EventTypeCode', spec.eventType),
    coded('EventTypeCode', limenEventType(event.type, spec.meaning)),
    why !== undefined && xml('EventOutcomeDescription', {}, why),
  );
}

/** Limen, the application: its AE title as UserID and, per A.5.2.2, as AETITLES= in AlternativeUserID. */
function limenParticipant(context: AuditMessageContext, spec: AuditMessageSpec, requestor: boolean): XmlElement {
  return xml('ActiveParticipant', { UserID: context.aeTitle, AlternativeUserID: `AETITLES=${context.aeTitle}`, UserIsRequestor: String(requestor) }, spec.limenRole && coded('RoleIDCode', spec.limenRole));
}

/**
 * The event's actor: a calling AE title, a person's user id or `token:<id>`, as the event wrote it.
 * An association's caller with no AE title is known by its address.
 */
function actorParticipant(event: AuditEvent, spec: AuditMessageSpec): { element: XmlElement; requestor: boolean } | undefined {
  if (spec.actor === 'none') return undefined;
  const address = stringOf(event.detail.remoteAddress);
  const userID = event.actor ?? address;
  if (userID === undefined) return undefined;
  const aeTitle = event.type.startsWith('association.') ? stringOf(event.detail.callingAETitle) : event.detail.source === 'dimse' ? (event.actor ?? undefined) : undefined;
  const role = spec.actor === 'source' ? ROLE_ID.source : spec.actor === 'recipient' ? ROLE_ID.destination : undefined;
  const element = xml(
    'ActiveParticipant',
    { UserID: userID, AlternativeUserID: aeTitle && `AETITLES=${aeTitle}`, UserIsRequestor: 'true', ...networkAccessPoint(address) },
    role && coded('RoleIDCode', role),
  );
  return { element, requestor: true };
}

/** The configured destination an export went to; by name alone once the configuration no longer lists it. */
function destinationParticipant(event: AuditEvent, context: AuditMessageContext): XmlElement | undefined {
  const name = stringOf(event.detail.destination);
  if (name === undefined) return undefined;
  const d = context.destinations?.[name];
  const role = coded('RoleIDCode', ROLE_ID.destination);
  if (d?.kind === 'dimse') return xml('ActiveParticipant', { UserID: d.aeTitle, AlternativeUserID: `AETITLES=${d.aeTitle}`, UserName: name, UserIsRequestor: 'false', ...networkAccessPoint(d.host) }, role);
  if (d?.kind === 'dicomweb') return xml('ActiveParticipant', { UserID: withoutQuery(d.url), UserName: name, UserIsRequestor: 'false', ...networkAccessPoint(hostOf(d.url)) }, role);
  return xml('ActiveParticipant', { UserID: name, UserIsRequestor: 'false' }, role);
}

/**
 * The study (A.5.3: a System Object in the Report role, its Study Instance UID) and its patient
 * (a Person in the Patient role, by Patient Number). Both are Limen's pseudonyms: the UID the
 * anonymizer made, and the de-identified Patient ID kept on the study row. The schema wants a
 * ParticipantObjectName (or a query) on each; Limen knows neither by a name, so the name repeats the
 * pseudonymous ID rather than carry a description or a patient name that could identify.
 */
function studyObjects(event: AuditEvent, study: AuditStudyFacts | undefined): XmlElement[] {
  const uid = event.studyInstanceUID;
  if (uid === null) return [];
  const objects = [participantObject({ ParticipantObjectID: uid, ParticipantObjectTypeCode: OBJECT_TYPE.systemObject, ParticipantObjectTypeCodeRole: OBJECT_ROLE.report }, OBJECT_ID_TYPE.studyInstanceUID, uid)];
  const patientID = study?.patientID?.trim();
  if (patientID) objects.push(participantObject({ ParticipantObjectID: patientID, ParticipantObjectTypeCode: OBJECT_TYPE.person, ParticipantObjectTypeCodeRole: OBJECT_ROLE.patient }, OBJECT_ID_TYPE.patientNumber, patientID));
  return objects;
}

/** The API token a token event is about, by its id (never its secret). */
function tokenObject(tokenId: string): XmlElement {
  return participantObject({ ParticipantObjectID: tokenId, ParticipantObjectTypeCode: OBJECT_TYPE.systemObject, ParticipantObjectTypeCodeRole: OBJECT_ROLE.securityUserEntity }, OBJECT_ID_TYPE.apiToken, `token:${tokenId}`);
}

/**
 * The trail's event itself. `event` is the canonical JSON Limen hashed (storage/audit.ts,
 * `eventHash`): its SHA-256 is `hash`, and `prevHash` links it to the event before, so a copy
 * in a repository is checked against the chain (or a head kept elsewhere) without Limen.
 */
function chainObject(event: AuditEvent): XmlElement {
  const { seq, type, actor, studyInstanceUID, detail, prevHash, hash } = event;
  const hashed = canonicalJSON({ seq, at: event.at.getTime(), type, actor, studyInstanceUID, detail, prevHash });
  const pairs: Array<[string, string]> = [
    ['seq', String(seq)],
    ['hash', hash],
    ['prevHash', prevHash],
    ['sealed', String(event.seal !== null)],
    ['event', hashed],
  ];
  return participantObject(
    { ParticipantObjectID: String(seq), ParticipantObjectTypeCode: OBJECT_TYPE.systemObject, ParticipantObjectTypeCodeRole: OBJECT_ROLE.securityResource },
    OBJECT_ID_TYPE.auditEvent,
    'Limen audit trail',
    // A.5.1: every ValuePair value is base64, so the JSON's markup and any byte travel unchanged.
    pairs.map(([type, value]) => xml('ParticipantObjectDetail', { type, value: Buffer.from(value, 'utf8').toString('base64') })),
  );
}

function participantObject(attributes: Record<string, string>, idType: AuditCode, name: string, details: XmlElement[] = []): XmlElement {
  return xml('ParticipantObjectIdentification', attributes, coded('ParticipantObjectIDTypeCode', idType), xml('ParticipantObjectName', {}, name), ...details);
}

function coded(element: string, code: AuditCode): XmlElement {
  return xml(element, { 'csd-code': code.code, codeSystemName: code.scheme, originalText: code.meaning });
}

/** NetworkAccessPointID and its type: 2 for an IP address, 1 for a machine name. */
function networkAccessPoint(address: string | undefined): Record<string, string> {
  if (address === undefined) return {};
  return { NetworkAccessPointID: address, NetworkAccessPointTypeCode: isIP(address) ? '2' : '1' };
}

/** The URL without its query or fragment: a key some services take there stays out of the trail's copies. */
function withoutQuery(url: string): string {
  try {
    const u = new URL(url);
    u.search = '';
    u.hash = '';
    return u.toString();
  } catch {
    return url.replace(/[?#].*$/, '');
  }
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1') || undefined;
  } catch {
    return undefined;
  }
}

function stringOf(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
