import { expect } from 'chai';
import { readdirSync, utimesSync, copyFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { BLOB_DIR } from '../../storage/index.js';
import { describeEachDatabase } from './harness.js';
import { instanceInput, manualClock, rejection, studyInputs, uid } from './fixtures.js';

function blobFiles(dataDir: string): string[] {
  const root = join(dataDir, BLOB_DIR);
  return existsSync(root) ? readdirSync(root).flatMap((d) => readdirSync(join(root, d)).filter((f) => !f.startsWith('.tmp-')).map((f) => `${d}/${f}`)) : [];
}

describeEachDatabase('storage: instances', (h) => {
  it('stores an instance and gives back the same bytes, study, series and counts', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const inputs = studyInputs(2, 3);
    const results = [];
    for (const input of inputs) results.push(await s.storeInstance(input));
    expect(results.map((r) => r.duplicate)).to.deep.equal([false, false, false, false, false, false]);
    expect(results[0].newStudy).to.equal(true);
    expect(results.slice(1).every((r) => !r.newStudy)).to.equal(true);
    expect(results.filter((r) => r.newSeries)).to.have.length(2);

    for (const input of inputs) {
      const blob = await s.getInstanceBlob(input.sopInstanceUID);
      expect(blob, input.sopInstanceUID).to.not.equal(null);
      expect(Buffer.from(blob!.bytes).equals(Buffer.from(input.bytes))).to.equal(true);
      expect(blob!.studyInstanceUID).to.equal(input.studyInstanceUID);
      expect(blob!.transferSyntaxUID).to.equal(input.transferSyntaxUID);
    }
    const study = await s.getStudy(inputs[0].studyInstanceUID);
    expect(study).to.include({ status: 'receiving', route: 'default', seriesCount: 2, instanceCount: 6 });
    expect(study!.series.map((x) => x.instanceCount)).to.deep.equal([3, 3]);
    expect(study!.series.map((x) => x.seriesNumber)).to.deep.equal([1, 2]);
    expect(study!.attributes).to.deep.equal({ StudyDate: '20240101', PatientID: 'PSEUDO-1' });
    expect(study!.firstReceivedAt!.getTime()).to.equal(clock.now().getTime());
    expect(study!.expiresAt!.getTime()).to.equal(clock.now().getTime() + 30 * 86_400_000);
    expect(await s.listInstances(inputs[0].studyInstanceUID, inputs[0].seriesInstanceUID)).to.have.length(3);
    expect(await s.getInstanceBlob(uid())).to.equal(null);
    expect(await s.getStudy(uid())).to.equal(null);
  });

  it('lists studies newest first, with paging and a total', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const studies: string[] = [];
    for (let i = 0; i < 3; i++) {
      const input = instanceInput();
      studies.push(input.studyInstanceUID);
      await s.storeInstance(input);
      clock.advance(5);
    }
    const page = await s.listStudies({ limit: 2, offset: 0 });
    expect(page.total).to.equal(3);
    expect(page.studies.map((x) => x.studyInstanceUID)).to.deep.equal([studies[2], studies[1]]);
    const rest = await s.listStudies({ limit: 2, offset: 2 });
    expect(rest.studies.map((x) => x.studyInstanceUID)).to.deep.equal([studies[0]]);
  });

  it('resending an instance stores nothing new and counts it once', async () => {
    const s = await h.open();
    const input = instanceInput();
    expect((await s.storeInstance(input)).duplicate).to.equal(false);
    const blobsAfterFirst = blobFiles(h.dataDir);
    const again = await s.storeInstance({ ...input, bytes: Buffer.from('different bytes, same UID') });
    expect(again.duplicate).to.equal(true);
    expect(blobFiles(h.dataDir)).to.deep.equal(blobsAfterFirst);
    const study = await s.getStudy(input.studyInstanceUID);
    expect(study).to.include({ instanceCount: 1, seriesCount: 1 });
    expect(Buffer.from((await s.getInstanceBlob(input.sopInstanceUID))!.bytes).equals(Buffer.from(input.bytes))).to.equal(true);
    const rows = await h.sql('SELECT count(*) AS n FROM instances');
    expect(Number(rows[0].n)).to.equal(1);
  });

  it('concurrent resends of one instance commit it once, leaving one blob', async () => {
    const s = await h.open();
    const input = instanceInput();
    const results = await Promise.all(Array.from({ length: 6 }, () => s.storeInstance(input)));
    expect(results.filter((r) => !r.duplicate)).to.have.length(1);
    expect(await s.getStudy(input.studyInstanceUID)).to.include({ instanceCount: 1, seriesCount: 1 });
    expect(blobFiles(h.dataDir)).to.have.length(1);
  });

  it('concurrent instances of one study are all counted', async () => {
    const s = await h.open();
    const inputs = studyInputs(3, 8);
    await Promise.all(inputs.map((i) => s.storeInstance(i)));
    expect(await s.getStudy(inputs[0].studyInstanceUID)).to.include({ instanceCount: 24, seriesCount: 3 });
  });

  it('refuses a SOP Instance UID already stored under another study, and leaves no blob behind', async () => {
    const s = await h.open();
    const input = instanceInput();
    await s.storeInstance(input);
    const err = await rejection(s.storeInstance({ ...input, studyInstanceUID: uid() }));
    expect(err.code).to.equal('uid-conflict');
    const seriesThief = instanceInput({ seriesInstanceUID: input.seriesInstanceUID });
    expect((await rejection(s.storeInstance(seriesThief))).code).to.equal('uid-conflict');
    expect(blobFiles(h.dataDir)).to.have.length(1);
    expect(await s.getInstanceBlob(seriesThief.sopInstanceUID)).to.equal(null);
  });

  it('refuses malformed input before writing anything, naming the field', async () => {
    const s = await h.open();
    const cases: [Partial<Parameters<typeof s.storeInstance>[0]>, string][] = [
      [{ sopInstanceUID: '1.2.abc' }, 'sopInstanceUID'],
      [{ studyInstanceUID: '1.' + '2'.repeat(70) }, 'studyInstanceUID'],
      [{ bytes: new Uint8Array(0) }, 'bytes'],
      [{ route: '' }, 'route'],
      [{ stableSeconds: 0 }, 'stableSeconds'],
      [{ retentionDays: 1.5 }, 'retentionDays'],
      [{ linkage: () => 0 }, 'linkage'],
    ];
    for (const [override, path] of cases) {
      const err = await rejection(s.storeInstance(instanceInput(override)));
      expect(err.code, path).to.equal('invalid-input');
      expect(err.path).to.equal(path);
    }
    expect(blobFiles(h.dataDir)).to.deep.equal([]);
    expect((await s.listStudies()).total).to.equal(0);
  });

  it('a blob left by a crash before commit is never an instance, and the sweep removes it', async () => {
    const clock = manualClock(Date.now());
    const s = await h.open({ now: clock.now });
    const input = instanceInput();
    await s.storeInstance(input);
    const [kept] = blobFiles(h.dataDir);
    const root = join(h.dataDir, BLOB_DIR);
    const dir = kept.split('/')[0];
    // What a crash between rename and commit leaves: a complete blob file no row points to,
    // and what a crash mid-write leaves: a temporary file.
    const orphan = `${dir}/${'ab'.repeat(16)}.blob`;
    copyFileSync(join(root, kept), join(root, orphan));
    writeFileSync(join(root, dir, '.tmp-partial'), 'half');
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(join(root, orphan), old, old);
    utimesSync(join(root, dir, '.tmp-partial'), old, old);
    expect(await s.listInstances(input.studyInstanceUID)).to.have.length(1);

    const fresh = await s.sweepOrphanBlobs({ olderThanSeconds: 3 * 3600 });
    expect(fresh).to.deep.equal({ orphanBlobs: 0, tempFiles: 0, emptyStudies: 0 });
    const report = await s.sweepOrphanBlobs();
    expect(report).to.include({ orphanBlobs: 1, tempFiles: 1 });
    expect(blobFiles(h.dataDir)).to.deep.equal([kept]);
    expect(Buffer.from((await s.getInstanceBlob(input.sopInstanceUID))!.bytes).equals(Buffer.from(input.bytes))).to.equal(true);
  });

  it('the sweep removes a study row that never got an instance, once it is old', async () => {
    const clock = manualClock(Date.now());
    const s = await h.open({ now: clock.now });
    const input = instanceInput();
    // A blob write that fails after step 1 leaves the study row and key without instances.
    await h.sql('INSERT INTO studies (study_instance_uid, status, route, stable_seconds, retention_days, series_count, instance_count, attributes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?, ?)', [
      input.studyInstanceUID,
      'receiving',
      'default',
      10,
      30,
      '{}',
      clock.now().getTime(),
      clock.now().getTime(),
    ]);
    expect((await s.listStudies()).total).to.equal(0);
    expect((await s.sweepOrphanBlobs()).emptyStudies).to.equal(0);
    clock.advance(7200);
    expect((await s.sweepOrphanBlobs()).emptyStudies).to.equal(1);
    expect((await s.storeInstance(input)).newStudy).to.equal(true);
  });

  it('appends the store\'s audit event with the instance, atomically, and one for a resend', async () => {
    const s = await h.open();
    const audit = (r: { sopInstanceUID: string; duplicate: boolean }) => ({ type: 'instance.stored', actor: 'SCU', studyInstanceUID: input.studyInstanceUID, detail: { sopInstanceUID: r.sopInstanceUID, duplicate: r.duplicate } });
    const input = instanceInput();
    await s.storeInstance({ ...input, audit });
    await s.storeInstance({ ...input, audit });
    // A series that belongs to another study: the store fails, and its event is not written either.
    const thief = instanceInput({ seriesInstanceUID: input.seriesInstanceUID });
    expect((await rejection(s.storeInstance({ ...thief, audit: () => ({ type: 'instance.stored', detail: { sopInstanceUID: thief.sopInstanceUID } }) }))).code).to.equal('uid-conflict');
    const events = await s.audit.list({ type: 'instance.stored' });
    expect(events.map((e) => e.detail)).to.deep.equal([
      { sopInstanceUID: input.sopInstanceUID, duplicate: false },
      { sopInstanceUID: input.sopInstanceUID, duplicate: true },
    ]);
    expect(events[0].studyInstanceUID).to.equal(input.studyInstanceUID);
    expect(await s.audit.verify()).to.include({ ok: true, count: 2 });
    // A bad event fails the store before anything is committed.
    const bad = instanceInput();
    expect((await rejection(s.storeInstance({ ...bad, audit: () => ({ type: '' }) }))).code).to.equal('invalid-input');
    expect(await s.getInstance(bad.sopInstanceUID)).to.equal(null);
    expect((await rejection(s.storeInstance({ ...bad, audit: 'instance.stored' as never }))).path).to.equal('audit');
  });

  it('concurrent stores with audit events keep one unbroken chain', async () => {
    const s = await h.open();
    const inputs = studyInputs(2, 10);
    await Promise.all(
      inputs.map((i) => s.storeInstance({ ...i, audit: (r) => ({ type: 'instance.stored', studyInstanceUID: i.studyInstanceUID, detail: { sopInstanceUID: r.sopInstanceUID } }) })),
    );
    const verified = await s.audit.verify();
    expect(verified).to.include({ ok: true, count: 20 });
  });

  it('keeps data across a restart', async () => {
    const input = instanceInput();
    const first = await h.open();
    await first.storeInstance(input);
    await first.close();
    const second = await h.open();
    expect(Buffer.from((await second.getInstanceBlob(input.sopInstanceUID))!.bytes).equals(Buffer.from(input.bytes))).to.equal(true);
    expect((await second.storeInstance(input)).duplicate).to.equal(true);
  });
});
