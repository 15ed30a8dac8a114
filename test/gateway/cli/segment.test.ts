/** `limen segment` as a user runs it: files in, SEG, GLB, STL and a report out, whole or not at all. */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dicom } from '../../../anonymizer/index.js';
import { decodeStl } from '../../../pipeline/models3d/index.js';
import { readSegmentation } from '../../../pipeline/seg/index.js';
import { CT_FAKEPHI_DIR, CT_FAKEPHI_FILES, CT_FAKEPHI_UIDS } from '../../support/fakephi.js';
import { runLimen } from '../../support/limen-cli.js';

describe('limen segment', function () {
  this.timeout(180_000);
  let work: string;
  before(() => (work = mkdtempSync(join(tmpdir(), 'limen-segment-'))));
  after(() => rmSync(work, { recursive: true, force: true }));

  it('exits 2 with usage when --out, the series or the model is missing', async () => {
    expect((await runLimen(['segment', CT_FAKEPHI_DIR])).code).to.equal(2);
    expect((await runLimen(['segment', '--out', work])).code).to.equal(2);
    const r = await runLimen(['segment', CT_FAKEPHI_DIR, '--out', work, '--model', 'no-such-model']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('no model "no-such-model"');
  });

  it('refuses a series with too few slices with the reason, and writes nothing', async () => {
    const few = join(work, 'few');
    mkdirSync(few);
    for (const f of CT_FAKEPHI_FILES.slice(0, 5)) copyFileSync(f, join(few, f.split('/').pop()!));
    const out = join(work, 'few-out');
    const r = await runLimen(['segment', few, '--out', out]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/too-few-slices/);
    expect(() => readdirSync(out)).to.throw(); // no output directory, no partial files
  });

  it('refuses an --out that is a file at once, as a usage error, before running the pipeline', async () => {
    const file = join(work, 'a-file');
    writeFileSync(file, 'notes');
    const r = await runLimen(['segment', CT_FAKEPHI_DIR, '--out', file]);
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.include(`--out ${file} is a file, not a folder`);
    expect(r.stderr).to.not.match(/assemble/);
    expect(readFileSync(file, 'utf8')).to.equal('notes');
  });

  it('refuses an --out holding files that are not an earlier run’s outputs, naming them, and touches nothing', async () => {
    const out = join(work, 'not-ours');
    mkdirSync(out);
    writeFileSync(join(out, 'referral.pdf'), 'pdf');
    writeFileSync(join(out, 'report.json'), '{}');
    const r = await runLimen(['segment', CT_FAKEPHI_DIR, '--out', out]);
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.match(/holds files that are not an earlier run's outputs \(referral\.pdf\)/);
    expect(r.stderr).to.not.match(/assemble/);
    expect(readdirSync(out).sort()).to.deep.equal(['referral.pdf', 'report.json']);
  });

  it('run twice into one folder: the second run’s outputs replace the first’s, and a segment it did not find leaves no STL behind', async () => {
    const out = join(work, 'twice');
    mkdirSync(out);
    // An earlier run that found a third segment, and a write of it cut short.
    for (const name of ['seg.dcm', 'model.glb', 'model.stl', '01-body.stl', '02-bone.stl', '03-liver.stl', 'report.json', '.0123456789ab.tmp']) writeFileSync(join(out, name), 'earlier');
    const r = await runLimen(['segment', CT_FAKEPHI_DIR, '--out', out]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/replacing an earlier run's outputs, 2 removed/);
    expect(readdirSync(out).sort()).to.deep.equal(['01-body.stl', '02-bone.stl', 'model.glb', 'model.stl', 'report.json', 'seg.dcm']);
    for (const name of readdirSync(out)) expect(readFileSync(join(out, name), 'utf8'), name).to.not.equal('earlier');
    expect(readSegmentation(new Uint8Array(readFileSync(join(out, 'seg.dcm')))).segments.map((s) => s.label)).to.deep.equal(['Body', 'Bone']);
  });

  it('leaves an earlier run’s outputs as they are when the new run fails', async () => {
    const few = join(work, 'few-again');
    mkdirSync(few);
    for (const f of CT_FAKEPHI_FILES.slice(0, 5)) copyFileSync(f, join(few, f.split('/').pop()!));
    const out = join(work, 'kept');
    mkdirSync(out);
    for (const name of ['seg.dcm', '01-body.stl', 'report.json']) writeFileSync(join(out, name), 'earlier');
    const r = await runLimen(['segment', few, '--out', out]);
    expect(r.code).to.equal(1);
    expect(readdirSync(out).sort()).to.deep.equal(['01-body.stl', 'report.json', 'seg.dcm']);
  });

  it('writes seg.dcm, model.glb, model.stl, one STL per segment and report.json for ct-fakephi', async () => {
    // Slices 1.5 mm thick, 3 mm apart: the SEG's frames carry the CT's thickness, not its spacing.
    const series = join(work, 'thin-slices');
    mkdirSync(series);
    for (const f of CT_FAKEPHI_FILES) copyFileSync(f, join(series, f.split('/').pop()!));
    await promisify(execFile)('dcmodify', ['-nb', '-m', '(0018,0050)=1.5', ...readdirSync(series).map((f) => join(series, f))]);
    const out = join(work, 'out');
    const r = await runLimen(['segment', series, '--out', out]);
    expect(r.code, r.stderr).to.equal(0);
    const files = readdirSync(out).sort();
    expect(files).to.deep.equal(['01-body.stl', '02-bone.stl', 'model.glb', 'model.stl', 'report.json', 'seg.dcm']);

    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.model).to.include({ id: 'default' });
    expect(report.segments.map((s: { label: string }) => s.label)).to.deep.equal(['Body', 'Bone']);
    for (const s of report.segments) expect(s.volumeMl).to.be.greaterThan(100);
    for (const stage of ['assemble', 'segment', 'seg', 'mesh', 'files', 'total']) expect(report.timings[stage]).to.be.a('number');
    for (const stage of ['assemble', 'segment', 'seg', 'mesh', 'files', 'total']) expect(report.cpuTimings[stage]).to.be.a('number').and.at.least(0);
    expect(Object.keys(report.segmentStages).sort()).to.deep.equal(['infer', 'labelsToCt', 'load', 'postprocess']);
    for (const s of report.segments) {
      // Decimation never adds triangles (a mesh already under its target is left as it is).
      expect(s.meshing.extractedTriangles).to.be.at.least(s.triangles);
      for (const step of ['extractMs', 'smoothMs', 'decimateMs']) expect(s.meshing[step]).to.be.a('number').and.at.least(0);
    }

    const segBytes = new Uint8Array(readFileSync(join(out, 'seg.dcm')));
    const seg = readSegmentation(segBytes);
    expect(seg.segments.map((s) => s.label)).to.deep.equal(['Body', 'Bone']);
    expect(seg.referencedSeries[0].seriesInstanceUID).to.equal(CT_FAKEPHI_UIDS.seriesInstanceUID);
    const shared = dicom.find(dicom.readPart10(segBytes).dataset, 0x52009229)!.items![0];
    const measures = dicom.find(shared, 0x00289110)!.items![0];
    expect([dicom.stringOf(dicom.find(measures, 0x00180050)), dicom.stringOf(dicom.find(measures, 0x00180088))]).to.deep.equal(['1.5', '3']);

    const glb = readFileSync(join(out, 'model.glb'));
    expect(glb.subarray(0, 4).toString('latin1')).to.equal('glTF');

    // The combined STL is every per-segment STL's triangles, nothing more.
    const facets = (f: string) => decodeStl(new Uint8Array(readFileSync(join(out, f)))).normals.length / 3;
    expect(facets('model.stl')).to.equal(facets('01-body.stl') + facets('02-bone.stl'));
    expect(report.segments.map((s: { triangles: number }) => s.triangles)).to.deep.equal([facets('01-body.stl'), facets('02-bone.stl')]);
  });
});
