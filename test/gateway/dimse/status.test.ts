import { expect } from 'chai';
import { rejectFields } from '../../../gateway/dimse/rejection.js';
import { answerForOutcome, CStoreStatus, LocalFailure, toErrorComment } from '../../../gateway/dimse/status.js';

describe('gateway/dimse C-STORE status mapping', () => {
  it('maps each ingest failure code to its PS3.4 status with the reason as ErrorComment', () => {
    const cases = [
      ['out-of-resources', 0xa700],
      ['sop-class-mismatch', 0xa900],
      ['cannot-understand', 0xc000],
      ['sop-class-not-supported', 0x0122],
    ] as const;
    for (const [code, status] of cases) {
      expect(answerForOutcome({ ok: false, code, reason: `because ${code}` })).to.deep.equal({ status, errorComment: `because ${code}` });
    }
    expect(answerForOutcome({ ok: true, sopClassUID: '1', sopInstanceUID: '2', studyInstanceUID: '3', duplicate: true })).to.deep.equal({
      status: CStoreStatus.Success,
    });
  });

  it('makes any reason a valid LO: 64 characters, printable ASCII, no backslash', () => {
    expect(toErrorComment('a\\b\nc\u00e9d')).to.equal('a b c d');
    const long = toErrorComment('x'.repeat(100));
    expect(long).to.have.length(64);
  });

  it('shortens a long reason at the last word boundary that fits, with an ellipsis, never inside a word or a number', () => {
    const announced = "the data set's SOP Instance UID is not the one the request announced";
    expect(announced.length).to.be.greaterThan(64);
    expect(toErrorComment(announced)).to.equal("the data set's SOP Instance UID is not the one the request...");
    const length = 'element (7FE0,0010) declared length 24640000 runs past the end of the data set';
    expect(toErrorComment(length)).to.equal('element (7FE0,0010) declared length 24640000 runs past the...');
    // A number across the limit is left out whole, not cut to another number.
    const number = `${'a'.repeat(44)} declared length 2464000`;
    expect(toErrorComment(number)).to.equal(`${'a'.repeat(44)} declared length...`);
    // Separators before the cut go: "because: ..." would read as if the reason itself were left out.
    const separated = `${'a'.repeat(40)} length 2464012345: the rest of it`;
    expect(toErrorComment(separated)).to.equal(`${'a'.repeat(40)} length 2464012345...`);
    // One word longer than the value (a UID) can only be cut inside.
    expect(toErrorComment(`1.2.${'3'.repeat(80)} is unknown`)).to.equal(`1.2.${'3'.repeat(57)}...`);
    for (const text of [announced, length, number, separated, 'word '.repeat(30), `x${' '.repeat(70)}y`, `é\\${'z '.repeat(40)}`]) {
      const comment = toErrorComment(text);
      expect(comment.length, text).to.be.at.most(64);
      expect(comment, text).to.match(/^[\x20-\x5b\x5d-\x7e]*$/);
    }
  });

  it('keeps the whole reason beside a shortened ErrorComment, for the log', () => {
    const reason = "the data set's SOP Instance UID is not the one the request announced";
    expect(answerForOutcome({ ok: false, code: 'sop-class-mismatch', reason })).to.deep.equal({
      status: CStoreStatus.DataSetDoesNotMatchSopClass,
      errorComment: "the data set's SOP Instance UID is not the one the request...",
      reason,
    });
  });

  it('answers its own failures with ErrorComments that fit as they are', () => {
    for (const [name, answer] of Object.entries(LocalFailure)) expect(toErrorComment(answer.errorComment), name).to.equal(answer.errorComment);
  });
});

describe('gateway/dimse A-ASSOCIATE-RJ fields', () => {
  it('uses the PS3.8 Table 9-21 codes', () => {
    expect(rejectFields('called-ae-not-recognized')).to.deep.equal({ result: 1, source: 1, reason: 7 });
    expect(rejectFields('calling-ae-not-recognized')).to.deep.equal({ result: 1, source: 1, reason: 3 });
    expect(rejectFields('address-not-allowed')).to.deep.equal({ result: 1, source: 1, reason: 3 });
    expect(rejectFields('too-many-associations')).to.deep.equal({ result: 2, source: 3, reason: 2 });
    expect(rejectFields('stopping')).to.deep.equal({ result: 2, source: 3, reason: 1 });
  });
});
