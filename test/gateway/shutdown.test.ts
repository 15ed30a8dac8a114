/**
 * How a running gateway stops: every receiver stops accepting at once, whatever another is still
 * finishing; in-flight work drains in parallel under one deadline, past which it is cut off; and
 * the stop says whether it went cleanly (the exit status of `limen start`).
 */
import { expect } from 'chai';
import { until } from '../support/wait.js';
import { createTestPki, type TestPki } from '../support/tls-certificates.js';
import { freePort } from '../support/ports.js';
import { requirePeers } from '../support/peers.js';
import { connects, holdStore, holdStow, startStopGateway, type StopGateway } from './stop-harness.js';

/** Bytes the receivers hold for data sets still arriving (`/metrics`). */
async function receiving(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^limen_receive_memory_bytes (\d+)/m.exec(text)?.[1] ?? 0);
}

describe('gateway stop', function () {
  this.timeout(30_000);
  let pki: TestPki;
  let g: StopGateway | undefined;

  before(function () {
    requirePeers(this, 'openssl');
    pki = createTestPki();
  });
  after(() => pki?.remove());
  afterEach(async () => {
    await g?.dispose();
    g = undefined;
  });

  const start = async (stopDeadlineMs?: number) => {
    const yaml = `dimse:\n  tls: { port: ${await freePort()}, certificateFile: ${pki.server.certificate}, privateKeyFile: ${pki.server.privateKey} }\nworker:\n  enabled: false\n`;
    g = await startStopGateway(yaml, stopDeadlineMs === undefined ? {} : { stopDeadlineMs });
    return g;
  };
  const base = () => `http://127.0.0.1:${g!.gw.http.port}`;
  const modalityToken = async () => (await g!.gw.storage.createToken({ role: 'modality', user: 'ct-7', ttlSeconds: 3600 })).token;

  it('stops both DIMSE listeners (plain and TLS) accepting at once while a STOW request is still being received, then answers that request', async () => {
    const { gw } = await start();
    const stow = holdStow(gw.http.port, await modalityToken());
    await until(async () => ((await gw.storage.audit.list({ type: 'stow.request' })).length > 0 ? true : undefined), 10_000, 'the STOW request in flight');

    const stopping = gw.stop();
    // Stopped one after the other, DIMSE would accept for as long as HTTP drains (up to 30 s).
    expect(await connects(gw.dimse.port), 'DIMSE').to.equal('refused');
    expect(await connects(gw.dimseTls!.port), 'DIMSE over TLS').to.equal('refused');
    expect(await connects(gw.http.port), 'HTTP').to.equal('refused');

    const answer = await stow.finish();
    expect(answer.status, answer.body).to.equal(200);
    const outcome = await stopping;
    expect(outcome).to.deep.equal({ ok: true, failures: [], cutOff: false });
  });

  it('stops HTTP accepting at once while a C-STORE is still being received, then answers that C-STORE with success', async () => {
    const { gw } = await start();
    const store = await holdStore(gw.dimse.port);
    await until(async () => ((await receiving(base())) > 0 ? true : undefined), 10_000, 'the data set arriving');

    const stopping = gw.stop();
    expect(await connects(gw.http.port), 'HTTP').to.equal('refused');
    expect(await connects(gw.dimse.port), 'DIMSE').to.equal('refused');
    expect(await connects(gw.dimseTls!.port), 'DIMSE over TLS').to.equal('refused');

    expect(await store.finish()).to.equal(0x0000);
    expect((await stopping).ok).to.equal(true);
  });

  it('drains every receiver under one deadline, and past it cuts off what is left (nothing acknowledged)', async () => {
    const { gw } = await start(500);
    const stow = holdStow(gw.http.port, await modalityToken());
    const store = await holdStore(gw.dimse.port);
    await until(async () => ((await gw.storage.audit.list({ type: 'stow.request' })).length > 0 && (await receiving(base())) > 0 ? true : undefined), 10_000, 'both in flight');

    const t0 = Date.now();
    const outcome = await gw.stop();
    // One deadline for all, not each service's own 30 s one after the other.
    expect(Date.now() - t0).to.be.below(3_000);
    expect(outcome).to.deep.equal({ ok: true, failures: [], cutOff: true });
    expect(await stow.answered).to.have.property('error');
    await store.peer.closedPromise;
    const deadline = g!.records().find((r) => r.id === 'gateway.stop.deadline');
    expect(deadline, 'the deadline is logged with what was still draining').to.include({ level: 'warn' });
    expect(deadline!.draining).to.include.members(['http', 'dimse-scp']);
  });

  it('says a stop failed when a service’s stop or the storage’s close failed', async () => {
    const { gw } = await start();
    const watch = gw.services.find((s) => s.name === 'certificate-watch')!;
    watch.stop = async () => {
      throw new Error('timer gone astray');
    };
    const close = gw.storage.close.bind(gw.storage);
    gw.storage.close = async () => {
      await close();
      throw new Error('the disk went away');
    };
    const outcome = await gw.stop();
    expect(outcome.ok).to.equal(false);
    expect(outcome.failures).to.deep.equal([
      { name: 'certificate-watch', message: 'timer gone astray' },
      { name: 'storage', message: 'the disk went away' },
    ]);
    expect(g!.records().find((r) => r.id === 'gateway.stopped')).to.deep.include({ level: 'error', failed: ['certificate-watch', 'storage'] });
  });

  it('abort() stops at once: an in-flight C-STORE is aborted without waiting for the deadline', async () => {
    const { gw } = await start();
    const store = await holdStore(gw.dimse.port);
    await until(async () => ((await receiving(base())) > 0 ? true : undefined), 10_000, 'the data set arriving');
    const t0 = Date.now();
    const stopping = gw.stop();
    await new Promise((r) => setTimeout(r, 100));
    const aborted = await gw.abort();
    expect(Date.now() - t0).to.be.below(2_000);
    expect(aborted).to.deep.include({ ok: true, cutOff: true });
    expect(await stopping, 'the same stop').to.equal(aborted);
    await store.peer.closedPromise;
  });
});
