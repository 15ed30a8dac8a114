/**
 * The DICOM JSON Model against pydicom's: the character-set corpus (single-byte sets, UTF-8,
 * GB18030, ISO 2022 with Japanese and Korean escapes, sequences with their own character set)
 * and files with every kind of VR.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dicom } from '../../../anonymizer/index.js';
import { elementToJson, stringifyDicomJson, toDicomJson } from '../../../gateway/dicomweb/index.js';
import { requirePeers } from '../../support/peers.js';
import { compareJson, pydicomJson } from './pydicom-json.js';

const CORPUS = new URL('../../fixtures/pydicom-corpus/', import.meta.url).pathname;
const CHARSETS = ['chrArab', 'chrFren', 'chrFrenMulti', 'chrGerm', 'chrGreek', 'chrH31', 'chrH32', 'chrHbrw', 'chrI2', 'chrJapMulti', 'chrJapMultiExplicitIR6', 'chrKoreanMulti', 'chrRuss', 'chrSQEncoding', 'chrSQEncoding1', 'chrX1', 'chrX2'].map((n) => join(CORPUS, 'charset_files', `${n}.dcm`));
/** Files with many VRs: SQ, FD, FL, SL, US/SS, AT, OB/OW/OF, UN, IS/DS, PN with groups. */
const VARIED = ['CT_small.dcm', 'MR_small.dcm', 'rtplan.dcm', 'rtdose.dcm', 'test-SR.dcm', 'waveform_ecg.dcm', 'liver_1frame.dcm', 'reportsi.dcm', 'ExplVR_BigEnd.dcm', 'MR_small_implicit.dcm'].map((n) => join(CORPUS, 'test_files', n));

const ours = (file: string) => toDicomJson(dicom.readPart10(readFileSync(file)).dataset);

describe('gateway/dicomweb DICOM JSON', () => {
  before(function () {
    requirePeers(this, 'python3-pydicom');
  });

  it('decodes every character set of the corpus as pydicom does', () => {
    const theirs = pydicomJson(CHARSETS);
    CHARSETS.forEach((file, i) => expect(compareJson(ours(file), theirs[i]), file).to.deep.equal([]));
  });

  it('writes every VR of varied files as pydicom does (numbers, PN groups, AT, sequences, binary inline)', () => {
    const theirs = pydicomJson(VARIED);
    VARIED.forEach((file, i) => expect(compareJson(ours(file), theirs[i]), file).to.deep.equal([]));
  });

  it('writes every dataset\'s attributes in ascending tag order (PS3.18 F.2.2), tags of digits only included, sequences too', () => {
    /** Tags out of order within one object of the text, and every tag of digits only seen. */
    const scan = (text: string) => {
      const stack: string[][] = [];
      const outOfOrder: string[] = [];
      const digitsOnly = new Set<string>();
      for (let i = 0; i < text.length; i++) {
        if (text[i] === '{') stack.push([]);
        else if (text[i] === '}') stack.pop();
        else if (text[i] === '"') {
          let j = i + 1;
          while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
          const key = text.slice(i + 1, j);
          i = j;
          if (text[j + 1] !== ':' || !/^[0-9A-F]{8}$/.test(key)) continue;
          const keys = stack.at(-1)!;
          if (keys.length && keys.at(-1)! > key) outOfOrder.push(`${keys.at(-1)} before ${key}`);
          keys.push(key);
          if (/^[1-9]\d{7}$/.test(key)) digitsOnly.add(key);
        }
      }
      return { outOfOrder, digitsOnly };
    };
    const datasets = VARIED.map(ours);
    const text = stringifyDicomJson(datasets);
    expect(JSON.parse(text)).to.deep.equal(datasets);
    const { outOfOrder, digitsOnly } = scan(text);
    expect(digitsOnly.size, 'the files have tags a JavaScript object would put first').to.be.greaterThan(0);
    expect(outOfOrder).to.deep.equal([]);
    expect(scan(JSON.stringify(datasets)).outOfOrder, 'JSON.stringify cannot keep the order').not.to.deep.equal([]);
  });

  it('names a Japanese name in its three groups (ISO 2022 IR 87 escapes)', () => {
    const json = ours(CHARSETS[5]); // chrH31
    expect(json['00100010'].Value).to.deep.equal([{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' }]);
  });

  it('gives pixel data and values above the inline limit by BulkDataURI, with their path', () => {
    const ds = dicom.readPart10(readFileSync(VARIED[0])).dataset;
    const paths: string[] = [];
    const json = toDicomJson(ds, { bulkDataURI: (p) => (paths.push(p.map((t) => t.toString(16)).join('/')), `bulk:${paths.length}`), maxInlineBinaryBytes: 16 });
    expect(json['7FE00010']).to.deep.equal({ vr: 'OW', BulkDataURI: 'bulk:' + (paths.indexOf('7fe00010') + 1) });
    const small = elementToJson({ tag: 0x00091001, vr: 'OB', value: Uint8Array.from([1, 2, 3]) }, undefined, { bulkDataURI: () => 'never' });
    expect(small).to.deep.equal({ vr: 'OB', InlineBinary: 'AQID' });
  });

  it('keeps an empty value in a list as null, and a number that does not parse as text', () => {
    const utf8 = dicom.textDecoding(['ISO_IR 192']);
    const el = (vr: dicom.VR, text: string): dicom.Element => ({ tag: 0x00181000, vr, value: new TextEncoder().encode(text) });
    expect(elementToJson(el('LO', 'a\\\\b '), utf8).Value).to.deep.equal(['a', null, 'b']);
    expect(elementToJson(el('DS', '1.5\\x\\ 2e3 '), utf8).Value).to.deep.equal([1.5, 'x', 2000]);
    expect(elementToJson(el('IS', '7\\1.5'), utf8).Value).to.deep.equal([7, '1.5']);
    expect(elementToJson(el('LT', 'one\\two'), utf8).Value).to.deep.equal(['one\\two']);
    expect(elementToJson(el('PN', 'Müller^Jürgen'), utf8).Value).to.deep.equal([{ Alphabetic: 'Müller^Jürgen' }]);
    expect(elementToJson({ tag: 0x00280009, vr: 'AT', value: Uint8Array.from([0x54, 0x00, 0x10, 0x00]) }).Value).to.deep.equal(['00540010']);
    expect(elementToJson({ tag: 0x00720000, vr: 'UV', value: Uint8Array.from([255, 255, 255, 255, 255, 255, 255, 255]) }).Value).to.deep.equal(['18446744073709551615']);
  });
});
