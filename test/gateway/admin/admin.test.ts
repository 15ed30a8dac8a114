/**
 * The admin's hand on a study, against a real gateway and the real pipeline: process it again
 * with another model (the earlier SEG and review are replaced, not added to), see an export that
 * ran out of attempts, and retry it once the PACS is back. DCMTK sends ct-fakephi.
 */
import { expect } from 'chai';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DimseScpService } from '../../../gateway/dimse/index.js';
import type { IngestInstance } from '../../../gateway/ingest/index.js';
import { silentLogger } from '../../../gateway/log/index.js';
import { CT_FAKEPHI_DIR } from '../../support/fakephi.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { requirePeers } from '../../support/peers.js';
import { freePort } from '../../support/ports.js';
import { until } from '../../support/wait.js';
import { storeDirectory } from '../../support/dcmtk.js';

const SEG = '1.2.840.10008.5.1.4.1.1.66.4';
const PROJECT_ROOT = new URL('../../../', import.meta.url).pathname;

describe('gateway: admin re-run and export retry (real pipeline, DCMTK)', function () {
  this.timeout(300_000);
  let gw: TestGateway;
  let models: string;
  let pacsPort: number;
  let admin: string;
  let reviewer: string;
  let study: string;

  const api = async (token: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(`${gw.base}/api/v1${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as Record<string, any> };
  };

  before(async function () {
    requirePeers(this, 'dcmtk');
    // A second model: the shipped one under another id and version, as a hospital would add its own.
    models = mkdtempSync(join(tmpdir(), 'limen-models-'));
    cpSync(join(PROJECT_ROOT, 'models', 'default'), join(models, 'bone-v2'), { recursive: true });
    const manifestFile = join(models, 'bone-v2', 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, id: 'bone-v2', algorithm: { ...manifest.algorithm, version: '2.0.0' } }));
    pacsPort = await freePort(); // nobody listens yet: the PACS is down
    gw = await startTestGateway(`
models:
  dir: ${models}
export:
  retryDelaysSeconds: [0.2]
  timeoutSeconds: 5
destinations:
  pacs:
    kind: dimse
    aeTitle: PACS
    host: 127.0.0.1
    port: ${pacsPort}
routes:
  default:
    stableSeconds: 1
    destinations: [pacs]
`);
    admin = (await gw.storage.createToken({ role: 'admin', user: 'it-admin', ttlSeconds: 3600 })).token;
    reviewer = (await gw.storage.createToken({ role: 'reviewer', user: 'dr-review', ttlSeconds: 3600 })).token;
    await storeDirectory(gw.dimse.port, CT_FAKEPHI_DIR);
    study = await until(async () => (await gw.storage.reviews.list(['pending']))[0]?.studyInstanceUID, 180_000, 'the first result', 500);
  });

  after(async () => {
    await gw?.dispose();
    if (models) rmSync(models, { recursive: true, force: true });
  });

  it('lists the models an admin can choose from, configured and shipped', async () => {
    const r = await api(admin, 'GET', '/models');
    expect(r.status).to.equal(200);
    expect(r.body.models.map((m: { id: string; source: string; version: string }) => `${m.id}:${m.source}:${m.version}`)).to.deep.equal(['bone-v2:configured:2.0.0', 'default:shipped:1.0.0']);
    expect((await api(reviewer, 'GET', '/models')).status).to.equal(403);
  });

  it('serves the card of the model the review panel links to, to the reviewer', async () => {
    const review = (await gw.storage.reviews.get(study))!;
    const cardUrl = (review.summary.model as { cardUrl: string }).cardUrl;
    expect(cardUrl).to.equal('/api/v1/models/default/card');
    const r = await fetch(`${gw.base}${cardUrl}`, { headers: { authorization: `Bearer ${reviewer}` } });
    expect(r.status).to.equal(200);
    expect(r.headers.get('content-type')).to.match(/^text\/markdown/);
    expect(await r.text()).to.equal(readFileSync(join(PROJECT_ROOT, 'models', 'default', 'MODEL_CARD.md'), 'utf8'));
    expect((await fetch(`${gw.base}/api/v1/models/nope/card`, { headers: { authorization: `Bearer ${reviewer}` } })).status).to.equal(404);
  });

  it('re-runs the study with another model: one SEG and one review, the new ones', async () => {
    const before = (await gw.storage.reviews.get(study))!;
    expect((await api(admin, 'POST', `/studies/${study}/reprocess`, { model: 'nope' })).body.error.code).to.equal('unknown-model');
    const r = await api(admin, 'POST', `/studies/${study}/reprocess`, { model: 'bone-v2' });
    expect(r.status, JSON.stringify(r.body)).to.equal(202);
    expect(r.body.job).to.deep.include({ type: 'process', status: 'queued', model: 'bone-v2' });
    // The undecided review is withdrawn at once: nobody can approve what is being replaced.
    expect((await api(reviewer, 'POST', `/reviews/${study}/decision`, { decision: 'approve' })).status).to.equal(404);
    expect((await api(admin, 'POST', `/studies/${study}/reprocess`, {})).status).to.equal(409);

    const after = await until(async () => {
      const rv = await gw.storage.reviews.get(study);
      return rv && rv.segSOPInstanceUID !== before.segSOPInstanceUID ? rv : undefined;
    }, 180_000, 'the re-run result', 500);
    expect((after.summary.model as { id: string; version: string })).to.deep.include({ id: 'bone-v2', version: '2.0.0' });
    expect((await gw.storage.getStudy(study))!.status).to.equal('awaiting_review');
    const segs = (await gw.storage.listInstances(study)).filter((i) => i.sopClassUID === SEG);
    expect(segs.map((s) => s.sopInstanceUID)).to.deep.equal([after.segSOPInstanceUID]);
    const audit = (await gw.storage.audit.list({ limit: 10_000 })).filter((e) => e.studyInstanceUID === study).map((e) => e.type);
    expect(audit).to.include('processing.requested');
    expect(audit.filter((t) => t === 'processing.completed')).to.have.length(2);
  });

  it('shows an export that ran out of attempts, and retries it when the PACS is back; a requester gets the models only once approved', async () => {
    const requester = (await gw.storage.createToken({ role: 'requester', user: 'dr-order', ttlSeconds: 3600 })).token;
    const results = (path = '') => fetch(`${gw.base}/api/v1/results/${study}${path}`, { headers: { authorization: `Bearer ${requester}` } });
    expect((await results()).status, 'awaiting review').to.equal(404);
    expect((await results('/model.glb')).status, 'awaiting review').to.equal(404);
    expect((await fetch(`${gw.base}/api/v1/results/${study}`, { headers: { authorization: `Bearer ${reviewer}` } })).status, 'the reviewer sees it').to.equal(200);
    const decision = await api(reviewer, 'POST', `/reviews/${study}/decision`, { decision: 'approve' });
    expect(decision.status, JSON.stringify(decision.body)).to.equal(200);
    expect((await results()).status, 'approved').to.equal(200);
    expect((await results('/model.glb')).status, 'approved').to.equal(200);
    const dead = await until(async () => {
      const jobs = (await api(admin, 'GET', `/studies/${study}/jobs`)).body.jobs as Array<Record<string, any>>;
      return jobs.find((j) => j.type === 'export' && j.status === 'dead');
    }, 60_000, 'the export to give up', 300);
    expect(dead).to.deep.include({ destination: 'pacs', attempts: 2, maxAttempts: 2 });
    expect(dead.lastError).to.be.a('string').and.not.equal('');
    expect((await gw.storage.getStudy(study))!.status).to.equal('approved');

    const received: IngestInstance[] = [];
    const pacs = new DimseScpService(
      { host: '127.0.0.1', port: pacsPort, aeTitle: 'PACS', acceptedSopClasses: [SEG] },
      {
        ingest: { ingest: async (i) => (received.push(i), { ok: true, sopClassUID: SEG, sopInstanceUID: i.announcedSOPInstanceUID ?? '', studyInstanceUID: '', duplicate: false }) },
        associate: () => ({ accept: true, route: 'default' }),
        logger: silentLogger,
      },
    );
    await pacs.start();
    try {
      expect((await api(admin, 'POST', `/jobs/${dead.id}/retry`)).status).to.equal(200);
      expect((await api(admin, 'POST', `/jobs/${dead.id}/retry`)).body.error.code).to.equal('not-dead');
      await until(async () => ((await gw.storage.getStudy(study))!.status === 'delivered' ? true : undefined), 60_000, 'the delivery', 300);
      expect(received.map((i) => i.announcedSOPClassUID)).to.deep.equal([SEG]);
    } finally {
      await pacs.stop();
    }
    // Delivered is final: no re-run of a result that left.
    expect((await api(admin, 'POST', `/studies/${study}/reprocess`, {})).body.error.code).to.equal('not-reprocessable');
    const audit = (await gw.storage.audit.list({ limit: 10_000 })).filter((e) => e.studyInstanceUID === study);
    expect(audit.map((e) => e.type)).to.include.members(['export.retry-requested', 'exported']);
    expect(audit.find((e) => e.type === 'export.retry-requested')!.detail).to.deep.equal({ jobId: dead.id, destination: 'pacs', attempts: 2 });
    // The retried attempt is the third, not a second "attempt 1" in the trail.
    expect(audit.filter((e) => e.type === 'export.sending').map((e) => e.detail.attempt)).to.deep.equal([1, 2, 3]);
    expect(audit.find((e) => e.type === 'exported')!.detail.attempt).to.equal(3);
    // What an operator alerts on: the destination's attempts and how each ended.
    const metrics = await (await fetch(`${gw.base}/metrics`)).text();
    const attempts = (outcome: string) => Number(new RegExp(`^limen_export_attempts_total\\{destination="pacs",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(metrics)?.[1]);
    expect(['delivered', 'warning', 'retry', 'dead'].map(attempts)).to.deep.equal([1, 0, 1, 1]);
    // The first result and the re-run with the other model.
    expect(/^limen_process_runs_total\{outcome="done"\} (\d+)$/m.exec(metrics)?.[1]).to.equal('2');
    expect(/^limen_process_runs_total\{outcome="dead"\} (\d+)$/m.exec(metrics)?.[1]).to.equal('0');
  });

  it("lets the privacy officer read the study's whole trail, a page at a time, and the rules it was received under", async () => {
    const auditor = (await gw.storage.createToken({ role: 'auditor', user: 'privacy-officer', ttlSeconds: 3600 })).token;
    const read = async (query: string, token = auditor) => {
      const r = await fetch(`${gw.base}/api/v1/audit${query}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: r.status, body: (await r.json()) as { events: Array<Record<string, any>>; next?: number; error?: { code: string } } };
    };
    expect((await read(`?study=${study}`, reviewer)).status, 'not a reviewer').to.equal(403);
    expect((await read('?study=Doe^Jane')).body.error?.code).to.equal('invalid-uid');
    expect((await read('?limit=0')).status).to.equal(400);

    // Paged in chain order: every event of the study, as the storage holds it.
    const seen: Array<Record<string, any>> = [];
    let after: number | undefined = 0;
    while (after !== undefined) {
      const page = await read(`?study=${study}&limit=50&after=${after}`);
      expect(page.status).to.equal(200);
      seen.push(...page.body.events);
      after = page.body.next;
    }
    const held = (await gw.storage.audit.list({ studyInstanceUID: study, limit: 10_000 })).map((e) => e.seq);
    expect(seen.map((e) => e.seq)).to.deep.equal(held);
    expect(seen.every((e) => e.sealed === true && e.studyInstanceUID === study)).to.equal(true);
    const types = new Set(seen.map((e) => e.type));
    for (const t of ['instance.stored', 'study.complete', 'processing.completed', 'review.approved', 'export.sending', 'export.failed', 'export.retry-requested', 'exported']) expect([...types], t).to.include(t);
    // The PACS was down: each failed attempt is in the trail, the last one dead, before the retry.
    const failed = seen.filter((e) => e.type === 'export.failed');
    expect(failed.map((e) => e.detail.outcome)).to.deep.equal(['queued', 'dead']);
    expect(failed[1].detail).to.include({ destination: 'pacs', attempt: 2 });

    const started = (await read('?type=gateway.started')).body.events;
    expect(started).to.have.length.greaterThan(0);
    expect(started[0].detail.routes.default.deidentification).to.deep.include({ profile: 'basic', options: [] });
  });
});
