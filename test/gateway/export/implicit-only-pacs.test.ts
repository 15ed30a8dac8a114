/**
 * A PACS that accepts only Implicit VR Little Endian (which every DICOM implementation must,
 * PS3.5 §10.1) receives the Explicit VR Little Endian SEG re-encoded; one that accepts no
 * transfer syntax Limen can send gets an error saying so, not "C-STORE status none".
 */
import { expect } from 'chai';
import { toImplicitVRLittleEndian } from '../../../gateway/dimse/implicit-vr.js';
import { DimseScpService, StorageSopClass, TransferSyntax } from '../../../gateway/dimse/index.js';
import { DimseDestination, type OutgoingInstance } from '../../../gateway/export/destinations.js';
import { silentLogger } from '../../../gateway/log/index.js';
import { RecordingIngest } from '../dimse/helpers.js';
import { SEGMENTATION_STORAGE } from '../../../pipeline/seg/index.js';
import { outgoingSeg } from './seg-fixture.js';

describe('export: a DIMSE destination that accepts only Implicit VR Little Endian', function () {
  this.timeout(30_000);
  let seg: OutgoingInstance;
  let dataSet: Uint8Array;

  before(() => {
    let transferSyntaxUID: string;
    ({ seg, dataSet, transferSyntaxUID } = outgoingSeg());
    expect(transferSyntaxUID).to.equal(TransferSyntax.ExplicitVRLittleEndian);
  });

  async function pacs(acceptedTransferSyntaxes: string[]) {
    const ingest = new RecordingIngest();
    const scp = new DimseScpService(
      { host: '127.0.0.1', port: 0, aeTitle: 'PACS', acceptedSopClasses: [StorageSopClass.Segmentation], acceptedTransferSyntaxes },
      { ingest, associate: () => ({ accept: true, route: 'r' }), logger: silentLogger },
    );
    await scp.start();
    const destination = new DimseDestination('pacs', { kind: 'dimse', aeTitle: 'PACS', host: '127.0.0.1', port: scp.address!.port }, 'LIMEN', 10_000);
    return { scp, ingest, destination };
  }

  it('receives the SEG re-encoded in Implicit VR Little Endian', async () => {
    const { scp, ingest, destination } = await pacs([TransferSyntax.ImplicitVRLittleEndian]);
    try {
      await destination.send(seg);
      expect(ingest.received).to.have.length(1);
      const got = ingest.received[0];
      expect(got.transferSyntaxUID).to.equal(TransferSyntax.ImplicitVRLittleEndian);
      expect(got.announcedSOPInstanceUID).to.equal(seg.sopInstanceUID);
      expect(Buffer.compare(got.bytes, Buffer.from(toImplicitVRLittleEndian(dataSet, TransferSyntax.ExplicitVRLittleEndian)))).to.equal(0);
    } finally {
      await scp.stop();
    }
  });

  it('a PACS accepting no transfer syntax Limen can send: the error says so', async () => {
    const { scp, ingest, destination } = await pacs([TransferSyntax.JPEGBaseline8Bit]);
    try {
      const failure = await destination.send(seg).then(() => undefined, (e: Error) => e);
      expect(failure?.message).to.include(`no presentation context accepted for Segmentation Storage (${SEGMENTATION_STORAGE}) in a transfer syntax Limen can send`);
      expect(ingest.received).to.have.length(0);
    } finally {
      await scp.stop();
    }
  });
});
