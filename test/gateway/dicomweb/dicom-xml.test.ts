/**
 * The Native DICOM Model against DCMTK's `dcm2xml --native-format` of the same files: corpus
 * instances with private blocks, nested and private sequences, structured reports, RT objects and
 * a waveform, converted straight from their data sets (every binary value inline).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dicom } from '../../../anonymizer/index.js';
import { toDicomJson } from '../../../gateway/dicomweb/dicom-json.js';
import { toNativeDicomXml } from '../../../gateway/dicomweb/dicom-xml.js';
import { requirePeers } from '../../support/peers.js';
import { compareNativeXml, dcmtkNativeXml, readNativeXml } from './dcmtk-xml.js';

const CORPUS = new URL('../../fixtures/pydicom-corpus/test_files/', import.meta.url).pathname;

describe('gateway/dicomweb Native DICOM Model (XML)', function () {
  this.timeout(60_000);

  it('says what DCMTK\'s dcm2xml says of the same instances', function () {
    requirePeers(this, 'dcmtk');
    // (Not test-SR.dcm: its Latin-1 text declares no character set, and DCMTK copies the bytes
    // into its UTF-8 document unconverted.)
    const files = ['CT_small.dcm', 'nested_priv_SQ.dcm', 'priv_SQ.dcm', 'reportsi.dcm', 'rtplan.dcm', 'rtdose.dcm', 'waveform_ecg.dcm', 'MR_small.dcm'];
    const bytes = files.map((f) => readFileSync(join(CORPUS, f)));
    const ours = readNativeXml(bytes.map((b) => toNativeDicomXml(toDicomJson(dicom.readPart10(b).dataset, { maxInlineBinaryBytes: Infinity }))));
    const theirs = dcmtkNativeXml(bytes);
    files.forEach((f, i) => expect(compareNativeXml(ours[i].dataset, theirs[i].dataset), f).to.deep.equal([]));
  });

  it('escapes markup, keeps empty values in their place, and replaces what XML 1.0 cannot carry', () => {
    const xml = toNativeDicomXml({
      '00081030': { vr: 'LO', Value: ['A <b> & "c"'] },
      '00080008': { vr: 'CS', Value: ['ORIGINAL', null, 'AXIAL'] },
      '00104000': { vr: 'LT', Value: ['line\r\nbell\u0007'] },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane^^Dr', Ideographic: '山田^太郎' }, null] },
      '00091010': { vr: 'LO', Value: ['x'] },
      '00090010': { vr: 'LO', Value: ['ACME & CO'] },
      '00189346': { vr: 'SQ', Value: [{}] },
      '00280030': { vr: 'DS' },
    });
    const [doc] = readNativeXml([xml]);
    const d = doc.dataset;
    expect(d['00081030'].values).to.deep.equal([{ kind: 'value', number: 1, text: 'A <b> & "c"' }]);
    expect(d['00080008'].values.map((v) => (v.kind === 'value' ? v.text : v.kind))).to.deep.equal(['ORIGINAL', '', 'AXIAL']);
    expect(d['00104000'].values).to.deep.equal([{ kind: 'value', number: 1, text: 'line\r\nbell\uFFFD' }]);
    expect(d['00100010'].values).to.deep.equal([
      { kind: 'pn', number: 1, groups: { Alphabetic: { FamilyName: 'Doe', GivenName: 'Jane', NamePrefix: 'Dr' }, Ideographic: { FamilyName: '山田', GivenName: '太郎' } } },
      { kind: 'pn', number: 2, groups: {} },
    ]);
    expect(d['00090010']).to.include({ keyword: null, privateCreator: null });
    expect(d['00090010|ACME & CO']).to.deep.equal({ vr: 'LO', keyword: null, privateCreator: 'ACME & CO', values: [{ kind: 'value', number: 1, text: 'x' }] });
    expect(d['00189346'].values).to.deep.equal([{ kind: 'item', number: 1, dataset: {} }]);
    expect(d['00280030']).to.deep.equal({ vr: 'DS', keyword: 'PixelSpacing', privateCreator: null, values: [] });
  });
});
