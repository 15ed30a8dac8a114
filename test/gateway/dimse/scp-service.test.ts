/**
 * The DIMSE SCP against real DCMTK peers (echoscu, storescu, storescp as a reference
 * receiver) and a hand-written peer for what DCMTK will not send.
 */
import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DimseScpService, StorageSopClass, TransferSyntax } from '../../../gateway/dimse/index.js';
import { ReceiveMemory } from '../../../gateway/ingest/index.js';
import { silentLogger } from '../../../gateway/log/index.js';
import { MetricsRegistry } from '../../../gateway/metrics/index.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../../../anonymizer/index.js';
import { requirePeers } from '../../support/peers.js';
import { readPart10, RecordingIngest, runTool, startScp } from './helpers.js';
import {
  acceptedContexts,
  announcedMaxPdu,
  associatedForStoreAndEcho,
  associateRq,
  cEchoRq,
  commandElement,
  commandSet,
  cStoreRq,
  nextAnswers,
  pData,
  RawPeer,
  roleSelection,
  roleSelections,
  TINY_DATA_SET,
  userItem,
  type AssociateRqOptions,
  type RawContext,
} from './raw-pdu.js';

const CT_DIR = 'test/fixtures/ct-fakephi/dicom';
const CORPUS = 'test/fixtures/pydicom-corpus/test_files';
const VERIFICATION = '1.2.840.10008.1.1';

function echo(port: string, calling = 'MODALITY', called = 'LIMEN') {
  return runTool('echoscu', ['-v', '-aet', calling, '-aec', called, '127.0.0.1', port]);
}

/** Statuses and error comments of each C-STORE response, from storescu's debug output. */
function storeResponses(output: string): Array<{ status: string; comment?: string }> {
  const responses: Array<{ status: string; comment?: string }> = [];
  for (const line of output.split('\n')) {
    const status = /DIMSE Status\s+:\s+(0x[0-9a-f]{4})/i.exec(line);
    if (status) responses.push({ status: status[1].toLowerCase() });
    const comment = /\(0000,0902\) LO \[(.*?)\]/.exec(line);
    if (comment && responses.length > 0) responses[responses.length - 1].comment = comment[1];
  }
  return responses;
}

