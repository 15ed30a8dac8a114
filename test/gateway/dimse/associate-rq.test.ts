/**
 * checkAssociateRq on hand-built A-ASSOCIATE-RQ PDUs: what the DIMSE library would let
 * through and Limen refuses before answering (PS3.8 §9.3.2, PS3.7 D.3.3.1).
 */
import { expect } from 'chai';
import { checkAssociateRq } from '../../../gateway/dimse/associate-rq.js';
import { associateRq, maximumLength, roleSelection, userItem, type RawContext } from './raw-pdu.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const VERIFICATION = '1.2.840.10008.1.1';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';

function rq(contexts: RawContext[], options: Parameters<typeof associateRq>[4] = {}): Buffer {
  return associateRq('LIMEN', 'MODALITY', contexts, 16384, options);
}

describe('gateway/dimse checkAssociateRq', () => {
  const ct = (id: number): RawContext => ({ id, abstractSyntax: CT, transferSyntaxes: [EXPLICIT_LE] });
  const verification = (id: number): RawContext => ({ id, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] });

  it('lets a well-formed request through: odd, distinct IDs in any order, a Maximum Length, a role selection', () => {
    expect(checkAssociateRq(rq([ct(3), verification(1), ct(255)]))).to.equal(undefined);
    expect(checkAssociateRq(rq([ct(1)], { extraUserItems: [roleSelection(CT, 1, 1)] }))).to.equal(undefined);
    // Maximum Length 0 means "no limit" (PS3.8 D.1): present, so acceptable.
    expect(checkAssociateRq(associateRq('LIMEN', 'MODALITY', [ct(1)], 0))).to.equal(undefined);
    // Sub-items in another order.
    expect(checkAssociateRq(rq([ct(1)], { userInformation: [userItem(0x52, Buffer.from('1.2.3.4')), maximumLength(16384)] }))).to.equal(undefined);
  });

  it('refuses a presentation context ID used twice, whatever the abstract syntaxes (PS3.8 9.3.2.2)', () => {
    expect(checkAssociateRq(rq([ct(1), verification(1)]))).to.equal('presentation-context-id-duplicated');
    expect(checkAssociateRq(rq([ct(5), verification(3), ct(5)]))).to.equal('presentation-context-id-duplicated');
    expect(checkAssociateRq(rq([ct(255), ct(255)]))).to.equal('presentation-context-id-duplicated');
  });

  it('refuses a presentation context item without exactly one Abstract Syntax sub-item (PS3.8 9.3.2.2), which the library would answer under an ID never proposed', () => {
    // Found by the fuzz (test/gateway/dimse/fuzz.test.ts, seed 0x1d0c0de5, case 244): answered as contexts 1, 3 and 5.
    expect(checkAssociateRq(rq([ct(1), { ...verification(3), abstractSyntaxes: [VERIFICATION, VERIFICATION] }]))).to.equal('abstract-syntax-not-one');
    expect(checkAssociateRq(rq([{ ...ct(1), abstractSyntaxes: [CT, VERIFICATION] }]))).to.equal('abstract-syntax-not-one');
    expect(checkAssociateRq(rq([ct(1), { ...verification(3), abstractSyntaxes: [] }]))).to.equal('abstract-syntax-not-one');
    // An ID fault of an earlier context comes first.
    expect(checkAssociateRq(rq([ct(2), { ...verification(3), abstractSyntaxes: [] }]))).to.equal('presentation-context-id-invalid');
  });

  it('refuses an even presentation context ID, 0 included (PS3.8 9.3.2.2: odd integers 1 to 255)', () => {
    for (const id of [2, 0, 254]) expect(checkAssociateRq(rq([ct(1), verification(id)])), String(id)).to.equal('presentation-context-id-invalid');
  });

  it('refuses a request without any presentation context (PS3.8 9.3.2: one or more)', () => {
    expect(checkAssociateRq(rq([]))).to.equal('no-presentation-context');
  });

  it('refuses a request without a Maximum Length sub-item, or without a User Information item (PS3.7 D.3.3.1: required)', () => {
    expect(checkAssociateRq(rq([ct(1)], { userInformation: [userItem(0x52, Buffer.from('1.2.3.4'))] }))).to.equal('maximum-length-missing');
    expect(checkAssociateRq(rq([ct(1)], { userInformation: null }))).to.equal('maximum-length-missing');
    // A 0x51 sub-item too short to hold its 4-byte value is no Maximum Length.
    expect(checkAssociateRq(rq([ct(1)], { userInformation: [userItem(0x51, Buffer.alloc(2))] }))).to.equal('maximum-length-missing');
  });

  it('gives the protocol version and application context first, as before', () => {
    expect(checkAssociateRq(rq([ct(1), ct(1)], { protocolVersion: 2 }))).to.equal('protocol-version-not-supported');
    expect(checkAssociateRq(rq([], { applicationContext: '1.2.3' }))).to.equal('application-context-not-supported');
  });
});
