/**
 * The C-STORE SCU: against Limen's own SCP (recording what arrives) and against DCMTK's
 * storescp in bit-preserving mode, an independent receiver, also one that accepts Implicit VR
 * Little Endian only.
 */
import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { createSecureContext, createServer as createTlsServer } from 'node:tls';
import { join } from 'node:path';
import { DimseScpService, StorageSopClass, storeInstances, TransferSyntax, type OutgoingInstance } from '../../../gateway/dimse/index.js';
import { toImplicitVRLittleEndian } from '../../../gateway/dimse/implicit-vr.js';
import { silentLogger } from '../../../gateway/log/index.js';
import { writeSegmentation } from '../../../pipeline/seg/index.js';
import { loadCtGrid, segInput, syntheticLabels } from '../../pipeline/seg/helpers.js';
import { requireLoopbackNamespace } from '../../support/netns.js';
import { requirePeers, runPeer } from '../../support/peers.js';
import { createTestPki } from '../../support/tls-certificates.js';
import { readPart10, RecordingIngest, runTool } from './helpers.js';
import { comparePart10WithPydicom } from './pydicom-compare.js';

const CT_DIR = 'test/fixtures/ct-fakephi/dicom';
const CORPUS = 'test/fixtures/pydicom-corpus/test_files';
/** A SEG in Explicit VR Little Endian. */
const SEG = 'test/fixtures/seg-references/dcmqi/segmentations/liver.dcm';
/** Uncompressed, compressed and big-endian data sets, each sent in its own syntax. */
const FILES = [
  join(CT_DIR, 'CT000001.dcm'),
  join(CT_DIR, 'CT000002.dcm'),
  join(CORPUS, '693_J2KI.dcm'),
  join(CORPUS, 'MR_small_RLE.dcm'),
  join(CORPUS, 'MR_small_implicit.dcm'),
  join(CORPUS, 'MR_small_bigendian.dcm'),
  join(CORPUS, 'MR_small_jpeg_ls_lossless.dcm'),
];

function instance(path: string): OutgoingInstance {
  const p = readPart10(path);
  return { sopClassUID: p.sopClassUID, sopInstanceUID: p.sopInstanceUID, transferSyntaxUID: p.transferSyntaxUID, bytes: p.dataSet };
}

async function startScp(acceptedTransferSyntaxes?: string[]) {
  const ingest = new RecordingIngest();
  const scp = new DimseScpService(
    { host: '127.0.0.1', port: 0, aeTitle: 'LIMEN', acceptedSopClasses: [StorageSopClass.CTImage, StorageSopClass.MRImage, StorageSopClass.Segmentation], acceptedTransferSyntaxes },
    { ingest, associate: () => ({ accept: true, route: 'r' }), logger: silentLogger },
  );
  await scp.start();
  return { scp, ingest, port: scp.address!.port };
}

