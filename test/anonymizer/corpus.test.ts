/**
 * pydicom's corpus of odd files (transfer syntaxes, character sets, private sequences, broken
 * files): each is de-identified and readable by DCMTK and pydicom, or rejected with a reason.
 * None crashes, and none leaks what it carried.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deidentify, dicom, keyedIdentifiers, profileOrThrow, scanResidualPhi } from '../../anonymizer/index.js';
import { requirePeers, runPeer } from '../support/peers.js';

const { find, readPart10, stringsOf } = dicom;
const CORPUS = fileURLToPath(new URL('../fixtures/pydicom-corpus/', import.meta.url));

function walk(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** Identifying values an input carries at top level, read from the input itself. */
function identifyingValues(bytes: Uint8Array): string[] {
  try {
    const ds = readPart10(bytes).dataset;
    // InstitutionName is left out: files often repeat it as the Manufacturer, which the profile keeps.
    const tags = [0x00100010, 0x00100020, 0x00101001, 0x00100030, 0x00080050, 0x00080081, 0x00080090, 0x00081050, 0x00081070, 0x00200010, 0x00101040, 0x00181000];
    return tags.flatMap((t) => stringsOf(find(ds, t))).filter((v) => v.replace(/[\^= ]/g, '').length >= 4);
  } catch {
    return [];
  }
}

