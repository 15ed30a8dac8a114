/** The `limen deidentify` command as an operator runs it. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CT_FAKEPHI_FILES } from '../../support/fakephi.js';
import { TSX_LOADER } from '../../support/limen-cli.js';

const MAIN = fileURLToPath(new URL('../../../gateway/cli/main.ts', import.meta.url));
const limen = (args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) =>
  spawnSync(process.execPath, ['--import', TSX_LOADER, MAIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', cwd });

describe('limen deidentify', function () {
  this.timeout(60_000);
  let work: string;
  beforeEach(() => (work = mkdtempSync(join(tmpdir(), 'limen-cli-'))));
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('exits 2 with usage when --out or inputs are missing, or an option is unknown', () => {
    expect(limen(['deidentify', 'x']).status).to.equal(2);
    expect(limen(['deidentify', '--out', work]).status).to.equal(2);
    const r = limen(['deidentify', CT_FAKEPHI_FILES[0], '--out', work, '--option', 'retainEverything', '--key-file', '/dev/null']);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.include('unknown option "retainEverything"');
  });

  it('exits 2 for an unknown profile (its name keys the pseudonyms), naming the known ones, and writes nothing', () => {
    const r = limen(['deidentify', CT_FAKEPHI_FILES[0], '--out', join(work, 'out'), '--profile', 'basci'], { LIMEN_DATA_DIR: join(work, 'var') });
    expect(r.status, r.stderr).to.equal(2);
    expect(r.stderr).to.include('unknown profile "basci"; known: basic (');
    expect(readdirSync(work), 'neither output nor key').to.deep.equal([]);
  });

  it('takes an empty LIMEN_DATA_DIR as unset: the key goes in ./var', () => {
    const r = limen(['deidentify', CT_FAKEPHI_FILES[0], '--out', join(work, 'out')], { LIMEN_DATA_DIR: '' }, work);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.include(`generated a new de-identification key in ${join(work, 'var', 'deidentify.key')}`);
    expect(readdirSync(work).sort()).to.deep.equal(['out', 'var']);
  });

  it('generates a key on first use, says where, reuses it, and names outputs by the new SOP Instance UID', () => {
    const input = join(work, 'in', 'Mustermann_Max');
    mkdirSync(input, { recursive: true });
    for (const f of CT_FAKEPHI_FILES.slice(0, 5)) copyFileSync(f, join(input, f.split('/').pop()!));
    const env = { LIMEN_DATA_DIR: join(work, 'var') };
    const first = limen(['deidentify', join(work, 'in'), '--out', join(work, 'out1')], env);
    expect(first.status, first.stderr).to.equal(0);
    expect(first.stderr).to.include(`generated a new de-identification key in ${join(work, 'var', 'deidentify.key')}`);
    expect(first.stdout).to.include('de-identified 5 of 5 files');
    const names = readdirSync(join(work, 'out1'));
    expect(names).to.have.length(5);
    for (const n of names) expect(n).to.match(/^2\.25\.\d+\.dcm$/);
    const second = limen(['deidentify', join(work, 'in'), '--out', join(work, 'out2')], env);
    expect(second.stderr).to.include('using the key');
    expect(readdirSync(join(work, 'out2')).sort()).to.deep.equal(names.sort());
  });

  it('exits 1 when a file is rejected, prints why, and writes only the good ones whole', () => {
    writeFileSync(join(work, 'broken.dcm'), readFileSync(CT_FAKEPHI_FILES[0]).subarray(0, 900));
    writeFileSync(join(work, 'key'), 'ab'.repeat(32));
    const r = limen(['deidentify', CT_FAKEPHI_FILES[0], join(work, 'broken.dcm'), '--out', join(work, 'out'), '--key-file', join(work, 'key')]);
    expect(r.status).to.equal(1);
    expect(r.stdout).to.match(/rejected .*broken\.dcm: .*\[truncated\]/);
    expect(r.stdout).to.include('de-identified 1 of 2 files');
    const out = readdirSync(join(work, 'out'));
    expect(out).to.have.length(1);
    expect(out[0]).to.match(/^2\.25\.\d+\.dcm$/); // no temp file left behind
  });

  it('applies options: Modified Dates shifts StudyDate', () => {
    writeFileSync(join(work, 'key'), 'cd'.repeat(32));
    const r = limen(['deidentify', CT_FAKEPHI_FILES[0], '--out', join(work, 'out'), '--key-file', join(work, 'key'), '--option', 'retainLongitudinalModifiedDates']);
    expect(r.status, r.stderr).to.equal(0);
    const bytes = readFileSync(join(work, 'out', readdirSync(join(work, 'out'))[0]));
    expect(bytes.includes('20230315')).to.equal(false);
    expect(bytes.includes('MODIFIED')).to.equal(true);
  });
});
