/**
 * Conformance with a second independent client: Orthanc's DICOMweb plugin, configured with
 * Limen as a remote DICOMweb server, queries Limen and retrieves a study into Orthanc. Orthanc
 * binds every interface, so the scenario runs in a network namespace that has only loopback.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { requirePeers } from '../../support/peers.js';

const run = promisify(execFile);
const SCENARIO = new URL('./orthanc-scenario.ts', import.meta.url).pathname;

describe('gateway/dicomweb read side with Orthanc\'s DICOMweb plugin (real peers)', function () {
  this.timeout(180_000);
  let result: any;

  before(async function () {
    requirePeers(this, 'orthanc', 'orthanc-dicomweb');
    const { stdout } = await run('unshare', ['-n', 'sh', '-c', `ip link set lo up && exec node --import tsx ${SCENARIO}`], {
      env: { ...process.env, TCP_NODELAY: '1' },
      maxBuffer: 16 << 20,
    });
    result = JSON.parse(stdout.trim().split('\n').at(-1)!);
  });

  it('finds the study by QIDO-RS through Orthanc, with its pseudonymous PatientID', () => {
    expect(result.qidoStudies).to.deep.equal([result.study]);
    expect(result.qidoPatientIDs[0]).to.match(/^LIMEN-/);
    expect(result.seriesCount).to.equal(1);
    expect(result.metadataCount).to.equal(112);
  });

  it('retrieves the study into Orthanc by WADO-RS: every instance, byte for byte as Limen stores it', () => {
    expect(result.retrieve.ReceivedInstancesCount).to.equal('112');
    expect(result.receivedStudy).to.equal(result.study);
    expect(result.receivedInstances).to.equal(112);
    expect(result.identical).to.equal(result.limenInstances);
  });
});
