import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPart10Meta, readStudyInstanceUID } from '../../../gateway/dicomweb/part10.js';
import { requirePeers } from '../../support/peers.js';

const CORPUS = 'test/fixtures/pydicom-corpus';
const CT = 'test/fixtures/ct-fakephi/dicom';

function corpusFiles(): string[] {
  return ['test_files', 'charset_files'].flatMap((d) => readdirSync(join(CORPUS, d)).map((f) => join(CORPUS, d, f)));
}

// pydicom reads each file independently: file meta UIDs and the dataset's StudyInstanceUID.
const PYDICOM = `
import json, sys, pydicom
out = {}
for path in sys.argv[1:]:
    try:
        ds = pydicom.dcmread(path)
        fm = ds.file_meta
        out[path] = {
            "sopClassUID": str(fm.MediaStorageSOPClassUID),
            "sopInstanceUID": str(fm.MediaStorageSOPInstanceUID),
            "transferSyntaxUID": str(fm.TransferSyntaxUID),
            "study": str(ds.StudyInstanceUID) if "StudyInstanceUID" in ds else None,
        }
    except Exception as e:
        out[path] = {"error": type(e).__name__}
print(json.dumps(out))
`;

describe('gateway/dicomweb part10 header reader', () => {
  before(function () {
    requirePeers(this, 'python3-pydicom');
  });

  it('agrees with pydicom on file meta UIDs and StudyInstanceUID over the pydicom corpus (all transfer syntaxes)', function () {
    const files = corpusFiles().filter((f) => f.endsWith('.dcm'));
    const truth = JSON.parse(execFileSync('/usr/bin/python3', ['-c', PYDICOM, ...files], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'ignore'] }));
    const syntaxes = new Set<string>();
    let compared = 0;
    for (const f of files) {
      const t = truth[f];
      const bytes = readFileSync(f);
      const meta = readPart10Meta(bytes);
      if (t.error || !t.sopInstanceUID || t.sopInstanceUID === 'None') {
        continue;
      }
      expect(meta.ok, `${f}: ${!meta.ok && meta.message}`).to.equal(true);
      if (!meta.ok) continue;
      expect(meta.value.sopClassUID, f).to.equal(t.sopClassUID);
      expect(meta.value.sopInstanceUID, f).to.equal(t.sopInstanceUID);
      expect(meta.value.transferSyntaxUID, f).to.equal(t.transferSyntaxUID);
      const study = readStudyInstanceUID(bytes, meta.value);
      expect(study.ok, `${f}: ${!study.ok && study.message}`).to.equal(true);
      if (study.ok) expect(study.value, f).to.equal(t.study);
      syntaxes.add(meta.value.transferSyntaxUID);
      compared++;
    }
    expect(compared).to.be.greaterThan(70);
    // Implicit LE, explicit BE and deflated were all exercised.
    for (const ts of ['1.2.840.10008.1.2', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.1']) {
      expect([...syntaxes], ts).to.include(ts);
    }
  });

  it('refuses files without a DICM prefix or without file meta', () => {
    for (const f of ['test_files/no_meta.dcm', 'test_files/ExplVR_LitEndNoMeta.dcm', 'test_files/ExplVR_BigEndNoMeta.dcm']) {
      const r = readPart10Meta(readFileSync(join(CORPUS, f)));
      expect(r.ok, f).to.equal(false);
    }
    expect(readPart10Meta(new Uint8Array(10))).to.deep.include({ ok: false });
  });

  it('reads the ct-fakephi study UID, and reports a truncated dataset as an error, not as absent', () => {
    const bytes = readFileSync(join(CT, 'CT000001.dcm'));
    const meta = readPart10Meta(bytes);
    expect(meta.ok).to.equal(true);
    if (!meta.ok) return;
    expect(readStudyInstanceUID(bytes, meta.value)).to.deep.equal({ ok: true, value: '2.25.275125388161106205339115534722811304435' });
    // Cut inside the dataset before (0020,000D): unreadable, never "no StudyInstanceUID".
    const cut = bytes.subarray(0, meta.value.datasetOffset + 40);
    const r = readStudyInstanceUID(cut, meta.value);
    expect(r.ok).to.equal(false);
  });
});