describe('gateway/dimse storeInstances', function () {
  it('sends each data set byte for byte in its own transfer syntax, with per-instance statuses', async () => {
    const { scp, ingest, port } = await startScp();
    try {
      const instances = FILES.map(instance);
      ingest.failWith.set(instances[1].sopInstanceUID, { code: 'cannot-understand', reason: 'Refused by profile' });
      const outcome = await storeInstances({ host: '127.0.0.1', port, callingAETitle: 'EXPORTER', calledAETitle: 'LIMEN', instances });
      expect(outcome.association).to.equal('released');
      expect(outcome.results.map((r) => (r.sent ? r.status : r.reason))).to.deep.equal([0, 0xc000, 0, 0, 0, 0, 0]);
      expect(outcome.results[1]).to.include({ errorComment: 'Refused by profile' });
      expect(ingest.received).to.have.length(instances.length);
      ingest.received.forEach((got, i) => {
        expect(got.transferSyntaxUID, FILES[i]).to.equal(instances[i].transferSyntaxUID);
        expect(Buffer.compare(got.bytes, Buffer.from(instances[i].bytes)), FILES[i]).to.equal(0);
        expect(got.callingAETitle).to.equal('EXPORTER');
      });
    } finally {
      await scp.stop();
    }
  });

  it('does not send, and never transcodes, an instance whose exact transfer syntax was refused', async () => {
    const { scp, ingest, port } = await startScp([TransferSyntax.ExplicitVRLittleEndian]);
    try {
      const explicit = instance(join(CT_DIR, 'CT000003.dcm'));
      const implicit = instance(join(CORPUS, 'MR_small_implicit.dcm'));
      const outcome = await storeInstances({ host: '127.0.0.1', port, callingAETitle: 'EXPORTER', calledAETitle: 'LIMEN', instances: [implicit, explicit] });
      expect(outcome.association).to.equal('released');
      expect(outcome.results[0]).to.deep.equal({
        sopInstanceUID: implicit.sopInstanceUID,
        sent: false,
        reason: 'no-presentation-context',
        error: `no presentation context accepted for MR Image Storage (${StorageSopClass.MRImage}) in a transfer syntax Limen can send: the data set is in Implicit VR Little Endian, the peer accepted it only in Explicit VR Little Endian`,
      });
      expect(outcome.results[1]).to.include({ sent: true, status: 0 });
      expect(ingest.received).to.have.length(1);
      expect(ingest.received[0].announcedSOPInstanceUID).to.equal(explicit.sopInstanceUID);
    } finally {
      await scp.stop();
    }
  });

  it('sends an Explicit VR Little Endian data set re-encoded in Implicit VR Little Endian to a peer that accepts only that', async () => {
    // PS3.5 10.1: every implementation supports Implicit VR Little Endian; a PACS may accept nothing else.
    const { scp, ingest, port } = await startScp([TransferSyntax.ImplicitVRLittleEndian]);
    try {
      const ct = instance(join(CT_DIR, 'CT000003.dcm'));
      const seg = instance(SEG);
      const rle = instance(join(CORPUS, 'MR_small_RLE.dcm'));
      const outcome = await storeInstances({ host: '127.0.0.1', port, callingAETitle: 'EXPORTER', calledAETitle: 'LIMEN', instances: [ct, seg, rle] });
      expect(outcome.association).to.equal('released');
      expect(outcome.results[0]).to.include({ sent: true, status: 0 });
      expect(outcome.results[1]).to.include({ sent: true, status: 0 });
      // Compressed pixel data would need decompressing: not sent, and the reason says so.
      expect(outcome.results[2]).to.deep.equal({
        sopInstanceUID: rle.sopInstanceUID,
        sent: false,
        reason: 'no-presentation-context',
        error: `no presentation context accepted for MR Image Storage (${StorageSopClass.MRImage}) in a transfer syntax Limen can send: the data set is in RLE Lossless, the peer accepted it only in Implicit VR Little Endian`,
      });
      expect(ingest.received).to.have.length(2);
      ingest.received.forEach((got, i) => {
        const sent = [ct, seg][i];
        expect(got.announcedSOPInstanceUID).to.equal(sent.sopInstanceUID);
        expect(got.transferSyntaxUID).to.equal(TransferSyntax.ImplicitVRLittleEndian);
        expect(Buffer.compare(got.bytes, Buffer.from(toImplicitVRLittleEndian(sent.bytes, sent.transferSyntaxUID)))).to.equal(0);
      });
    } finally {
      await scp.stop();
    }
  });

  it('says which SOP Class had no acceptable presentation context', async () => {
    const { scp, ingest, port } = await startScp([TransferSyntax.JPEGBaseline8Bit]);
    try {
      const seg = instance(SEG);
      const outcome = await storeInstances({ host: '127.0.0.1', port, callingAETitle: 'EXPORTER', calledAETitle: 'LIMEN', instances: [seg] });
      expect(outcome.association).to.equal('released');
      expect(outcome.results[0]).to.deep.equal({
        sopInstanceUID: seg.sopInstanceUID,
        sent: false,
        reason: 'no-presentation-context',
        error: `no presentation context accepted for Segmentation Storage (${StorageSopClass.Segmentation}) in a transfer syntax Limen can send: the data set is in Explicit VR Little Endian, the peer accepted none of the presentation contexts proposed for it`,
      });
      expect(ingest.received).to.have.length(0);
    } finally {
      await scp.stop();
    }
  });

  it('reports a rejected association with its A-ASSOCIATE-RJ fields', async () => {
    const { scp, port } = await startScp();
    try {
      const outcome = await storeInstances({ host: '127.0.0.1', port, callingAETitle: 'EXPORTER', calledAETitle: 'ELSEWHERE', instances: [instance(FILES[0])] });
      expect(outcome.association).to.equal('rejected');
      expect(outcome.rejection).to.deep.equal({ result: 1, source: 1, reason: 7 });
      expect(outcome.results[0]).to.include({ sent: false, reason: 'association-not-established' });
    } finally {
      await scp.stop();
    }
  });

  it('resolves with a failure, not an exception, when nobody listens', async () => {
    const { scp, port } = await startScp();
    await scp.stop();
    const outcome = await storeInstances({ host: '127.0.0.1', port, callingAETitle: 'EXPORTER', calledAETitle: 'LIMEN', instances: [instance(FILES[0])] });
    expect(outcome.association).to.equal('failed');
    expect(outcome.error).to.match(/ECONNREFUSED/);
    expect(outcome.results[0]).to.include({ sent: false, reason: 'association-not-established' });
  });

  it('names the host it calls in the TLS handshake (SNI), never an address', async () => {
    const pki = createTestPki();
    try {
      // OpenSSL's server, through Node: it sees the ClientHello's server name, if any.
      const names: string[] = [];
      const credentials = { key: readFileSync(pki.server.privateKey), cert: readFileSync(pki.server.certificate) };
      const server = createTlsServer({
        ...credentials,
        SNICallback: (name, done) => {
          names.push(name);
          done(null, createSecureContext(credentials));
        },
      }, (socket) => socket.destroy());
      server.on('tlsClientError', () => undefined);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      const send = (host: string) => storeInstances({ host, port, callingAETitle: 'EXPORTER', calledAETitle: 'PACS', instances: [instance(FILES[0])], tls: { ca: readFileSync(pki.caCertificate) }, timeoutMs: 5_000 });
      expect((await send('localhost')).association).to.equal('failed');
      expect(names).to.deep.equal(['localhost']);
      await send('127.0.0.1');
      expect(names).to.deep.equal(['localhost']);
      await new Promise((resolve) => server.close(resolve));
    } finally {
      rmSync(pki.dir, { recursive: true, force: true });
    }
  });

  it('refuses a request it cannot send, naming each issue', () => {
    expect(() =>
      storeInstances({ host: '127.0.0.1', port: 104, callingAETitle: '', calledAETitle: 'PACS', instances: [{ ...instance(FILES[0]), transferSyntaxUID: 'x' }] }),
    )
      .to.throw()
      .with.property('code', 'invalid-options');
  });

  describe('against DCMTK storescp', function () {
    let dir: string;
    before(function () {
      requirePeers(this, 'dcmtk');
      dir = mkdtempSync(join(tmpdir(), 'limen-scu-'));
    });
    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** Sends `files` in one association to storescp with `flags`, in a loopback-only namespace; every one must be stored. */
    const sendToStorescp = async (out: string, flags: string, files: readonly string[]): Promise<void> => {
      const script = [
        'set -e',
        'ip link set lo up',
        `mkdir -p ${out}`,
        `storescp ${flags} -aet STORESCP -od ${out} 11112 & pid=$!`,
        'for i in $(seq 1 100); do echoscu -aec STORESCP 127.0.0.1 11112 2>/dev/null && break; sleep 0.05; done',
        `node --import tsx test/gateway/dimse/scu-send.ts 11112 STORESCP ${files.join(' ')}`,
        'kill $pid',
      ].join('\n');
      const r = await runTool('unshare', ['-n', 'sh', '-c', script], 60_000);
      expect(r.status, r.output).to.equal(0);
      const outcome = JSON.parse(r.stdout) as Awaited<ReturnType<typeof storeInstances>>;
      expect(outcome.association).to.equal('released');
      expect(outcome.results.every((x) => x.sent && x.status === 0), JSON.stringify(outcome.results)).to.equal(true);
    };

    it('is received bit for bit by storescp in bit-preserving mode', async function () {
      this.timeout(60_000);
      const out = join(dir, 'storescp');
      // Several corpus files share a SOP Instance UID: send the ones that do not.
      await sendToStorescp(out, '+B +xa', FILES.slice(0, 4));
      const captured = new Map(readdirSync(out).map((name) => {
        const p = readPart10(join(out, name));
        return [p.sopInstanceUID, p] as const;
      }));
      for (const file of FILES.slice(0, 4)) {
        const sent = readPart10(file);
        const got = captured.get(sent.sopInstanceUID);
        expect(got, file).to.not.equal(undefined);
        expect(got!.transferSyntaxUID, file).to.equal(sent.transferSyntaxUID);
        expect(Buffer.compare(got!.dataSet, sent.dataSet), `${file}: storescp received other bytes`).to.equal(0);
      }
    });

    it('is received by storescp +xi (Implicit VR Little Endian only) with the same elements and values, valid to dciodvfy', async function () {
      this.timeout(60_000);
      requirePeers(this, 'python3-pydicom', 'dicom3tools');
      requireLoopbackNamespace(this);
      // What Limen exports (its own SEG writer), and a SEG with private elements (0013,xxxx).
      const written = writeSegmentation(segInput(syntheticLabels(loadCtGrid().geometry)));
      const limenSeg = join(dir, 'limen-seg.dcm');
      writeFileSync(limenSeg, written.bytes);
      const segs = [limenSeg, 'test/fixtures/seg-references/dcmqi/sr-example/seg.dcm'];
      for (const file of segs) expect(readPart10(file).transferSyntaxUID).to.equal(TransferSyntax.ExplicitVRLittleEndian);
      const out = join(dir, 'storescp-implicit');
      // +xi: accept Implicit VR Little Endian only; +B: write the data set as received.
      await sendToStorescp(out, '+xi +B', segs);
      const captured = new Map(readdirSync(out).map((name) => [readPart10(join(out, name)).sopInstanceUID, join(out, name)] as const));
      expect(captured.size).to.equal(segs.length);
      const dciodvfyErrors = (path: string) => runPeer('dciodvfy', [path]).stderr.split('\n').filter((l) => l.startsWith('Error'));
      for (const file of segs) {
        const got = captured.get(readPart10(file).sopInstanceUID);
        expect(got, file).to.not.equal(undefined);
        expect(readPart10(got!).transferSyntaxUID, file).to.equal(TransferSyntax.ImplicitVRLittleEndian);
        expect(dciodvfyErrors(got!), file).to.deep.equal([]);
        const comparison = comparePart10WithPydicom(file, got!);
        expect(comparison.differences, file).to.deep.equal([]);
        expect(comparison.counts.elements, file).to.be.greaterThan(50);
      }
    });

    it('sends over TLS to storescp +tls, which asks for Limen’s certificate; refuses a peer whose certificate it cannot verify', async function () {
      this.timeout(60_000);
      requirePeers(this, 'openssl');
      const pki = createTestPki();
      try {
        const out = join(dir, 'storescp-tls');
        const file = FILES[0];
        const send = (name: string, ca: string, ...own: string[]) => `node --import tsx test/gateway/dimse/scu-send.ts 11112 STORESCP --tls ${[ca, ...own].join(' ')} ${file} > ${join(dir, name)}.json`;
        const script = [
          'set -e',
          'ip link set lo up',
          `mkdir -p ${out}`,
          // storescp's default: TLS 1.2+ (non-downgrading BCP 195), and the peer must present a certificate it can verify.
          `storescp +tls ${pki.server.privateKey} ${pki.server.certificate} +cf ${pki.caCertificate} +B -aet STORESCP -od ${out} 11112 & pid=$!`,
          `for i in $(seq 1 100); do echoscu +tls ${pki.modality.privateKey} ${pki.modality.certificate} +cf ${pki.caCertificate} -aec STORESCP 127.0.0.1 11112 2>/dev/null && break; sleep 0.05; done`,
          send('trusted', pki.caCertificate, pki.modality.certificate, pki.modality.privateKey),
          // Limen does not trust storescp's certificate when told another CA.
          send('untrusted', `${pki.dir}/other-ca.crt`, pki.modality.certificate, pki.modality.privateKey),
          // storescp refuses Limen without a certificate of its own.
          send('anonymous', pki.caCertificate),
          'kill $pid',
        ].join('\n');
        const r = await runTool('unshare', ['-n', 'sh', '-c', script], 60_000);
        expect(r.status, r.output).to.equal(0);
        const [trusted, untrusted, anonymous] = ['trusted', 'untrusted', 'anonymous'].map((name) => JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as Awaited<ReturnType<typeof storeInstances>>);
        expect(trusted.association, JSON.stringify(trusted)).to.equal('released');
        expect(trusted.results[0]).to.include({ sent: true, status: 0 });
        const got = readdirSync(out).map((name) => readPart10(join(out, name)));
        expect(got).to.have.length(1);
        expect(Buffer.compare(got[0].dataSet, readPart10(file).dataSet)).to.equal(0);
        expect(untrusted).to.include({ association: 'failed' });
        expect(untrusted.error).to.match(/certificate/i);
        expect(anonymous).to.include({ association: 'failed' });
        expect(anonymous.results[0]).to.include({ sent: false });
      } finally {
        pki.remove();
      }
    });
  });
});
