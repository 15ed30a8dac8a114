/**
 * `limen audit export` on a real trail: ct-fakephi sent to an in-process gateway by DIMSE
 * (DCMTK's storescu, a caller it knows and one it refuses) and STOW-RS (a good request and a broken
 * instance), the study read and a token revoked; then, with the gateway stopped, the CLI writes
 * the trail as PS3.15 A.5 messages. Every file is valid against the A.5.1 schema (jing), names
 * its event's seq and hash as the chain has them, and holds none of the fixture's PHI.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanResidualPhi } from '../../../anonymizer/index.js';
import type { AuditEvent } from '../../../storage/index.js';
import { multipartRelated } from '../../support/curl.js';
import { dcmtk } from '../../support/dcmtk.js';
import { CT_FAKEPHI, CT_FAKEPHI_FILES, CT_FAKEPHI_UIDS, CT_FAKEPHI_VALUES } from '../../support/fakephi.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { runLimen } from '../../support/limen-cli.js';
import { requirePeers } from '../../support/peers.js';
import { until } from '../../support/wait.js';
import { jing } from './jing.js';

const CONFIG = `
remoteAEs:
  - aeTitle: STORESCU
    route: default
routes:
  default:
    stableSeconds: 1
worker:
  enabled: false
`;

/** seq -> the message's ParticipantObjectDetail values, decoded. */
function chainLink(xml: string): Record<string, string> {
  return Object.fromEntries([...xml.matchAll(/<ParticipantObjectDetail type="(\w+)" value="([^"]*)"\/>/g)].map((m) => [m[1], Buffer.from(m[2], 'base64').toString('utf8')]));
}

describe('limen audit export: a real trail as DICOM audit messages', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let work: string;
  let env: Record<string, string>;
  let events: AuditEvent[];
  let study: string;

  before(async function () {
    requirePeers(this, 'dcmtk', 'jing');
    work = mkdtempSync(join(tmpdir(), 'limen-audit-export-'));
    gw = await startTestGateway(CONFIG);
    const modality = await gw.storage.createToken({ role: 'modality', user: 'test-modality', ttlSeconds: 3600 });
    const admin = (await gw.storage.createToken({ role: 'admin', user: 'test-admin', ttlSeconds: 3600 })).token;

    const port = String(gw.dimse.port);
    const sent = await dcmtk('storescu', ['-aet', 'STORESCU', '-aec', 'LIMEN', '127.0.0.1', port, ...CT_FAKEPHI_FILES.slice(0, 3)]);
    expect(sent.code, sent.out).to.equal(0);
    await dcmtk('storescu', ['-aet', 'INTRUDER', '-aec', 'LIMEN', '127.0.0.1', port, CT_FAKEPHI_FILES[3]]);

    const stow = (parts: Uint8Array[]) => {
      const { body, contentType } = multipartRelated(parts);
      return fetch(`${gw.base}/dicomweb/studies`, { method: 'POST', body: new Uint8Array(body), headers: { authorization: `Bearer ${modality.token}`, 'content-type': contentType, accept: 'application/dicom+json' } });
    };
    expect((await stow([readFileSync(CT_FAKEPHI_FILES[4]), readFileSync(CT_FAKEPHI_FILES[5])])).status).to.equal(200);
    // A data set cut short: refused at the edge, an instance.failed event.
    await stow([readFileSync(CT_FAKEPHI_FILES[6]).subarray(0, 400)]);

    const complete = await until(async () => (await gw.storage.audit.list({ type: 'study.complete' }))[0], 15_000, 'study.complete');
    study = complete.studyInstanceUID!;
    const read = await fetch(`${gw.base}/dicomweb/studies/${study}/metadata`, { headers: { authorization: `Bearer ${admin}` } });
    expect(read.status).to.equal(200);
    await read.arrayBuffer();
    // A reviewer signs in to the viewer over a socket: User Authentication names the node.
    const reviewer = (await gw.storage.createToken({ role: 'reviewer', user: 'dr-audit', ttlSeconds: 3600 })).token;
    expect((await fetch(`${gw.base}/api/v1/session`, { method: 'POST', headers: { authorization: `Bearer ${reviewer}` } })).status).to.equal(201);
    await gw.storage.tokens.revoke(modality.id);
    events = await gw.storage.audit.list({ limit: 10_000 });
    await gw.stop();
    env = { LIMEN_CONFIG: join(gw.dataDir, 'limen.yaml'), LIMEN_DATA_DIR: join(gw.dataDir, 'var') };
  });

  after(() => {
    if (gw) rmSync(gw.dataDir, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('writes one valid message per event, <seq>.xml, each with its seq and hash as the chain has them, and no PHI', async () => {
    const types = new Set(events.map((e) => e.type));
    for (const t of ['gateway.started', 'token.created', 'association.accepted', 'association.released', 'association.rejected', 'instance.stored', 'stow.request', 'instance.failed', 'study.complete', 'study.accessed', 'session.opened', 'token.revoked']) {
      expect(types, `the trail holds ${t}`).to.include(t);
    }
    const out = join(work, 'all');
    const r = await runLimen(['audit', 'export', '--out', out, '--site', 'RADIOLOGY'], { env });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(`wrote ${events.length} audit messages (seq 1 to ${events.length}) to ${out}\n`);
    const files = readdirSync(out).sort((a, b) => parseInt(a) - parseInt(b));
    expect(files).to.deep.equal(events.map((e) => `${e.seq}.xml`));

    const v = await jing(files.map((f) => join(out, f)));
    expect(v.errors, v.errors.join('\n')).to.deep.equal([]);
    expect(v.code).to.equal(0);

    for (const e of events) {
      const xml = readFileSync(join(out, `${e.seq}.xml`), 'utf8');
      expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<AuditMessage>'), `${e.seq}.xml is a whole document`).to.equal(true);
      const link = chainLink(xml);
      expect(link.seq).to.equal(String(e.seq));
      expect(link.hash).to.equal(e.hash);
      expect(link.prevHash).to.equal(e.prevHash);
      expect(createHash('sha256').update(link.event, 'utf8').digest('hex'), `${e.seq}: the event JSON hashes to its hash`).to.equal(e.hash);
      expect(xml).to.include(`<EventTypeCode csd-code="${e.type}" codeSystemName="99LIMEN"`);
      expect(xml).to.include('AuditEnterpriseSiteID="RADIOLOGY" AuditSourceID="LIMEN"');
    }

    const stored = events.filter((e) => e.type === 'instance.stored');
    expect(stored).to.have.length(5);
    for (const e of stored) {
      const xml = readFileSync(join(out, `${e.seq}.xml`), 'utf8');
      expect(xml).to.include('<EventID csd-code="110104" codeSystemName="DCM" originalText="DICOM Instances Transferred"/>');
      expect(xml).to.include(`ParticipantObjectID="${study}" ParticipantObjectTypeCode="2" ParticipantObjectTypeCodeRole="3"`);
      expect(xml, 'the pseudonymous patient').to.match(/ParticipantObjectID="LIMEN-[^"]+" ParticipantObjectTypeCode="1" ParticipantObjectTypeCodeRole="1"/);
    }
    const dimse = readFileSync(join(out, `${stored[0].seq}.xml`), 'utf8');
    expect(dimse).to.include('UserID="STORESCU" AlternativeUserID="AETITLES=STORESCU" UserIsRequestor="true"');

    const login = readFileSync(join(out, `${events.find((e) => e.type === 'session.opened')!.seq}.xml`), 'utf8');
    expect(login).to.include('<EventID csd-code="110114" codeSystemName="DCM" originalText="User Authentication"/>');
    expect(login).to.match(/UserID="dr-audit" UserIsRequestor="true" NetworkAccessPointID="(::ffff:)?127\.0\.0\.1" NetworkAccessPointTypeCode="2"/);

    const sources = files.map((f) => ({ name: f, bytes: readFileSync(join(out, f)) }));
    expect(scanResidualPhi(sources, [...CT_FAKEPHI_VALUES, ...Object.values(CT_FAKEPHI_UIDS), CT_FAKEPHI.surname])).to.deep.equal([]);
  });

  it('exports one study, one type, or what came after a seq', async () => {
    const out = join(work, 'filtered');
    const stored = events.filter((e) => e.type === 'instance.stored' && e.studyInstanceUID === study).map((e) => `${e.seq}.xml`);
    const r = await runLimen(['audit', 'export', '--out', out, '--study', study, '--type', 'instance.stored'], { env });
    expect(r.code, r.stderr).to.equal(0);
    expect(readdirSync(out).sort()).to.deep.equal(stored.sort());

    const later = join(work, 'later');
    const cut = events.length - 3;
    const r2 = await runLimen(['audit', 'export', '--out', later, '--after', String(cut)], { env });
    expect(r2.code, r2.stderr).to.equal(0);
    expect(r2.stdout).to.include(`wrote 3 audit messages (seq ${cut + 1} to ${events.length})`);
    const none = await runLimen(['audit', 'export', '--out', later, '--after', String(events.length)], { env });
    expect(none.stdout).to.equal(`no audit events to export after seq ${events.length}\n`);
  });

  it('refuses bad arguments with exit 2 and says which', async () => {
    const file = join(work, 'a-file');
    writeFileSync(file, '');
    const cases: Array<[string[], string]> = [
      [[], '--out <dir> is required'],
      [['--out', join(work, 'x'), '--study', 'not-a-uid'], '--study takes a Study Instance UID'],
      [['--out', join(work, 'x'), '--type', 'Instance Stored'], '--type takes an event type'],
      [['--out', join(work, 'x'), '--after=-1'], '--after takes a seq'],
      [['--out', join(work, 'x'), '--after', '1.5'], '--after takes a seq'],
      [['--out', file], 'is not a directory'],
      [['--out', join(work, 'x'), 'surplus'], "unexpected argument 'surplus'"],
    ];
    for (const [args, message] of cases) {
      const r = await runLimen(['audit', 'export', ...args], { env });
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stderr).to.include(message);
    }
    const nodb = await runLimen(['audit', 'export', '--out', join(work, 'y')], { env: { LIMEN_DATA_DIR: join(work, 'empty') } });
    expect(nodb.code).to.equal(2);
    expect(nodb.stderr).to.include('limen audit export: no Limen database at');
  });
});