async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('gateway/dimse DimseScpService with DCMTK', function () {
  let ctx: Awaited<ReturnType<typeof startScp>>;

  before(async function () {
    requirePeers(this, 'dcmtk');
    ctx = await startScp();
  });
  after(async () => {
    await ctx?.scp.stop();
  });

  it('binds only the configured host and reports the bound port', () => {
    expect(ctx.scp.status).to.equal('running');
    expect(ctx.scp.address?.host).to.equal('127.0.0.1');
    expect(ctx.portNumber).to.be.greaterThan(0);
  });

  it('answers C-ECHO from a known caller', async () => {
    const r = await echo(ctx.port);
    expect(r.status, r.output).to.equal(0);
    expect(r.output).to.contain('Received Echo Response (Success)');
    const accepted = ctx.events.filter((e) => e.type === 'association-accepted');
    expect(accepted.at(-1)).to.include({ callingAETitle: 'MODALITY', calledAETitle: 'LIMEN', route: 'ct-route', remoteAddress: '127.0.0.1' });
  });

  it('rejects a wrong called AE title: permanent, service-user, reason 7', async () => {
    const r = await echo(ctx.port, 'MODALITY', 'NOTLIMEN');
    expect(r.status).to.not.equal(0);
    expect(r.output).to.contain('Result: Rejected Permanent, Source: Service User');
    expect(r.output).to.contain('Reason: Called AE Title Not Recognized');
    expect(ctx.events.at(-1)).to.include({ type: 'association-rejected', reason: 'called-ae-not-recognized', calledAETitle: 'NOTLIMEN' });
  });

  it('rejects an unknown calling AE title: permanent, service-user, reason 3', async () => {
    const r = await echo(ctx.port, 'STRANGER');
    expect(r.status).to.not.equal(0);
    expect(r.output).to.contain('Result: Rejected Permanent, Source: Service User');
    expect(r.output).to.contain('Reason: Calling AE Title Not Recognized');
    expect(ctx.events.at(-1)).to.include({ type: 'association-rejected', reason: 'calling-ae-not-recognized', callingAETitle: 'STRANGER' });
  });

  it('rejects a caller from an address it is not allowed from as an unrecognized calling AE', async () => {
    const r = await echo(ctx.port, 'FARAWAY');
    expect(r.status).to.not.equal(0);
    expect(r.output).to.contain('Result: Rejected Permanent, Source: Service User');
    expect(r.output).to.contain('Reason: Calling AE Title Not Recognized');
    expect(ctx.events.at(-1)).to.include({ type: 'association-rejected', reason: 'address-not-allowed' });
  });

  it('rejects another application context (permanent, service-user, 2) and a protocol version without bit 0 (permanent, ACSE, 2)', async () => {
    const cases: Array<[{ protocolVersion?: number; applicationContext?: string }, number[], string]> = [
      [{ applicationContext: '1.2.840.10008.3.1.1.2' }, [1, 1, 2], 'application-context-not-supported'],
      [{ protocolVersion: 2 }, [1, 2, 2], 'protocol-version-not-supported'],
      // Bit 0 set with other bits: a version 1 receiver tests bit 0 only.
      [{ protocolVersion: 3 }, [], ''],
    ];
    for (const [header, fields, reason] of cases) {
      const peer = await RawPeer.open(ctx.portNumber);
      peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [TransferSyntax.ImplicitVRLittleEndian] }], 16384, header));
      const answer = (await peer.next())!;
      if (fields.length === 0) {
        expect(answer.type, JSON.stringify(header)).to.equal(0x02);
        peer.send(Buffer.from([0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0]));
        expect((await peer.next())?.type).to.equal(0x06);
      } else {
        expect(answer.type, JSON.stringify(header)).to.equal(0x03);
        expect([...answer.body.subarray(1, 4)], JSON.stringify(header)).to.deep.equal(fields);
        expect(ctx.events.at(-1)).to.include({ type: 'association-rejected', reason });
      }
      await peer.waitClosed();
    }
  });

  it('refuses a malformed A-ASSOCIATE-RQ (a context ID repeated or even, a context without exactly one abstract syntax, no context, no Maximum Length) with an A-ASSOCIATE-RJ (permanent, ACSE, no reason given), logs and reports it with its reason, and stays up', async () => {
    const ct = (id: number): RawContext => ({ id, abstractSyntax: StorageSopClass.CTImage, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] });
    const verification = (id: number): RawContext => ({ id, abstractSyntax: VERIFICATION, transferSyntaxes: [TransferSyntax.ImplicitVRLittleEndian] });
    const cases: Array<[string, RawContext[], AssociateRqOptions]> = [
      // Was accepted as {1: accepted, 3: result 4}: an ID the requestor never proposed (PS3.8 9.3.3.2).
      ['presentation-context-id-duplicated', [ct(1), verification(1)], {}],
      ['presentation-context-id-invalid', [ct(1), verification(2)], {}],
      // Was accepted as {1, 3, 5}: the library made the second Abstract Syntax a context under an ID never proposed.
      ['abstract-syntax-not-one', [ct(1), { ...verification(3), abstractSyntaxes: [VERIFICATION, VERIFICATION] }], {}],
      // Was accepted as {1} alone: the library dropped the empty context, which went unanswered.
      ['abstract-syntax-not-one', [ct(1), { ...verification(3), abstractSyntaxes: [], transferSyntaxes: [] }], {}],
      ['no-presentation-context', [], {}],
      ['maximum-length-missing', [verification(1)], { userInformation: [userItem(0x52, Buffer.from('1.2.3.4'))] }],
      ['maximum-length-missing', [verification(1)], { userInformation: null }],
    ];
    for (const [reason, contexts, options] of cases) {
      const peer = await RawPeer.open(ctx.portNumber);
      peer.send(associateRq('LIMEN', 'MODALITY', contexts, 16384, options));
      const answer = (await peer.next())!;
      expect(answer.type, reason).to.equal(0x03);
      expect([...answer.body.subarray(1, 4)], reason).to.deep.equal([1, 2, 1]);
      await peer.waitClosed();
      expect(ctx.events.at(-1)).to.include({ type: 'association-rejected', reason, callingAETitle: 'MODALITY', calledAETitle: 'LIMEN' });
      const line = ctx.logs().filter((l) => l.includes('dimse.association.rejected')).at(-1);
      expect(JSON.parse(line!), reason).to.include({ reason, result: 1, source: 2, code: 1 });
    }
    expect(ctx.scp.status).to.equal('running');
    expect((await echo(ctx.port)).status).to.equal(0);
  });

  it('rejects (1, user-rejection) the contexts of a storage SOP class whose requestor proposes itself as SCP only, turning the role down, and accepts those where it is SCU (PS3.7 D.3.3.4, Table D.3-11)', async () => {
    const peer = await RawPeer.open(ctx.portNumber);
    const explicit = [TransferSyntax.ExplicitVRLittleEndian];
    peer.send(
      associateRq(
        'LIMEN',
        'MODALITY',
        [
          { id: 1, abstractSyntax: StorageSopClass.CTImage, transferSyntaxes: explicit },
          { id: 3, abstractSyntax: StorageSopClass.EnhancedCTImage, transferSyntaxes: explicit },
          { id: 5, abstractSyntax: StorageSopClass.EnhancedCTImage, transferSyntaxes: explicit },
          { id: 7, abstractSyntax: VERIFICATION, transferSyntaxes: [TransferSyntax.ImplicitVRLittleEndian] },
        ],
        16384,
        { extraUserItems: [roleSelection(StorageSopClass.CTImage, 1, 1), roleSelection(StorageSopClass.EnhancedCTImage, 0, 1)] },
      ),
    );
    const ac = (await peer.next())!;
    expect(ac.type).to.equal(0x02);
    const results = acceptedContexts(ac.body);
    expect([...results].map(([id, r]) => [id, r.result])).to.deep.equal([
      [1, 0],
      [3, 1],
      [5, 1],
      [7, 0],
    ]);
    // One reply per role selection offered: SCU accepted where proposed, SCP turned down.
    expect(roleSelections(ac.body)).to.deep.equal([
      { sopClassUID: StorageSopClass.CTImage, scu: 1, scp: 0 },
      { sopClassUID: StorageSopClass.EnhancedCTImage, scu: 0, scp: 0 },
    ]);
    const before = ctx.ingest.received.length;
    peer.send(pData(1, cStoreRq(3, StorageSopClass.CTImage, '2.25.48'), true));
    peer.send(pData(1, Buffer.from([0x08, 0, 0x16, 0, 0x55, 0x49, 2, 0, 0x31, 0]), false));
    expect(commandElement((await peer.next())!.body.subarray(6), 0x0900)?.readUInt16LE(0)).to.equal(0x0000);
    expect(ctx.ingest.received.length).to.equal(before + 1);
    await peer.release();
  });

  it('receives the 112 ct-fakephi instances over one association, byte for byte', async () => {
    const before = ctx.ingest.received.length;
    const acceptedBefore = ctx.events.filter((e) => e.type === 'association-accepted').length;
    // Without -R, storescu proposes every storage SOP class it knows: 128 contexts.
    const r = await runTool('storescu', ['-aet', 'MODALITY', '-aec', 'LIMEN', '+sd', '127.0.0.1', ctx.port, CT_DIR]);
    expect(r.status, r.output).to.equal(0);
    const received = ctx.ingest.received.slice(before);
    expect(received).to.have.length(112);
    expect(ctx.events.filter((e) => e.type === 'association-accepted')).to.have.length(acceptedBefore + 1);
    const byUid = new Map(received.map((x) => [x.announcedSOPInstanceUID, x]));
    for (const file of readdirSync(CT_DIR)) {
      const part10 = readPart10(join(CT_DIR, file));
      const got = byUid.get(part10.sopInstanceUID);
      expect(got, file).to.not.equal(undefined);
      expect(got!.transferSyntaxUID, file).to.equal(part10.transferSyntaxUID);
      expect(got!.announcedSOPClassUID, file).to.equal(part10.sopClassUID);
      expect(Buffer.compare(got!.bytes, part10.dataSet), `${file}: data set bytes differ`).to.equal(0);
      expect(got).to.include({ route: 'ct-route', callingAETitle: 'MODALITY', remoteAddress: '127.0.0.1' });
    }
    const released = ctx.events.at(-1);
    expect(released).to.include({ type: 'association-released', stored: 112, failed: 0 });
  });

  it('fails one instance with the mapped status and ErrorComment while the rest are stored', async () => {
    const files = ['CT000010.dcm', 'CT000011.dcm', 'CT000012.dcm', 'CT000013.dcm', 'CT000014.dcm', 'CT000015.dcm', 'CT000016.dcm'].map((f) =>
      join(CT_DIR, f),
    );
    const uids = files.map((f) => readPart10(f).sopInstanceUID);
    ctx.ingest.failWith.set(uids[1], { code: 'cannot-understand', reason: 'Refused by profile: burned-in annotation' });
    ctx.ingest.failWith.set(uids[2], { code: 'out-of-resources', reason: 'Disk full' });
    ctx.ingest.failWith.set(uids[3], { code: 'sop-class-mismatch', reason: 'SOP Class UID differs from the announced one' });
    ctx.ingest.failWith.set(uids[4], { code: 'sop-class-not-supported', reason: 'Route does not accept this SOP Class' });
    ctx.ingest.failWith.set(uids[5], 'throw');
    try {
      // -nh: do not halt at the first failure, as a modality sending a study would not.
      const r = await runTool('storescu', ['-d', '-nh', '-R', '-aet', 'MODALITY', '-aec', 'LIMEN', '127.0.0.1', ctx.port, ...files]);
      const responses = storeResponses(r.output);
      expect(responses).to.deep.equal([
        { status: '0x0000' },
        { status: '0xc000', comment: 'Refused by profile: burned-in annotation' },
        { status: '0xa700', comment: 'Disk full' },
        { status: '0xa900', comment: 'SOP Class UID differs from the announced one' },
        { status: '0x0122', comment: 'Route does not accept this SOP Class' },
        { status: '0xa700', comment: 'Internal error while storing the instance' },
        { status: '0x0000' },
      ]);
      expect(ctx.events.at(-1)).to.include({ type: 'association-released', stored: 2, failed: 5 });
    } finally {
      ctx.ingest.failWith.clear();
    }
  });

  it('shortens a long reason to an ErrorComment at a word boundary, and logs the failed store with the whole reason', async () => {
    const reason = 'element (7FE0,0010) declared length 24640000 runs past the end of the data set (12345 bytes left)';
    ctx.ingest.failWith.set('2.25.71', { code: 'cannot-understand', reason });
    try {
      const peer = await RawPeer.open(ctx.portNumber);
      peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: StorageSopClass.CTImage, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] }]));
      expect((await peer.next())?.type).to.equal(0x02);
      peer.send(pData(1, cStoreRq(3, StorageSopClass.CTImage, '2.25.71'), true));
      peer.send(pData(1, Buffer.from([0x08, 0, 0x16, 0, 0x55, 0x49, 2, 0, 0x31, 0]), false));
      const command = (await peer.next())!.body.subarray(6);
      expect(commandElement(command, 0x0900)?.readUInt16LE(0)).to.equal(0xc000);
      const comment = commandElement(command, 0x0902)!.toString('latin1').trimEnd();
      expect(comment).to.equal('element (7FE0,0010) declared length 24640000 runs past the...');
      await peer.release();
      const line = ctx.logs().filter((l) => l.includes('dimse.store.failed')).at(-1);
      expect(JSON.parse(line!)).to.include({ status: '0xC000', errorComment: comment, reason });
    } finally {
      ctx.ingest.failWith.clear();
    }
  });

  it('refuses a SOP class it does not accept at negotiation (MR on a CT-only node)', async () => {
    const before = ctx.ingest.received.length;
    const r = await runTool('storescu', ['-v', '+v', '-R', '-aet', 'MODALITY', '-aec', 'LIMEN', '127.0.0.1', ctx.port, join(CORPUS, 'MR_small.dcm')]);
    expect(r.status).to.not.equal(0);
    // storescu's verbose dump of the A-ASSOCIATE-AC shows each context's result.
    expect(r.output).to.match(/Context ID:\s+1 \(Abstract Syntax Not Supported\)\s+I:\s+Abstract Syntax: =MRImageStorage/);
    expect(r.output).to.contain('No Acceptable Presentation Contexts');
    expect(ctx.ingest.received.length).to.equal(before);
  });

  it('refuses transfer syntaxes it does not accept with result 4', async () => {
    const strict = await startScp({ acceptedTransferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] });
    try {
      const r = await runTool('storescu', ['-v', '+v', '-R', '-xi', '-aet', 'MODALITY', '-aec', 'LIMEN', '127.0.0.1', strict.port, join(CT_DIR, 'CT000001.dcm')]);
      expect(r.output).to.match(/Context ID:\s+1 \(Transfer Syntaxes Not Supported\)\s+I:\s+Abstract Syntax: =CTImageStorage/);
      expect(strict.ingest.received).to.have.length(0);
    } finally {
      await strict.scp.stop();
    }
  });

  it('survives garbage bytes on the port: aborts that connection, then answers an echo', async () => {
    const peer = await RawPeer.open(ctx.portNumber);
    peer.send(Buffer.from('GET / HTTP/1.1\r\nHost: limen\r\n\r\n'));
    const abort = await peer.next();
    expect(abort?.type).to.equal(0x07);
    expect([...abort!.body]).to.deep.equal([0, 0, 2, 1]); // service-provider, unrecognized PDU
    await peer.waitClosed();
    expect(ctx.events.at(-1)).to.include({ type: 'association-aborted', initiator: 'local', reason: 'protocol-error' });
    const r = await echo(ctx.port);
    expect(r.status, r.output).to.equal(0);
    expect(ctx.scp.status).to.equal('running');
  });

  it('aborts an announced PDU longer than any limit without buffering it', async () => {
    const peer = await RawPeer.open(ctx.portNumber);
    peer.send(Buffer.from([0x01, 0, 0x7f, 0xff, 0xff, 0xff, 0, 1, 0, 0]));
    const abort = await peer.next();
    expect(abort?.type).to.equal(0x07);
    expect([...abort!.body]).to.deep.equal([0, 0, 2, 6]); // invalid PDU parameter value
    await peer.waitClosed();
    expect((await echo(ctx.port)).status).to.equal(0);
  });

  it('aborts a P-DATA-TF longer than the maximum length it announced', async () => {
    const peer = await RawPeer.open(ctx.portNumber);
    peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [TransferSyntax.ImplicitVRLittleEndian] }]));
    const ac = await peer.next();
    expect(ac?.type).to.equal(0x02);
    const max = announcedMaxPdu(ac!.body)!;
    expect(max).to.equal(262144);
    const header = Buffer.alloc(6);
    header[0] = 0x04;
    header.writeUInt32BE(max + 1, 2);
    peer.send(header);
    const abort = await peer.next();
    expect(abort?.type).to.equal(0x07);
    expect([...abort!.body]).to.deep.equal([0, 0, 2, 6]);
    await peer.waitClosed();
    expect((await echo(ctx.port)).status).to.equal(0);
  });

  it('records a peer that disconnects in the middle of a PDU as aborted, and stores nothing', async () => {
    const before = ctx.ingest.received.length;
    const peer = await RawPeer.open(ctx.portNumber);
    peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: StorageSopClass.CTImage, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] }]));
    expect((await peer.next())?.type).to.equal(0x02);
    peer.send(pData(1, cStoreRq(1, StorageSopClass.CTImage, '2.25.42'), true));
    const partial = pData(1, Buffer.alloc(1000, 0x55), false);
    peer.send(partial.subarray(0, 300));
    await new Promise((r) => setTimeout(r, 50));
    peer.destroy();
    await until(() => ctx.events.at(-1)?.type === 'association-aborted');
    expect(ctx.events.at(-1)).to.include({ initiator: 'peer', reason: 'connection-lost' });
    expect(ctx.ingest.received.length).to.equal(before);
    expect((await echo(ctx.port)).status).to.equal(0);
  });

  it('aborts at once, storing nothing, a release asked for while a data set is still arriving', async () => {
    // Found by the fuzz (fuzz.test.ts): the association waited for the data set's end, which
    // nothing may send after an A-RELEASE-RQ, until the idle timeout.
    const before = ctx.ingest.received.length;
    const peer = await RawPeer.open(ctx.portNumber);
    peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: StorageSopClass.CTImage, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] }]));
    expect((await peer.next())?.type).to.equal(0x02);
    peer.send(pData(1, cStoreRq(1, StorageSopClass.CTImage, '2.25.44'), true));
    peer.send(pData(1, Buffer.alloc(1000, 0x55), false, false));
    peer.send(Buffer.from([0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0]));
    const abort = await peer.next(2000);
    expect(abort?.type, 'an A-ABORT, not an A-RELEASE-RP').to.equal(0x07);
    expect([...abort!.body]).to.deep.equal([0, 0, 0, 0]);
    await peer.waitClosed();
    expect(ctx.events.at(-1)).to.include({ type: 'association-aborted', initiator: 'local', reason: 'protocol-error' });
    expect(ctx.logs().some((l) => l.includes('release-during-data-set'))).to.equal(true);
    expect(ctx.ingest.received.length).to.equal(before);
    expect((await echo(ctx.port)).status).to.equal(0);
  });

  it('aborts a C-STORE sent on a presentation context it rejected', async () => {
    const peer = await RawPeer.open(ctx.portNumber);
    peer.send(
      associateRq('LIMEN', 'MODALITY', [
        { id: 1, abstractSyntax: StorageSopClass.MRImage, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] },
        { id: 3, abstractSyntax: StorageSopClass.CTImage, transferSyntaxes: [TransferSyntax.JPEGLSNearLossless, TransferSyntax.ExplicitVRLittleEndian] },
      ]),
    );
    const ac = await peer.next();
    const results = acceptedContexts(ac!.body);
    expect(results.get(1)?.result).to.equal(3);
    // Near-lossless JPEG-LS may lose information: the lossless syntax offered after it is taken.
    expect(results.get(3)).to.deep.equal({ result: 0, transferSyntax: TransferSyntax.ExplicitVRLittleEndian });
    const before = ctx.ingest.received.length;
    peer.send(pData(1, cStoreRq(1, StorageSopClass.MRImage, '2.25.43'), true));
    peer.send(pData(1, Buffer.from([0x08, 0, 0x16, 0, 0x55, 0x49, 2, 0, 0x31, 0]), false));
    const abort = await peer.next();
    expect(abort?.type).to.equal(0x07);
    await peer.waitClosed();
    expect(ctx.ingest.received.length).to.equal(before);
  });

  it('records an A-ABORT from the peer', async () => {
    const r = await runTool('storescu', ['--abort', '-R', '-aet', 'MODALITY', '-aec', 'LIMEN', '127.0.0.1', ctx.port, join(CT_DIR, 'CT000040.dcm')]);
    expect(r.status, r.output).to.equal(0);
    await until(() => ctx.events.at(-1)?.type === 'association-aborted');
    expect(ctx.events.at(-1)).to.include({ initiator: 'peer', reason: 'peer-abort', stored: 1 });
  });

  it('closes the connection on an A-ABORT that comes before any association request, reporting no association (PS3.8 Sta2, AA-2)', async () => {
    const events = ctx.events.length;
    const peer = await RawPeer.open(ctx.portNumber);
    peer.send(Buffer.from([0x07, 0, 0, 0, 0, 4, 0, 0, 0, 0]));
    await peer.waitClosed();
    expect(await peer.next(), 'nothing sent back').to.equal(undefined);
    expect((await echo(ctx.port)).status).to.equal(0);
    expect(ctx.events.slice(events).map((e) => e.type)).to.deep.equal(['association-accepted', 'association-released']);
  });

  it('answers a C-STORE still in flight before the A-RELEASE-RP when the release request comes early', async () => {
    ctx.ingest.delayMs = 200;
    try {
      const peer = await RawPeer.open(ctx.portNumber);
      peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: StorageSopClass.CTImage, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] }]));
      expect((await peer.next())?.type).to.equal(0x02);
      peer.send(pData(1, cStoreRq(9, StorageSopClass.CTImage, '2.25.45'), true));
      peer.send(pData(1, Buffer.from([0x08, 0, 0x16, 0, 0x55, 0x49, 2, 0, 0x31, 0]), false));
      peer.send(Buffer.from([0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0]));
      const response = await peer.next();
      expect(response?.type).to.equal(0x04);
      expect(commandElement(response!.body.subarray(6), 0x0900)?.readUInt16LE(0)).to.equal(0);
      expect((await peer.next())?.type).to.equal(0x06);
      await peer.waitClosed();
    } finally {
      ctx.ingest.delayMs = 0;
    }
  });

  it('reads a C-STORE sent before the previous one was answered only once that one is stored (one operation outstanding)', async () => {
    ctx.ingest.delayMs = 300;
    const before = ctx.ingest.received.length;
    try {
      const peer = await RawPeer.open(ctx.portNumber);
      peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: StorageSopClass.CTImage, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] }]));
      expect((await peer.next())?.type).to.equal(0x02);
      const dataSet = Buffer.from([0x08, 0, 0x16, 0, 0x55, 0x49, 2, 0, 0x31, 0]);
      peer.send(pData(1, cStoreRq(11, StorageSopClass.CTImage, '2.25.46'), true));
      peer.send(pData(1, dataSet, false));
      await until(() => ctx.ingest.received.length === before + 1);
      // The second request, without waiting for the first answer (no Asynchronous Operations Window was negotiated).
      peer.send(pData(1, cStoreRq(13, StorageSopClass.CTImage, '2.25.47'), true));
      peer.send(pData(1, dataSet, false));
      await new Promise((r) => setTimeout(r, 150));
      expect(ctx.ingest.received.length, 'the second data set was taken while the first was being stored').to.equal(before + 1);
      const answered: Array<number | undefined> = [];
      for (let i = 0; i < 2; i++) answered.push(commandElement((await peer.next())!.body.subarray(6), 0x0120)?.readUInt16LE(0));
      expect(answered).to.deep.equal([11, 13]);
      expect(ctx.ingest.received.length).to.equal(before + 2);
      await peer.release();
    } finally {
      ctx.ingest.delayMs = 0;
    }
  });

  it('performs requests sent together one at a time, in the order they came: C-STORE 5, C-STORE 6, C-ECHO 7 in one write are answered 5, 6, 7', async () => {
    ctx.ingest.delayMs = 50;
    const before = ctx.ingest.received.length;
    try {
      const peer = await associatedForStoreAndEcho(ctx.portNumber);
      const dataSet = TINY_DATA_SET;
      const cEcho = cEchoRq(7);
      // No Asynchronous Operations Window was negotiated, yet all three (and the release) go in one TCP write.
      peer.send(
        Buffer.concat([
          pData(1, cStoreRq(5, StorageSopClass.CTImage, '2.25.51'), true),
          pData(1, dataSet, false),
          pData(1, cStoreRq(6, StorageSopClass.CTImage, '2.25.52'), true),
          pData(1, dataSet, false),
          pData(3, cEcho, true),
          Buffer.from([0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0]),
        ]),
      );
      expect(await nextAnswers(peer, 3)).to.deep.equal([
        [5, 0x0000],
        [6, 0x0000],
        [7, 0x0000],
      ]);
      expect(ctx.ingest.received.slice(before).map((r) => r.announcedSOPInstanceUID)).to.deep.equal(['2.25.51', '2.25.52']);
      expect((await peer.next())?.type).to.equal(0x06);
      await peer.waitClosed();
      expect(ctx.events.at(-1)).to.include({ type: 'association-released', stored: 2, failed: 0 });
    } finally {
      ctx.ingest.delayMs = 0;
    }
  });

  it('stops reading while its answers go unread: C-ECHOs streamed by a peer that reads nothing do not pile up in memory, and all are answered once it reads', async function () {
    this.timeout(60_000);
    const peer = await RawPeer.open(ctx.portNumber);
    peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [TransferSyntax.ImplicitVRLittleEndian] }]));
    expect((await peer.next())?.type).to.equal(0x02);
    peer.socket.pause();
    // 20 MB of requests, more than the kernel's socket buffers on both sides hold.
    const echoes = 250_000;
    const one = pData(1, cEchoRq(1), true);
    // In writes of 1,000 requests: the socket counts a write as pending until all of it is written.
    const write = Buffer.concat(Array.from({ length: 1000 }, () => one));
    for (let i = 0; i < echoes / 1000; i++) peer.send(write);
    // Until nothing more is taken for 3 s: long enough for a receiver that kept reading to take it all.
    let last = -1;
    for (let still = 0; still < 30 && peer.socket.writableLength > 0; await new Promise((r) => setTimeout(r, 100))) {
      still = peer.socket.writableLength === last ? still + 1 : 0;
      last = peer.socket.writableLength;
    }
    // Limen no longer reads: what the peer sent is still in its own buffer.
    expect(peer.socket.writableLength).to.be.greaterThan(1_000_000);

    let received = 0;
    let responseLength = 0; // each answer is one P-DATA-TF PDU of the same length
    peer.socket.removeAllListeners('data');
    peer.socket.on('data', (chunk: Buffer) => {
      if (received === 0) responseLength = 6 + chunk.readUInt32BE(2);
      received += chunk.length;
    });
    peer.socket.resume();
    await until(() => received > 0 && received >= echoes * responseLength, 45_000);
    expect(received).to.equal(echoes * responseLength);
    peer.destroy();
  });

  it('answers 0x0122 when the command names a SOP class other than its context', async () => {
    const peer = await RawPeer.open(ctx.portNumber);
    peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: StorageSopClass.CTImage, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] }]));
    expect((await peer.next())?.type).to.equal(0x02);
    peer.send(pData(1, cStoreRq(7, StorageSopClass.EnhancedCTImage, '2.25.44'), true));
    peer.send(pData(1, Buffer.from([0x08, 0, 0x16, 0, 0x55, 0x49, 2, 0, 0x31, 0]), false));
    const response = await peer.next();
    expect(response?.type).to.equal(0x04);
    const command = response!.body.subarray(6);
    expect(commandElement(command, 0x0900)?.readUInt16LE(0)).to.equal(0x0122);
    expect(commandElement(command, 0x0120)?.readUInt16LE(0)).to.equal(7);
    await peer.release();
  });

  it('answers C-ECHO on the Verification context, and 0x0122 when asked on a storage context', async () => {
    const peer = await RawPeer.open(ctx.portNumber);
    peer.send(
      associateRq('LIMEN', 'MODALITY', [
        { id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [TransferSyntax.ImplicitVRLittleEndian] },
        { id: 3, abstractSyntax: StorageSopClass.CTImage, transferSyntaxes: [TransferSyntax.ImplicitVRLittleEndian] },
      ]),
    );
    expect((await peer.next())?.type).to.equal(0x02);
    const statuses: Array<number | undefined> = [];
    for (const [id, message] of [[1, 21], [3, 22]] as const) {
      peer.send(pData(id, cEchoRq(message), true));
      statuses.push(commandElement((await peer.next())!.body.subarray(6), 0x0900)?.readUInt16LE(0));
    }
    expect(statuses).to.deep.equal([0x0000, 0x0122]);
    await peer.release();
  });

  it('answers a C-ECHO-RQ without Affected SOP Class UID with the Verification SOP Class in its response, which PS3.7 requires', async () => {
    const peer = await RawPeer.open(ctx.portNumber);
    peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [TransferSyntax.ImplicitVRLittleEndian] }]));
    expect((await peer.next())?.type).to.equal(0x02);
    peer.send(pData(1, commandSet([[0x0100, 'US', 0x0030], [0x0110, 'US', 9], [0x0800, 'US', 0x0101]]), true));
    const command = (await peer.next())!.body.subarray(6);
    expect(commandElement(command, 0x0900)?.readUInt16LE(0)).to.equal(0x0000);
    expect(commandElement(command, 0x0002)?.toString('latin1').replace(/\0+$/, '')).to.equal(VERIFICATION);
    await peer.release();
  });

  it('aborts a DIMSE response sent to it as an unexpected PDU parameter (PS3.8 Table 9-26, reason 5)', async () => {
    const peer = await RawPeer.open(ctx.portNumber);
    peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [TransferSyntax.ImplicitVRLittleEndian] }]));
    expect((await peer.next())?.type).to.equal(0x02);
    // A C-ECHO-RSP: Message ID Being Responded To, no Message ID.
    peer.send(pData(1, commandSet([[0x0002, 'UI', VERIFICATION], [0x0100, 'US', 0x8030], [0x0120, 'US', 3], [0x0800, 'US', 0x0101], [0x0900, 'US', 0]]), true));
    const abort = await peer.next();
    expect(abort?.type).to.equal(0x07);
    expect([...abort!.body]).to.deep.equal([0, 0, 2, 5]);
    await peer.waitClosed();
  });

  it('answers each presentation context under the ID the requestor gave it, in any order (PS3.8 9.3.2.2)', async () => {
    const peer = await RawPeer.open(ctx.portNumber);
    peer.send(
      associateRq('LIMEN', 'MODALITY', [
        { id: 3, abstractSyntax: StorageSopClass.CTImage, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] },
        { id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [TransferSyntax.ImplicitVRLittleEndian] },
        { id: 7, abstractSyntax: StorageSopClass.MRImage, transferSyntaxes: [TransferSyntax.ImplicitVRLittleEndian] },
      ]),
    );
    const ac = await peer.next();
    expect(ac?.type).to.equal(0x02);
    expect([...acceptedContexts(ac!.body)]).to.deep.equal([
      [3, { result: 0, transferSyntax: TransferSyntax.ExplicitVRLittleEndian }],
      [1, { result: 0, transferSyntax: TransferSyntax.ImplicitVRLittleEndian }],
      [7, { result: 3, transferSyntax: TransferSyntax.ImplicitVRLittleEndian }],
    ]);
    peer.send(pData(1, cEchoRq(5), true));
    expect(commandElement((await peer.next())!.body.subarray(6), 0x0900)?.readUInt16LE(0)).to.equal(0x0000);
    await peer.release();
  });

  it('answers a C-STORE-RQ without Affected SOP Class or Instance UID with 0xC000 naming the missing field, and stores nothing', async () => {
    const peer = await RawPeer.open(ctx.portNumber);
    peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: StorageSopClass.CTImage, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] }]));
    expect((await peer.next())?.type).to.equal(0x02);
    const before = ctx.ingest.received.length;
    const withoutInstance = commandSet([[0x0002, 'UI', StorageSopClass.CTImage], [0x0100, 'US', 0x0001], [0x0110, 'US', 11], [0x0700, 'US', 0], [0x0800, 'US', 0x0000]]);
    const withoutClass = commandSet([[0x0100, 'US', 0x0001], [0x0110, 'US', 12], [0x0700, 'US', 0], [0x0800, 'US', 0x0000], [0x1000, 'UI', '2.25.46']]);
    const answers: Array<[number | undefined, string | undefined]> = [];
    for (const command of [withoutInstance, withoutClass]) {
      peer.send(pData(1, command, true));
      peer.send(pData(1, Buffer.from([0x08, 0, 0x16, 0, 0x55, 0x49, 2, 0, 0x31, 0]), false));
      const rsp = (await peer.next())!.body.subarray(6);
      answers.push([commandElement(rsp, 0x0900)?.readUInt16LE(0), commandElement(rsp, 0x0902)?.toString('latin1').trim()]);
    }
    expect(answers).to.deep.equal([
      [0xc000, 'C-STORE request without Affected SOP Instance UID (0000,1000)'],
      [0xc000, 'C-STORE request without Affected SOP Class UID (0000,0002)'],
    ]);
    expect(ctx.ingest.received.length).to.equal(before);
    await peer.release();
  });

  it('answers a request it does not perform (a C-FIND) with 0x0211 and goes on: the next C-STORE is stored', async () => {
    const peer = await RawPeer.open(ctx.portNumber);
    peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: StorageSopClass.CTImage, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] }]));
    expect((await peer.next())?.type).to.equal(0x02);
    const cFind = commandSet([
      [0x0002, 'UI', StorageSopClass.CTImage],
      [0x0100, 'US', 0x0020],
      [0x0110, 'US', 9],
      [0x0700, 'US', 0],
      [0x0800, 'US', 0x0000],
    ]);
    peer.send(pData(1, cFind, true));
    peer.send(pData(1, Buffer.from([0x08, 0, 0x52, 0, 0x43, 0x53, 6, 0, 0x53, 0x54, 0x55, 0x44, 0x59, 0x20]), false));
    const response = (await peer.next())!;
    const command = response.body.subarray(6);
    expect(commandElement(command, 0x0100)?.readUInt16LE(0)).to.equal(0x8020);
    expect(commandElement(command, 0x0900)?.readUInt16LE(0)).to.equal(0x0211);
    expect(commandElement(command, 0x0120)?.readUInt16LE(0)).to.equal(9);
    const before = ctx.ingest.received.length;
    peer.send(pData(1, cStoreRq(10, StorageSopClass.CTImage, '2.25.45'), true));
    peer.send(pData(1, Buffer.from([0x08, 0, 0x16, 0, 0x55, 0x49, 2, 0, 0x31, 0]), false));
    const stored = (await peer.next())!;
    expect(commandElement(stored.body.subarray(6), 0x0120)?.readUInt16LE(0)).to.equal(10);
    expect(ctx.ingest.received.length).to.equal(before + 1);
    await peer.release();
  });
});

