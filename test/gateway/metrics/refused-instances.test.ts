/**
 * Instances a receiver refuses before the edge sees them were missing from
 * `limen_instances_received_total` and `limen_instances_failed_total`, so an alert on failed
 * instances missed a modality sending non-DICOM parts or data sets too large to take. And the
 * refusal counters had no series before their first event, so alerts and rate() saw nothing.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { DimseScpService, StorageSopClass, TransferSyntax } from '../../../gateway/dimse/index.js';
import { createHttpApp } from '../../../gateway/http/index.js';
import { silentLogger } from '../../../gateway/log/index.js';
import { createEdgeMetrics, FAILURE_REASONS, MetricsRegistry, REFUSAL_REASONS } from '../../../gateway/metrics/index.js';
import { RecordingIngest } from '../dimse/helpers.js';
import { associateRq, commandElement, commandSet, cStoreRq, pData, RawPeer } from '../dimse/raw-pdu.js';
import { makeHarness, multipart, STOW_TYPE, type Harness } from '../http/harness.js';
import { parseExposition } from './exposition-parser.js';

const CT_FILE = 'test/fixtures/ct-fakephi/dicom/CT000040.dcm';

/** The value of one sample, or undefined when the series does not exist; the text must parse. */
function sample(registry: MetricsRegistry, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = parseExposition(registry.render()).get(name);
  return family?.samples.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
}

describe('gateway/metrics instances refused before the edge', () => {
  it('limen_instances_failed_total has a zero series for every reason, the edge’s and the receivers’', () => {
    const registry = new MetricsRegistry();
    createEdgeMetrics(registry);
    for (const reason of [...FAILURE_REASONS, ...REFUSAL_REASONS]) expect(sample(registry, 'limen_instances_failed_total', { reason }), reason).to.equal(0);
  });

  describe('STOW-RS', () => {
    const post = (h: Harness, body: Uint8Array) =>
      createHttpApp(h.deps).request('/dicomweb/studies', { method: 'POST', body: new Uint8Array(body), headers: { authorization: 'Bearer modality-token', 'content-type': STOW_TYPE() } });

    it('has zero series for every reason of limen_stow_parts_rejected_total before the first request', () => {
      const h = makeHarness();
      createHttpApp(h.deps);
      for (const reason of ['not-dicom-media-type', 'not-part10', 'too-large', 'no-memory', 'study-unreadable', 'study-mismatch', 'ingest-error']) {
        expect(sample(h.deps.metrics, 'limen_stow_parts_rejected_total', { reason }), reason).to.equal(0);
      }
    });

    it('counts a part that is not Part 10, a non-DICOM part and a part above the size limit as received and failed', async () => {
      const h = makeHarness();
      const received = () => sample(h.deps.metrics, 'limen_instances_received_total');
      const failed = (reason: string) => sample(h.deps.metrics, 'limen_instances_failed_total', { reason });

      expect((await post(h, multipart([{ bytes: Buffer.from('not dicom at all') }]))).status).to.equal(409);
      expect(sample(h.deps.metrics, 'limen_stow_parts_rejected_total', { reason: 'not-part10' })).to.equal(1);
      expect([received(), failed('not-part10')]).to.deep.equal([1, 1]);

      // After a stored instance a non-DICOM part fails alone (the stored one is the edge's to count).
      const later = await post(h, multipart([{ bytes: readFileSync(CT_FILE) }, { bytes: Buffer.from('hello'), contentType: 'text/plain' }]));
      expect(later.status).to.equal(202);
      expect([received(), failed('not-dicom-media-type')]).to.deep.equal([2, 1]);

      const tooLarge = await post(h, multipart([{ bytes: Buffer.alloc(h.deps.options!.maxInstanceBytes! + 1) }]));
      expect(tooLarge.status).to.equal(413);
      expect(sample(h.deps.metrics, 'limen_stow_parts_rejected_total', { reason: 'too-large' })).to.equal(1);
      expect([received(), failed('too-large')]).to.deep.equal([3, 1]);
    });

    it('counts a part the edge threw on as failed, not received twice', async () => {
      const h = makeHarness({ ingest: { ingest: () => Promise.reject(new Error('disk controller on fire')) } });
      expect((await post(h, multipart([{ bytes: readFileSync(CT_FILE) }]))).status).to.equal(409);
      expect(sample(h.deps.metrics, 'limen_instances_failed_total', { reason: 'ingest-error' })).to.equal(1);
      expect(sample(h.deps.metrics, 'limen_instances_received_total')).to.equal(0);
    });
  });

  describe('DIMSE', () => {
    it('has zero series for every reason, then counts a too-large data set and a malformed C-STORE as received and failed', async () => {
      const metrics = new MetricsRegistry();
      const scp = new DimseScpService(
        { host: '127.0.0.1', port: 0, aeTitle: 'LIMEN', acceptedSopClasses: [StorageSopClass.CTImage], maxDataSetBytes: 4096 },
        { ingest: new RecordingIngest(), metrics, associate: () => ({ accept: true, route: 'ct' }), logger: silentLogger },
      );
      await scp.start();
      try {
        for (const reason of ['too-large', 'no-memory', 'no-data-set', 'no-affected-sop-class', 'no-affected-sop-instance', 'sop-class-not-on-context', 'ingest-threw']) {
          expect(sample(metrics, 'limen_dimse_stores_refused_total', { reason }), reason).to.equal(0);
        }
        expect(sample(metrics, 'limen_instances_received_total')).to.equal(0);

        const peer = await RawPeer.open(scp.address!.port);
        peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: StorageSopClass.CTImage, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] }]));
        expect((await peer.next())?.type).to.equal(0x02);
        const status = async () => commandElement((await peer.next())!.body.subarray(6), 0x0900)?.readUInt16LE(0);

        peer.send(Buffer.concat([pData(1, cStoreRq(1, StorageSopClass.CTImage, '2.25.71'), true), pData(1, Buffer.alloc(5000, 0x55), false)]));
        expect(await status()).to.equal(0xa700);
        // No Affected SOP Instance UID: answered C000 without the edge.
        const noInstance = commandSet([
          [0x0002, 'UI', StorageSopClass.CTImage],
          [0x0100, 'US', 0x0001],
          [0x0110, 'US', 2],
          [0x0700, 'US', 0],
          [0x0800, 'US', 0x0000],
        ]);
        peer.send(Buffer.concat([pData(1, noInstance, true), pData(1, Buffer.from([0x08, 0, 0x16, 0, 0x55, 0x49, 2, 0, 0x31, 0]), false)]));
        expect(await status()).to.equal(0xc000);
        await peer.release();

        expect(sample(metrics, 'limen_dimse_stores_refused_total', { reason: 'too-large' })).to.equal(1);
        expect(sample(metrics, 'limen_dimse_stores_refused_total', { reason: 'no-affected-sop-instance' })).to.equal(1);
        expect(sample(metrics, 'limen_instances_received_total')).to.equal(2);
        expect(sample(metrics, 'limen_instances_failed_total', { reason: 'too-large' })).to.equal(1);
        expect(sample(metrics, 'limen_instances_failed_total', { reason: 'no-affected-sop-instance' })).to.equal(1);
      } finally {
        await scp.stop();
      }
    });
  });
});
