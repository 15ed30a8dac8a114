/** QIDO-RS query strings read into matching keys (PS3.4 §C.2.2.2, PS3.18 §8.3.4): the pure part. */
import { expect } from 'chai';
import { parseQidoQuery, QidoQueryError, type Matcher } from '../../../gateway/dicomweb/qido-query.js';
import type { QidoLevel } from '../../../gateway/dicomweb/qido-attributes.js';

const q = (query: string, level: QidoLevel = 'study') => parseQidoQuery(new URLSearchParams(query), level);
const only = (query: string, level: QidoLevel = 'study'): Matcher => {
  const parsed = q(query, level);
  expect(parsed.matchers).to.have.length(1);
  return parsed.matchers[0];
};
const fails = (query: string, level: QidoLevel = 'study'): QidoQueryError => {
  try {
    q(query, level);
  } catch (err) {
    expect(err).to.be.instanceOf(QidoQueryError);
    return err as QidoQueryError;
  }
  throw new Error(`${query} was accepted`);
};

describe('gateway/dicomweb QIDO query', () => {
  it('reads keys by keyword or by tag, with limit, offset and includefield', () => {
    const parsed = q('PatientID=P1&0020000D=1.2.3&limit=10&offset=20&includefield=PatientSex,00080021&includefield=StudyID');
    expect(parsed.matchers.map((m) => m.attribute.keyword)).to.deep.equal(['PatientID', 'StudyInstanceUID']);
    expect(parsed.limit).to.equal(10);
    expect(parsed.offset).to.equal(20);
    expect([...(parsed.include as Set<number>)]).to.deep.equal([0x00100040, 0x00080021, 0x00200010]);
    expect(q('includefield=all').include).to.equal('all');
    // A path into a sequence returns the sequence; each step must be an attribute.
    expect([...(q('includefield=ProcedureCodeSequence.CodeValue').include as Set<number>)]).to.deep.equal([0x00081032]);
    expect(fails('includefield=ProcedureCodeSequence.NoSuchKeyword').parameter).to.equal('includefield');
  });

  it('matches UID lists separated by commas or backslashes', () => {
    const m = only('StudyInstanceUID=1.2.3,1.2.4%5C1.2.5');
    expect(['1.2.3', '1.2.4', '1.2.5'].map((u) => m.test([u]))).to.deep.equal([true, true, true]);
    expect(m.test(['1.2.6'])).to.equal(false);
    expect(m.test([])).to.equal(false);
  });

  it('matches text exactly, or with * and ?; PN without case and without trailing carets', () => {
    const id = only('PatientID=LIMEN-AB*');
    expect(id.test(['LIMEN-ABCDEF'])).to.equal(true);
    expect(id.test(['limen-ABCDEF'])).to.equal(false); // LO is case-sensitive
    expect(id.test(['XLIMEN-AB'])).to.equal(false);
    const exact = only('AccessionNumber=A.1');
    expect(exact.test(['A.1'])).to.equal(true);
    expect(exact.test(['AX1'])).to.equal(false); // "." is not a wildcard
    const name = only('PatientName=doe^j?hn');
    expect(name.test(['DOE^JOHN'])).to.equal(true);
    expect(name.test(['DOE^JOAHN'])).to.equal(false);
    expect(only('PatientName=DOE^JOHN').test(['Doe^John^^^'])).to.equal(true);
    // With wildcards too: the pseudonym is written "LIMEN-…^", one family-name component.
    expect(only('PatientName=LIMEN-AB?').test(['LIMEN-ABC^'])).to.equal(true);
    expect(only('PatientName=LIMEN-AB?').test(['LIMEN-ABCD^'])).to.equal(false);
    expect(only('StudyDescription=*CHEST*').test(['CT CHEST W/O'])).to.equal(true);
  });

  it('treats an empty key and * as universal matching', () => {
    for (const query of ['PatientName=', 'PatientName=*']) {
      const m = only(query);
      expect(m.universal).to.equal(true);
      expect(m.test([])).to.equal(true);
    }
  });

  it('matches dates singly and in ranges a-b, -b and a-', () => {
    const dates = ['20230101', '20230315', '20231231'];
    const hits = (query: string) => dates.filter((d) => only(query).test([d]));
    expect(hits('StudyDate=20230315')).to.deep.equal(['20230315']);
    expect(hits('StudyDate=20230201-20231231')).to.deep.equal(['20230315', '20231231']);
    expect(hits('StudyDate=-20230315')).to.deep.equal(['20230101', '20230315']);
    expect(hits('StudyDate=20230316-')).to.deep.equal(['20231231']);
    expect(only('StudyDate=20230101-').test([])).to.equal(false);
  });

  it('matches times: a partial time covers every time within it', () => {
    const m = only('StudyTime=1015');
    expect(['101500', '101559.999', '1016', '101459'].map((t) => m.test([t]))).to.deep.equal([true, true, false, false]);
    const range = only('StudyTime=08-1015');
    expect(['075959', '080000', '101530', '1016'].map((t) => range.test([t]))).to.deep.equal([false, true, true, false]);
  });

  it('matches ModalitiesInStudy against any of the study\'s modalities, and lists of them', () => {
    const m = only('ModalitiesInStudy=SEG');
    expect(m.test(['CT', 'SEG'])).to.equal(true);
    expect(m.test(['CT'])).to.equal(false);
    expect(only('ModalitiesInStudy=MR,SEG').test(['CT', 'MR'])).to.equal(true);
  });

  it('refuses values that cannot mean anything, naming the parameter', () => {
    expect(fails('StudyDate=2023-03-15').parameter).to.equal('StudyDate');
    expect(fails('StudyDate=20231231-20230101').message).to.match(/ends before it starts/);
    expect(fails('StudyTime=25h').code).to.equal('invalid-value');
    expect(fails('SeriesNumber=three', 'series').parameter).to.equal('SeriesNumber');
    expect(fails('limit=-1').parameter).to.equal('limit');
    expect(fails('offset=x').parameter).to.equal('offset');
    expect(fails('includefield=NoSuchKeyword').parameter).to.equal('includefield');
    expect(fails('fuzzymatching=maybe').parameter).to.equal('fuzzymatching');
  });

  it('ignores, with a warning, keys it cannot match, fuzzy matching, and names that are not attributes', () => {
    const parsed = q('PatientWeight=70&fuzzymatching=true&_=12345&00101002.00100020=X');
    expect(parsed.matchers).to.have.length(0);
    expect(parsed.warnings.join(' ')).to.match(/fuzzymatching/).and.match(/PatientWeight/).and.match(/_/).and.match(/00101002\.00100020/);
  });

  it('matches a level\'s own keys and its parents\', not its children\'s', () => {
    expect(q('Modality=CT', 'study').matchers).to.have.length(0);
    expect(q('Modality=CT', 'series').matchers).to.have.length(1);
    expect(q('PatientID=X&Modality=CT&SOPClassUID=1.2', 'instance').matchers.map((m) => m.attribute.level)).to.deep.equal(['study', 'series', 'instance']);
  });
});