describe('gateway/dimse DimseScpService with compressed transfer syntaxes', function () {
  // storescu flag → corpus files it offers a matching compressed (or other) syntax for.
  const CASES: Array<[string, string]> = [
    ['-xw', '693_J2KI.dcm'], // CT, JPEG 2000
    ['-xv', 'J2K_pixelrep_mismatch.dcm'], // CT, JPEG 2000 lossless
    ['-xv', 'MR_small_jp2klossless.dcm'],
    ['-xy', 'SC_rgb_jpeg_dcmtk.dcm'], // JPEG baseline
    ['-xx', 'JPEG-lossy.dcm'], // JPEG extended
    ['-xs', 'SC_rgb_jpeg_gdcm.dcm'], // JPEG lossless SV1
    ['-xt', 'MR_small_jpeg_ls_lossless.dcm'], // JPEG-LS lossless
    ['-xr', 'MR_small_RLE.dcm'],
    ['-xr', 'SC_rgb_rle_2frame.dcm'], // RLE, two frames: fragments must stay one per frame
    ['-xd', 'image_dfl.dcm'], // deflated
    ['-xb', 'MR_small_bigendian.dcm'],
    ['-xi', 'MR_small_implicit.dcm'],
    ['-xe', 'CT_small.dcm'],
  ];
  let reference: Buffer[];
  let workDir: string;

  before(async function () {
    requirePeers(this, 'dcmtk');
    this.timeout(60_000);
    workDir = mkdtempSync(join(tmpdir(), 'limen-dimse-'));
    reference = await captureWithStorescp(workDir, CASES);
  });
  after(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('receives each instance in the transfer syntax it was sent in, bytes identical to what storescu put on the wire', async () => {
    const ctx = await startScp({
      acceptedSopClasses: [StorageSopClass.CTImage, StorageSopClass.MRImage, StorageSopClass.SecondaryCaptureImage],
    });
    try {
      for (const [i, [flag, file]] of CASES.entries()) {
        const path = join(CORPUS, file);
        const part10 = readPart10(path);
        const before = ctx.ingest.received.length;
        const r = await runTool('storescu', [flag, '-R', '-aet', 'MODALITY', '-aec', 'LIMEN', '127.0.0.1', ctx.port, path]);
        expect(r.status, `${file}: ${r.output}`).to.equal(0);
        const got = ctx.ingest.received[before];
        expect(got, file).to.not.equal(undefined);
        expect(got.transferSyntaxUID, file).to.equal(part10.transferSyntaxUID);
        expect(Buffer.compare(got.bytes, reference[i]), `${file}: bytes differ from what storescp received`).to.equal(0);
      }
    } finally {
      await ctx.scp.stop();
    }
  });
});

describe('gateway/dimse DimseScpService as DCMTK negotiates with it', function () {
  before(function () {
    requirePeers(this, 'dcmtk');
  });

  it('answers an association with Limen’s Implementation Class UID and Version Name, those of its Part 10 files', async () => {
    const ctx = await startScp();
    try {
      const r = await runTool('echoscu', ['-d', '-aet', 'MODALITY', '-aec', 'LIMEN', '127.0.0.1', ctx.port]);
      expect(r.status, r.output).to.equal(0);
      expect(r.output).to.match(new RegExp(`Their Implementation Class UID:\\s+${IMPLEMENTATION_CLASS_UID.replace(/\./g, '\\.')}\\s`));
      expect(r.output).to.match(new RegExp(`Their Implementation Version Name:\\s+${IMPLEMENTATION_VERSION_NAME}\\s`));
    } finally {
      await ctx.scp.stop();
    }
  });

  it('never asks for lossy compression: takes an uncompressed CT as it is when storescu offers JPEG lossy first in the same context', async () => {
    const ctx = await startScp({ acceptedSopClasses: [StorageSopClass.CTImage] });
    try {
      const path = join(CORPUS, 'CT_small.dcm');
      // -xx +C: one context per SOP class, JPEG Extended (12-bit lossy) first, then the uncompressed syntaxes.
      const r = await runTool('storescu', ['-xx', '+C', '-R', '-aet', 'MODALITY', '-aec', 'LIMEN', '127.0.0.1', ctx.port, path]);
      expect(r.status, r.output).to.equal(0);
      expect(ctx.ingest.received.map((i) => i.transferSyntaxUID)).to.deep.equal([TransferSyntax.ExplicitVRLittleEndian]);
      expect(readPart10(path).transferSyntaxUID).to.equal(TransferSyntax.ExplicitVRLittleEndian);
    } finally {
      await ctx.scp.stop();
    }
  });
});

describe('gateway/dimse DimseScpService lifecycle', function () {
  before(function () {
    requirePeers(this, 'dcmtk');
  });

  it('stops gracefully: the C-STORE in flight is answered, then nothing is accepted', async () => {
    const ctx = await startScp();
    ctx.ingest.delayMs = 300;
    const files = ['CT000020.dcm', 'CT000021.dcm', 'CT000022.dcm'].map((f) => join(CT_DIR, f));
    const sending = runTool('storescu', ['-d', '-R', '-aet', 'MODALITY', '-aec', 'LIMEN', '127.0.0.1', ctx.port, ...files]);
    await until(() => ctx.ingest.received.length === 1);
    const stopped = ctx.scp.stop();
    expect(ctx.scp.status).to.equal('stopping');
    await stopped;
    expect(ctx.scp.status).to.equal('stopped');
    const r = await sending;
    // The instance being stored was answered with success; the association was then aborted.
    expect(storeResponses(r.output)[0]).to.deep.equal({ status: '0x0000' });
    expect(ctx.ingest.received).to.have.length(1);
    expect(ctx.events.at(-1)).to.include({ type: 'association-aborted', initiator: 'local', reason: 'stopping', stored: 1 });
    const refused = await echo(ctx.port);
    expect(refused.status).to.not.equal(0);
  });

  it('fails a data set larger than maxDataSetBytes with A700, without buffering it, and the association goes on', async () => {
    const memory = new ReceiveMemory(1 << 30);
    const metrics = new MetricsRegistry();
    const ctx = await startScp({ maxDataSetBytes: 4096 }, { memory, metrics });
    try {
      const files = ['CT000043.dcm', 'CT000044.dcm'].map((f) => join(CT_DIR, f));
      const r = await runTool('storescu', ['-d', '-nh', '-R', '-aet', 'MODALITY', '-aec', 'LIMEN', '127.0.0.1', ctx.port, ...files]);
      const refused = { status: '0xa700', comment: 'Data set exceeds the size limit of this node' };
      expect(storeResponses(r.output)).to.deep.equal([refused, refused]);
      expect(ctx.events.at(-1)).to.include({ type: 'association-released', stored: 0, failed: 2 });
      expect(ctx.ingest.received).to.have.length(0);
      expect(memory.held).to.equal(0);
      expect(metrics.render()).to.contain('limen_dimse_stores_refused_total{reason="too-large"} 2\n');
    } finally {
      await ctx.scp.stop();
    }
  });

  it('answers the C-STORE in hand, then aborts, when a requestor sends more ahead of its answer than the association may hold', async () => {
    const ctx = await startScp({ maxDataSetBytes: 4096 });
    ctx.ingest.delayMs = 100;
    try {
      const peer = await RawPeer.open(ctx.portNumber);
      peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: StorageSopClass.CTImage, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] }]));
      expect((await peer.next())?.type).to.equal(0x02);
      // The second data set alone is more than the association holds, and it comes before the first is answered.
      peer.send(
        Buffer.concat([
          pData(1, cStoreRq(5, StorageSopClass.CTImage, '2.25.61'), true),
          pData(1, Buffer.from([0x08, 0, 0x16, 0, 0x55, 0x49, 2, 0, 0x31, 0]), false),
          pData(1, cStoreRq(6, StorageSopClass.CTImage, '2.25.62'), true),
          pData(1, Buffer.alloc(5000, 0x55), false),
        ]),
      );
      const answer = await peer.next();
      expect(answer?.type).to.equal(0x04);
      expect(commandElement(answer!.body.subarray(6), 0x0120)?.readUInt16LE(0)).to.equal(5);
      expect(commandElement(answer!.body.subarray(6), 0x0900)?.readUInt16LE(0)).to.equal(0);
      const abort = await peer.next();
      expect(abort?.type).to.equal(0x07);
      await peer.waitClosed();
      expect(ctx.ingest.received.map((r) => r.announcedSOPInstanceUID)).to.deep.equal(['2.25.61']);
      expect(ctx.events.at(-1)).to.include({ type: 'association-aborted', initiator: 'local', reason: 'protocol-error', stored: 1 });
      const line = ctx.logs().find((l) => l.includes('dimse.association.window-exceeded'));
      expect(line, ctx.logs().join('\n')).to.not.equal(undefined);
      expect(JSON.parse(line!)).to.include({ limitBytes: 4096 });
    } finally {
      await ctx.scp.stop();
    }
  });

  it('fails an instance the shared memory has no room for with A700 while another is held, alone, and takes it when sent again', async () => {
    // Room for less than one ct-fakephi instance: one alone always fits, a second at the same time does not.
    const memory = new ReceiveMemory(16 * 1024);
    const metrics = new MetricsRegistry();
    const ctx = await startScp({}, { memory, metrics });
    ctx.ingest.delayMs = 1500;
    try {
      const first = runTool('storescu', ['-d', '-R', '-aet', 'MODALITY', '-aec', 'LIMEN', '127.0.0.1', ctx.port, join(CT_DIR, 'CT000040.dcm')]);
      await until(() => ctx.ingest.received.length === 1);
      expect(memory.held).to.be.greaterThan(16 * 1024);
      const files = ['CT000041.dcm', 'CT000042.dcm'].map((f) => join(CT_DIR, f));
      const second = await runTool('storescu', ['-d', '-nh', '-R', '-aet', 'MODALITY', '-aec', 'LIMEN', '127.0.0.1', ctx.port, ...files]);
      const refused = { status: '0xa700', comment: 'Too many instances in memory now; send it again later' };
      expect(storeResponses(second.output)).to.deep.equal([refused, refused]);
      expect(metrics.render()).to.contain('limen_dimse_stores_refused_total{reason="no-memory"} 2\n');
      expect(storeResponses((await first).output)).to.deep.equal([{ status: '0x0000' }]);
      expect(memory.held).to.equal(0);
      ctx.ingest.delayMs = 0;
      const again = await runTool('storescu', ['-d', '-R', '-aet', 'MODALITY', '-aec', 'LIMEN', '127.0.0.1', ctx.port, ...files]);
      expect(storeResponses(again.output)).to.deep.equal([{ status: '0x0000' }, { status: '0x0000' }]);
      expect(ctx.ingest.received.map((r) => r.announcedSOPInstanceUID)).to.deep.equal([join(CT_DIR, 'CT000040.dcm'), ...files].map((f) => readPart10(f).sopInstanceUID));
      // A data set cut off by its peer gives its memory back too.
      const peer = await RawPeer.open(ctx.portNumber);
      peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: StorageSopClass.CTImage, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] }]));
      expect((await peer.next())?.type).to.equal(0x02);
      peer.send(pData(1, cStoreRq(1, StorageSopClass.CTImage, '2.25.42'), true));
      peer.send(pData(1, Buffer.alloc(4000, 0x55), false, false));
      await until(() => memory.held === 4000);
      peer.destroy();
      await until(() => memory.held === 0);
    } finally {
      await ctx.scp.stop();
    }
  });

  it('aborts an association idle for longer than its timeout', async () => {
    const ctx = await startScp({ idleTimeoutMs: 150 });
    try {
      const peer = await RawPeer.open(ctx.portNumber);
      peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [TransferSyntax.ImplicitVRLittleEndian] }]));
      expect((await peer.next())?.type).to.equal(0x02);
      const abort = await peer.next(2000);
      expect(abort?.type).to.equal(0x07);
      await peer.waitClosed();
      expect(ctx.events.at(-1)).to.include({ type: 'association-aborted', initiator: 'local', reason: 'idle-timeout' });
    } finally {
      await ctx.scp.stop();
    }
  });

  it('keeps an instance in flight past the idle timeout: a slow ingest is not an idle peer', async () => {
    const ctx = await startScp({ idleTimeoutMs: 200 });
    ctx.ingest.delayMs = 600;
    try {
      const r = await runTool('storescu', ['-d', '-R', '-aet', 'MODALITY', '-aec', 'LIMEN', '127.0.0.1', ctx.port, join(CT_DIR, 'CT000030.dcm')]);
      expect(storeResponses(r.output)).to.deep.equal([{ status: '0x0000' }]);
    } finally {
      await ctx.scp.stop();
    }
  });

  it('rejects associations beyond maxAssociations as transient, local limit exceeded', async () => {
    const ctx = await startScp({ maxAssociations: 1 });
    try {
      const holder = await RawPeer.open(ctx.portNumber);
      holder.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [TransferSyntax.ImplicitVRLittleEndian] }]));
      expect((await holder.next())?.type).to.equal(0x02);
      const r = await echo(ctx.port);
      expect(r.status).to.not.equal(0);
      expect(r.output).to.contain('Result: Rejected Transient, Source: Service Provider (Presentation Related)');
      expect(r.output).to.contain('Reason: Local Limit Exceeded');
      holder.destroy();
    } finally {
      await ctx.scp.stop();
    }
  });

  it('does not count silent connections against maxAssociations, and closes them when the ARTIM timer expires, without an A-ABORT', async () => {
    const ctx = await startScp({ maxAssociations: 1, artimTimeoutMs: 300 });
    try {
      const silent = await Promise.all([1, 2, 3].map(() => RawPeer.open(ctx.portNumber)));
      expect((await echo(ctx.port)).status).to.equal(0);
      for (const peer of silent) {
        await peer.waitClosed();
        // PS3.8 AA-2: the transport is closed; nothing is sent on a connection with no association.
        expect(await peer.next()).to.equal(undefined);
      }
      expect(ctx.logs().filter((l) => l.includes('dimse.connection.artim-expired'))).to.have.length(3);
    } finally {
      await ctx.scp.stop();
    }
    // An idle timeout shorter than the ARTIM timer's closes a silent connection the same way.
    const quick = await startScp({ idleTimeoutMs: 300, artimTimeoutMs: 30_000 });
    try {
      const silent = await RawPeer.open(quick.portNumber);
      await silent.waitClosed();
      expect(await silent.next()).to.equal(undefined);
    } finally {
      await quick.scp.stop();
    }
  });

  it('fails to start with listen-failed when the port is taken', async () => {
    const first = await startScp();
    try {
      const second = new DimseScpService(
        { host: '127.0.0.1', port: first.portNumber, aeTitle: 'LIMEN', acceptedSopClasses: [] },
        { ingest: first.ingest, associate: () => ({ accept: true, route: 'x' }), logger: silentLogger },
      );
      let error: unknown;
      try {
        await second.start();
      } catch (err) {
        error = err;
      }
      expect(error).to.have.property('code', 'listen-failed');
      expect(String((error as Error).message)).to.contain('EADDRINUSE');
      expect(second.status).to.equal('failed');
    } finally {
      await first.scp.stop();
    }
  });

  it('refuses invalid options with every issue and its path', () => {
    let error: unknown;
    try {
      new DimseScpService(
        { host: '127.0.0.1', port: 70000, aeTitle: 'THIS AE TITLE IS TOO LONG', acceptedSopClasses: [], maxPduLength: 100 },
        { ingest: new RecordingIngest(), associate: () => ({ accept: true, route: 'x' }), logger: silentLogger },
      );
    } catch (err) {
      error = err;
    }
    expect(error).to.have.property('code', 'invalid-options');
    const paths = (error as { issues: Array<{ path: string }> }).issues.map((i) => i.path);
    expect(paths).to.have.members(['aeTitle', 'port', 'maxPduLength']);
  });
});

