/**
 * One audit event as one PS3.15 A.5 AuditMessage: every event type Limen appends has its mapping
 * (a type added later without one fails here), every message is valid against the A.5.1 schema
 * (jing), and each carries its chain link: the canonical JSON whose SHA-256 is the event's hash.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { AUDIT_MESSAGE_SPECS } from '../../../gateway/audit/dicom-audit-mapping.js';
import { dicomAuditMessage, type AuditMessageContext } from '../../../gateway/audit/dicom-audit-message.js';
import type { AuditEvent } from '../../../storage/index.js';
import { canonicalJSON } from '../../../storage/index.js';
import { PROJECT_ROOT } from '../../support/limen-cli.js';
import { requirePeers } from '../../support/peers.js';
import { jing } from './jing.js';

const STUDY = '2.25.219087653749128237410834792348712399';
const CONTEXT: AuditMessageContext = {
  aeTitle: 'LIMEN',
  auditSourceID: 'LIMEN',
  auditEnterpriseSiteID: 'RADIOLOGY',
  destinations: { pacs: { kind: 'dimse', aeTitle: 'PACS', host: '10.0.0.5' }, web: { kind: 'dicomweb', url: 'https://pacs.example/dicomweb' } },
};

/** Each type with the detail its code writes (gateway/, pipeline/, storage/). */
const SAMPLES: Record<string, { actor: string | null; study: boolean; detail: Record<string, unknown> }> = {
  'gateway.started': { actor: 'gateway', study: false, detail: { aeTitle: 'LIMEN', routes: {} } },
  'association.accepted': { actor: 'STORESCU', study: false, detail: { associationId: 'a1', callingAETitle: 'STORESCU', calledAETitle: 'LIMEN', remoteAddress: '127.0.0.1', transport: 'tcp', route: 'default' } },
  'association.rejected': { actor: null, study: false, detail: { associationId: 'a2', remoteAddress: '::1', transport: 'tcp', reason: 'calling-ae-not-recognized' } },
  'association.released': { actor: 'STORESCU', study: false, detail: { associationId: 'a1', callingAETitle: 'STORESCU', remoteAddress: '127.0.0.1', transport: 'tcp', stored: 3, failed: 0 } },
  'association.aborted': { actor: 'STORESCU', study: false, detail: { associationId: 'a3', callingAETitle: 'STORESCU', remoteAddress: 'modality.local', transport: 'tls', initiator: 'peer', reason: 'connection-lost', stored: 1, failed: 0 } },
  'stow.request': { actor: 'test-modality', study: false, detail: { requestId: 'r1', route: 'default', tokenId: 't1', role: 'modality', user: 'test-modality', remoteAddress: '127.0.0.1' } },
  'instance.stored': { actor: 'STORESCU', study: true, detail: { sopInstanceUID: '2.25.1', route: 'default', source: 'dimse', associationId: 'a1', duplicate: false } },
  'instance.failed': { actor: 'token:t1', study: false, detail: { route: 'default', source: 'stow', requestId: 'r1', reason: 'cannot-understand', why: 'not a DICOM data set: <no preamble> & "DICM"' } },
  'instance.discarded': { actor: null, study: true, detail: { sopInstanceUID: '2.25.2', reason: 'blob missing' } },
  'study.complete': { actor: 'completion', study: true, detail: { instanceCount: 3, route: 'default' } },
  'processing.requested': { actor: 'admin-user', study: true, detail: { model: null, jobId: 4 } },
  'processing.started': { actor: 'process', study: true, detail: { model: 'default', attempt: 1 } },
  'processing.completed': { actor: 'process', study: true, detail: { segSOPInstanceUID: '2.25.3', glbSha256: 'ab'.repeat(32) } },
  'processing.failed': { actor: 'process', study: true, detail: { reason: 'no CT series', code: 'no-volume', attempts: 1 } },
  'processing.superseded': { actor: 'process', study: true, detail: { processedInstances: 3, instancesNow: 4 } },
  'review.approved': { actor: 'reviewer-1', study: true, detail: { reviewId: 1 } },
  'review.rejected': { actor: 'reviewer-1', study: true, detail: { reviewId: 1 } },
  'review.comment-refused': { actor: 'reviewer-1', study: true, detail: { decision: 'reject', identifiers: ['patientName'] } },
  'study.accessed': { actor: 'reviewer-1', study: true, detail: { role: 'reviewer', tokenId: 't2', via: 'dicomweb' } },
  'result.downloaded': { actor: 'requester-1', study: true, detail: { name: 'model.glb', sha256: 'cd'.repeat(32) } },
  'export.sending': { actor: 'exporter', study: true, detail: { destination: 'pacs', transport: 'dimse', segSOPInstanceUID: '2.25.3', attempt: 1 } },
  exported: { actor: 'exporter', study: true, detail: { destination: 'web', transport: 'dicomweb', segSOPInstanceUID: '2.25.3', attempt: 1, warning: 'B000 coerced' } },
  'export.failed': { actor: 'exporter', study: true, detail: { destination: 'gone', transport: 'dimse', attempt: 3, outcome: 'dead', error: 'association rejected' } },
  'export.retry-requested': { actor: 'admin-user', study: true, detail: { jobId: 9, destination: 'pacs', attempts: 3 } },
  'token.created': { actor: 'cli', study: false, detail: { tokenId: 't3', role: 'auditor', user: null, ttlSeconds: 3600 } },
  'token.revoked': { actor: 'admin-user', study: false, detail: { tokenId: 't3' } },
  'session.opened': { actor: 'reviewer-1', study: false, detail: { sessionId: 's1', method: 'token', role: 'reviewer', tokenId: 't2' } },
  'session.closed': { actor: 'reviewer-1', study: false, detail: { sessionId: 's1', method: 'token', role: 'reviewer', tokenId: 't2' } },
  'something.new': { actor: 'someone', study: true, detail: {} },
};

