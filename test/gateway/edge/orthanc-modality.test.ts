/**
 * Orthanc as the modality: a real PACS pushes ct-fakephi to Limen with its
 * `POST /modalities/{id}/store`. Orthanc 1.10 binds every interface, so the whole scenario
 * (scenarios/orthanc-push.ts: Limen in process, Orthanc, the push, the checks at rest) runs in
 * a network namespace with loopback only, and prints its findings as JSON for the assertions.
 */
import { expect } from 'chai';
import { PROJECT_ROOT, TSX_LOADER } from '../../support/limen-cli.js';
import { requireLoopbackNamespace, runInLoopbackNamespace, type NamespacedRun } from '../../support/netns.js';
import { requirePeers } from '../../support/peers.js';
import type { OrthancPushResult } from './scenarios/orthanc-push.js';

const SCENARIO = new URL('./scenarios/orthanc-push.ts', import.meta.url).pathname;

describe('edge: Orthanc pushes a study to Limen (C-STORE SCU → Limen SCP)', function () {
  this.timeout(90_000);
  let run: NamespacedRun | undefined;
  let result: OrthancPushResult;

  before(async function () {
    requirePeers(this, 'orthanc', 'openssl');
    requireLoopbackNamespace(this);
    run = runInLoopbackNamespace([process.execPath, '--import', TSX_LOADER, SCENARIO], { cwd: PROJECT_ROOT, env: { ...process.env, TCP_NODELAY: '1' } });
    const done = await run.done;
    const last = done.stdout.trim().split('\n').at(-1) ?? '';
    try {
      result = JSON.parse(last) as OrthancPushResult;
    } catch {
      throw new Error(`the scenario printed no result (exit ${done.code ?? done.signal}):\n${done.stdout}\n${done.stderr}`);
    }
    if (!result.ok) throw new Error(`the scenario failed:\n${result.error}\n${done.stderr}`);
  });

  after(async () => {
    // Only when a hook timed out with the scenario still running: it stops its peers on SIGTERM.
    if (run && run.child.exitCode === null && run.child.signalCode === null) {
      process.kill(run.child.pid!, 'SIGTERM');
      await run.done;
    }
  });

  it('Orthanc held the series and reports every instance sent, none failed', () => {
    expect(result.uploaded).to.deep.equal({ instances: 112, studies: 1 });
    expect(result.store).to.include({ InstancesCount: 112, FailedInstancesCount: 0, LocalAet: 'ORTHANC', RemoteAet: 'LIMEN' });
  });

  it('Limen accepted the association from the listed AE ORTHANC and rejected none', () => {
    expect(result.association!.accepted).to.include('ORTHANC');
    expect(result.association!.rejected).to.equal(0);
  });

  it('Orthanc pushed the study again over DICOM TLS with its certificate, and Limen counted every instance once', () => {
    expect(result.tlsStore).to.include({ InstancesCount: 112, FailedInstancesCount: 0, RemoteAet: 'LIMEN' });
    expect(result.transports).to.deep.equal([{ transport: 'tcp' }, { transport: 'tls', peerCertificateSha256: result.orthancCertificateSha256 }]);
    expect(result.studies![0].instanceCount).to.equal(112);
  });

  it('holds one de-identified study with all 112 instances on the caller\'s route', () => {
    expect(result.studies).to.have.length(1);
    const [study] = result.studies!;
    expect(study).to.include({ seriesCount: 1, instanceCount: 112, route: 'default' });
    expect(study.studyInstanceUID).to.match(/^2\.25\.\d+$/);
    expect(result.studyUIDIsKeyedReplacement, 'the Study Instance UID is the keyed replacement of the original').to.equal(true);
  });

  it('completes the study after its stable time and queues one process job', () => {
    expect(result.statusAfterWait).to.equal('complete');
    expect(result.completeEvents).to.equal(1);
    expect(result.processJobs).to.equal(1);
  });

  it('keeps no PHI at rest: data dir, decrypted blobs and logs', () => {
    expect(result.decryptedInstances).to.equal(112);
    expect(result.scannedFiles).to.be.greaterThan(112);
    expect(result.phiHits).to.deep.equal([]);
  });
});