/**
 * What storescu puts on the wire for each case, captured by DCMTK's own storescp in
 * bit-preserving mode. storescu re-serializes what it reads (it drops data set trailing
 * padding, for one), so the file's bytes are not always the wire's. storescp binds every
 * interface, so both run in a network namespace that has only loopback.
 */
async function captureWithStorescp(dir: string, cases: Array<[string, string]>): Promise<Buffer[]> {
  const incoming = join(dir, 'incoming');
  // Several corpus files share a SOP Instance UID: move each capture aside before the next.
  const sends = cases
    .map(([flag, file], i) => `storescu ${flag} -R -aec STORESCP 127.0.0.1 11112 ${join(process.cwd(), CORPUS, file)}\nmkdir ${join(dir, String(i))}\nmv ${incoming}/* ${join(dir, String(i))}/`)
    .join('\n');
  const script = [
    'set -e',
    'ip link set lo up',
    `mkdir -p ${incoming}`,
    `storescp +B +xa -aet STORESCP -od ${incoming} 11112 & pid=$!`,
    'for i in $(seq 1 100); do echoscu -aec STORESCP 127.0.0.1 11112 2>/dev/null && break; sleep 0.05; done',
    sends,
    'kill $pid',
  ].join('\n');
  const r = await runTool('unshare', ['-n', 'sh', '-c', script], 60_000);
  if (r.status !== 0) throw new Error(`storescp capture failed: ${r.output}`);
  return cases.map((_, i) => {
    const files = readdirSync(join(dir, String(i)));
    if (files.length !== 1) throw new Error(`case ${i}: storescp captured ${files.length} files`);
    return readPart10(join(dir, String(i), files[0])).dataSet;
  });
}