function event(seq: number, type: string): AuditEvent {
  const s = SAMPLES[type];
  return { id: seq, seq, at: new Date(Date.UTC(2025, 0, 2, 3, 4, 5, seq)), type, actor: s.actor, studyInstanceUID: s.study ? STUDY : null, detail: s.detail, prevHash: String(seq - 1).padStart(64, '0'), hash: createHash('sha256').update(String(seq)).digest('hex'), seal: null };
}

/** The string literals the sources append as audit event types (`type: 'x.y'`), besides those built otherwise. */
function appendedTypes(): string[] {
  const found = new Set(['exported', 'review.approved', 'review.rejected', 'association.accepted', 'association.rejected', 'association.released', 'association.aborted']);
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) for (const m of readFileSync(path, 'utf8').matchAll(/\btype: '([a-z]+\.[a-z.-]+)'/g)) found.add(m[1]);
    }
  };
  for (const top of ['gateway', 'pipeline', 'storage']) walk(join(PROJECT_ROOT, top));
  // `type: 'session.opened' | 'session.closed'` (a union) names the second after the bar.
  found.add('session.closed');
  return [...found].sort();
}

describe('DICOM audit message (PS3.15 A.5)', function () {
  this.timeout(30_000);

  it('maps every event type the sources append (a new type needs its row in dicom-audit-mapping.ts)', () => {
    const unmapped = appendedTypes().filter((t) => !Object.hasOwn(AUDIT_MESSAGE_SPECS, t));
    expect(unmapped, `in ${relative(PROJECT_ROOT, join(PROJECT_ROOT, 'gateway/audit/dicom-audit-mapping.ts'))}`).to.deep.equal([]);
    for (const t of Object.keys(AUDIT_MESSAGE_SPECS)) expect(SAMPLES, `a sample of ${t}`).to.have.property(t);
  });

  it('gives every type a message valid against the A.5.1 schema (jing), with its EventID and chain link', async function () {
    requirePeers(this, 'jing');
    const dir = mkdtempSync(join(tmpdir(), 'limen-audit-msg-'));
    try {
      const types = Object.keys(SAMPLES);
      const files = types.map((type, i) => {
        const file = join(dir, `${i + 1}.xml`);
        writeFileSync(file, dicomAuditMessage(event(i + 1, type), CONTEXT, { patientID: 'LIMEN-7Q2K9' }));
        return file;
      });
      const r = await jing(files);
      expect(r.errors, r.errors.join('\n')).to.deep.equal([]);
      expect(r.code).to.equal(0);
      types.forEach((type, i) => {
        const text = readFileSync(files[i], 'utf8');
        const spec = AUDIT_MESSAGE_SPECS[type];
        expect(text, type).to.include(`<EventID csd-code="${spec?.eventID.code ?? '110100'}" codeSystemName="DCM"`);
        expect(text, type).to.include(`<EventTypeCode csd-code="${type}" codeSystemName="99LIMEN"`);
        const pairs = Object.fromEntries([...text.matchAll(/<ParticipantObjectDetail type="(\w+)" value="([^"]*)"\/>/g)].map((m) => [m[1], Buffer.from(m[2], 'base64').toString('utf8')]));
        const e = event(i + 1, type);
        expect(pairs.seq).to.equal(String(i + 1));
        expect(pairs.hash).to.equal(e.hash);
        expect(pairs.event).to.equal(canonicalJSON({ seq: e.seq, at: e.at.getTime(), type, actor: e.actor, studyInstanceUID: e.studyInstanceUID, detail: e.detail, prevHash: e.prevHash }));
        expect(text.includes(`ParticipantObjectID="${STUDY}"`), `${type} names its study`).to.equal(SAMPLES[type].study);
        expect(text.includes('ParticipantObjectID="LIMEN-7Q2K9"'), `${type} names the pseudonymous patient`).to.equal(SAMPLES[type].study);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes the time in UTC with its zone, the outcome and why, escaped', () => {
    const text = dicomAuditMessage(event(8, 'instance.failed'), CONTEXT);
    expect(text).to.match(/EventDateTime="2025-01-02T03:04:05\.008Z"/);
    expect(text).to.include('EventOutcomeIndicator="4"');
    expect(text).to.include('<EventOutcomeDescription>not a DICOM data set: &lt;no preamble&gt; &amp; "DICM"</EventOutcomeDescription>');
    expect(text).to.include('<RoleIDCode csd-code="110153" codeSystemName="DCM" originalText="Source Role ID"/>');
  });

  it('names the caller of an association by AE title and address, and the destination of an export from the configuration', () => {
    const accepted = dicomAuditMessage(event(2, 'association.accepted'), CONTEXT);
    expect(accepted).to.include('UserID="STORESCU" AlternativeUserID="AETITLES=STORESCU" UserIsRequestor="true" NetworkAccessPointID="127.0.0.1" NetworkAccessPointTypeCode="2"');
    expect(accepted).to.include('<ActiveParticipant UserID="LIMEN" AlternativeUserID="AETITLES=LIMEN" UserIsRequestor="false"');
    const rejected = dicomAuditMessage(event(3, 'association.rejected'), CONTEXT);
    expect(rejected, 'known by its address without an AE title').to.include('UserID="::1" UserIsRequestor="true" NetworkAccessPointID="::1"');
    const sending = dicomAuditMessage(event(21, 'export.sending'), CONTEXT);
    expect(sending).to.include('UserID="PACS" AlternativeUserID="AETITLES=PACS" UserName="pacs" UserIsRequestor="false" NetworkAccessPointID="10.0.0.5"');
    const exported = dicomAuditMessage(event(22, 'exported'), CONTEXT);
    expect(exported).to.include('UserID="https://pacs.example/dicomweb" UserName="web" UserIsRequestor="false" NetworkAccessPointID="pacs.example" NetworkAccessPointTypeCode="1"');
    const failed = dicomAuditMessage(event(23, 'export.failed'), CONTEXT);
    expect(failed, 'a destination no longer configured, by name').to.include('<ActiveParticipant UserID="gone" UserIsRequestor="false">');
    expect(failed).to.include('EventOutcomeIndicator="8"');
    expect(dicomAuditMessage(event(1, 'gateway.started'), CONTEXT)).to.include('<AuditSourceIdentification AuditEnterpriseSiteID="RADIOLOGY" AuditSourceID="LIMEN">');
  });

  it('leaves the patient out when the study row is gone (expired or erased), and keeps the study', () => {
    const text = dicomAuditMessage(event(7, 'instance.stored'), CONTEXT);
    expect(text).to.include(`ParticipantObjectID="${STUDY}"`);
    expect(text).to.not.include('ParticipantObjectTypeCodeRole="1"');
  });
});
