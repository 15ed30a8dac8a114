import { expect } from 'chai';
import { rejectFields } from '../../../gateway/dimse/rejection.js';
import { answerForOutcome, CStoreStatus, toErrorComment } from '../../../gateway/dimse/status.js';

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