describe('anonymizer: the pydicom corpus', function () {
  this.timeout(120_000);
  const files = walk(CORPUS).filter((f) => /\/(test_files|charset_files)\//.test(f));
  const profile = profileOrThrow();
  const ids = keyedIdentifiers(new Uint8Array(32).fill(5));
  const results = files.map((f) => ({ file: f, input: readFileSync(f), result: deidentify({ bytes: readFileSync(f) }, profile, ids) }));
  const done = results.filter((r) => r.result.ok);

  it('de-identifies or rejects with a reason every file, without a crash', () => {
    expect(files.length).to.be.greaterThan(150);
    for (const r of results) {
      if (!r.result.ok) {
        expect(r.result.error.message, r.file).to.be.a('string').with.length.greaterThan(10);
        expect(r.result.error.code, r.file).to.be.a('string');
      }
    }
    expect(done.length).to.be.greaterThan(90);
  });

  it('de-identifies every transfer syntax family it holds: implicit, big endian, JPEG-LS, J2K, RLE, ISO 2022 (Japanese)', () => {
    const ok = new Set(done.map((r) => relative(CORPUS, r.file)));
    for (const f of ['test_files/MR_small_implicit.dcm', 'test_files/MR_small_bigendian.dcm', 'test_files/693_J2KI.dcm', 'test_files/MR_small_jpeg_ls_lossless.dcm', 'test_files/MR_small_RLE.dcm', 'test_files/CT_small.dcm', 'charset_files/chrJapMulti.dcm']) {
      const r = results.find((x) => relative(CORPUS, x.file) === f);
      expect(ok.has(f), `${f}: ${r && !r.result.ok ? r.result.error.message : 'missing'}`).to.equal(true);
    }
  });

  it('rejects secondary captures without BurnedInAnnotation, and takes them when the profile allows burned-in text', () => {
    const allowing = profileOrThrow({ allowBurnedIn: true });
    for (const f of ['test_files/image_dfl.dcm', 'test_files/JPEG2000.dcm', 'test_files/SC_rgb_rle.dcm']) {
      const bytes = readFileSync(join(CORPUS, f));
      const strict = deidentify({ bytes }, profile, ids);
      expect(strict.ok || strict.error.code, f).to.equal('burned-in-annotation');
      const r = deidentify({ bytes }, allowing, ids);
      expect(r.ok, f).to.equal(true);
    }
  });

  it('de-identifies every character set (when burned-in text is allowed) and leaves no original name bytes', () => {
    const allowing = profileOrThrow({ allowBurnedIn: true });
    for (const f of walk(join(CORPUS, 'charset_files')).filter((x) => x.endsWith('.dcm'))) {
      const bytes = readFileSync(f);
      const r = deidentify({ bytes }, allowing, ids);
      if (!r.ok && r.error.code === 'not-an-instance') continue; // chrSQEncoding*.dcm are bare datasets without SOP UIDs
      if (!r.ok) throw new Error(`${f}: ${r.error.message}`);
      const name = find(readPart10(bytes).dataset, dicom.T.PatientName)?.value;
      if (name && name.length >= 4) expect(Buffer.from(r.bytes).indexOf(Buffer.from(name)), f).to.equal(-1);
      // The character set stays as it was: kept values are still encoded in it.
      expect(dicom.stringOf(find(r.dataset, dicom.T.SpecificCharacterSet))).to.equal(dicom.stringOf(find(readPart10(bytes).dataset, dicom.T.SpecificCharacterSet)));
    }
  });

  it('cleans descriptions in ISO 2022 and GB18030 by their text: one naming the patient is emptied, one that does not is kept byte for byte', () => {
    const profile = profileOrThrow({ options: ['cleanDescriptors'], allowBurnedIn: true });
    const ids = keyedIdentifiers(new Uint8Array(32).fill(3));
    const ESC = 0x1b;
    const ascii = (t: string) => [...t].map((c) => c.charCodeAt(0));
    const withDescription = (file: string, description: number[]) => {
      const parsed = readPart10(readFileSync(join(CORPUS, 'charset_files', file)));
      const ds = [...parsed.dataset.filter((e) => e.tag !== 0x00081030), dicom.valueElement(0x00081030, 'LO', new Uint8Array(description.length % 2 ? [...description, 0x20] : description))];
      const meta = { mediaStorageSOPClassUID: stringsOf(find(ds, 0x00080016))[0], mediaStorageSOPInstanceUID: stringsOf(find(ds, 0x00080018))[0], transferSyntaxUID: parsed.transferSyntax.uid, implementationClassUID: '2.25.1', implementationVersionName: 'TEST' };
      const r = deidentify({ bytes: dicom.writePart10(meta, ds) }, profile, ids);
      if (!r.ok) throw new Error(r.error.message);
      return find(r.dataset, 0x00081030)?.value;
    };
    // 山田太郎 in one JIS X 0208 run, though the name has 山田 and 太郎 in runs of their own.
    const yamadaTarou = [ESC, 0x24, 0x42, ...ascii(';3EDB@O:'), ESC, 0x28, 0x42];
    expect(withDescription('chrH31.dcm', [...yamadaTarou, ...ascii(' CT')])).to.deep.equal(new Uint8Array(0));
    // A kanji description naming nobody (検査, JIS 0x3821 0x3A3A): kept as it was, escapes and all.
    const kensa = [ESC, 0x24, 0x42, 0x38, 0x21, 0x3a, 0x3a, ESC, 0x28, 0x42, ...ascii(' CT ')];
    expect(withDescription('chrH31.dcm', kensa)).to.deep.equal(new Uint8Array(kensa));
    // GB18030: the given name 小东 inside a description; the name's one-character family name 王 alone.
    const name = find(readPart10(readFileSync(join(CORPUS, 'charset_files', 'chrX2.dcm'))).dataset, 0x00100010)!.value!;
    const [wang, xiaodong] = [name.subarray(14, 16), name.subarray(17, 21)];
    expect(new TextDecoder('gb18030').decode(wang) + new TextDecoder('gb18030').decode(xiaodong)).to.equal('王小东');
    expect(withDescription('chrX2.dcm', [...xiaodong, ...ascii(' CT')])).to.deep.equal(new Uint8Array(0));
    expect(withDescription('chrX2.dcm', [...wang, ...ascii(' CT')])).to.deep.equal(new Uint8Array(0));
    // And a number in the text, as record numbers are: fullwidth digits too.
    expect(withDescription('chrX2.dcm', ascii('CT 12345 '))).to.deep.equal(new Uint8Array(0));
    const fullwidth12345 = [0xa3, 0xb1, 0xa3, 0xb2, 0xa3, 0xb3, 0xa3, 0xb4, 0xa3, 0xb5];
    expect(withDescription('chrX2.dcm', [...ascii('CT '), ...fullwidth12345])).to.deep.equal(new Uint8Array(0));
    expect(withDescription('chrX2.dcm', ascii('CT HEAD '))).to.deep.equal(new Uint8Array(ascii('CT HEAD ')));
  });

  it('keeps encapsulated pixel data and its transfer syntax byte for byte', () => {
    for (const r of done) {
      const before = readPart10(r.input);
      if (!before.transferSyntax.encapsulated || !r.result.ok) continue;
      expect(r.result.transferSyntaxUID).to.equal(before.transferSyntax.uid);
      const a = find(before.dataset, dicom.T.PixelData)?.fragments;
      const b = find(readPart10(r.result.bytes).dataset, dicom.T.PixelData)?.fragments;
      if (a) expect(Buffer.from(b!).equals(Buffer.from(a)), r.file).to.equal(true);
    }
  });

  it('writes Explicit VR Little Endian for implicit-VR, big-endian and deflated inputs', () => {
    for (const r of done) {
      const ts = readPart10(r.input).transferSyntax;
      if (!ts.encapsulated && r.result.ok) expect(r.result.transferSyntaxUID, r.file).to.equal('1.2.840.10008.1.2.1');
    }
  });

  it('leaks none of the identifying values an input carried', () => {
    const leaks = done.flatMap((r) =>
      // Named by position: the corpus' own paths carry patient IDs, which is no leak of the output.
      r.result.ok ? scanResidualPhi([{ name: `output ${results.indexOf(r)}`, bytes: r.result.bytes }], identifyingValues(r.input), { minLength: 5 }).map((h) => ({ ...h, file: relative(CORPUS, r.file) })) : [],
    );
    expect(leaks).to.deep.equal([]);
  });

  describe('with real peers', () => {
    let dir: string;
    before(function () {
      requirePeers(this, 'dcmtk', 'python3-pydicom');
      dir = mkdtempSync(join(tmpdir(), 'limen-corpus-'));
      done.forEach((r, i) => r.result.ok && writeFileSync(join(dir, `${i}.dcm`), r.result.bytes));
    });
    after(() => dir && rmSync(dir, { recursive: true, force: true }));

    it('dciodvfy finds no error in an RT Plan, an SR or a SEG that its input did not have (combined actions resolved by the IOD)', function () {
      requirePeers(this, 'dicom3tools');
      // UIDs are replaced (an invalid one, "0", too), so an error is compared without the numbers it quotes.
      const errors = (file: string) => new Set(runPeer('dciodvfy', [file]).stderr.split('\n').filter((l) => l.startsWith('Error')).map((l) => l.replace(/\b\d+(\.\d+)*\b/g, '<n>').trim()));
      for (const name of ['rtplan.dcm', 'reportsi.dcm', 'liver_1frame.dcm']) {
        const i = done.findIndex((r) => r.file.endsWith(`/test_files/${name}`));
        expect(i, name).to.be.at.least(0);
        const before = errors(done[i].file);
        expect([...errors(join(dir, `${i}.dcm`))].filter((e) => !before.has(e)), name).to.deep.equal([]);
      }
    });

    it('dcmdump reads every output without error', () => {
      const failed = done.map((_, i) => join(dir, `${i}.dcm`)).filter((f) => runPeer('dcmdump', ['-q', '-dc', f]).status !== 0);
      expect(failed).to.deep.equal([]);
    });

    it('pydicom reads every output, every element', () => {
      const script = `
import pydicom, glob, sys
bad = []
for f in sorted(glob.glob(sys.argv[1] + '/*.dcm')):
    try:
        d = pydicom.dcmread(f)
        for el in d.iterall(): el.value
        assert d.PatientIdentityRemoved == 'YES'
    except Exception as e:
        bad.append(f + ': ' + str(e))
print('\\n'.join(bad))
`;
      expect(execFileSync('/usr/bin/python3', ['-c', script, dir]).toString().trim()).to.equal('');
    });
  });
});
