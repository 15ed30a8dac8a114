import { expect } from 'chai';
import { negotiatePresentationContexts, PresentationContextResult } from '../../../gateway/dimse/negotiation.js';
import { DEFAULT_ACCEPTED_TRANSFER_SYNTAXES, StorageSopClass, TransferSyntax, VERIFICATION_SOP_CLASS } from '../../../gateway/dimse/uids.js';

const policy = {
  acceptedSopClassUIDs: new Set<string>([StorageSopClass.CTImage]),
  acceptedTransferSyntaxUIDs: new Set(DEFAULT_ACCEPTED_TRANSFER_SYNTAXES),
};

describe('gateway/dimse negotiatePresentationContexts', () => {
  it('accepts the requestor’s first acceptable transfer syntax, so compressed data stay compressed', () => {
    const [answer] = negotiatePresentationContexts(
      [{ id: 1, abstractSyntaxUID: StorageSopClass.CTImage, transferSyntaxUIDs: ['1.2.3.4.5', TransferSyntax.JPEG2000Lossless, TransferSyntax.ExplicitVRLittleEndian] }],
      policy,
    );
    expect(answer).to.deep.equal({
      id: 1,
      abstractSyntaxUID: StorageSopClass.CTImage,
      result: PresentationContextResult.Acceptance,
      transferSyntaxUID: TransferSyntax.JPEG2000Lossless,
    });
  });

  it('chooses a lossless syntax over a lossy one listed before it, and a lossy one only when nothing lossless is offered', () => {
    const answers = negotiatePresentationContexts(
      [
        { id: 1, abstractSyntaxUID: StorageSopClass.CTImage, transferSyntaxUIDs: [TransferSyntax.JPEGExtended12Bit, TransferSyntax.JPEG2000, TransferSyntax.ExplicitVRLittleEndian] },
        { id: 3, abstractSyntaxUID: StorageSopClass.CTImage, transferSyntaxUIDs: [TransferSyntax.JPEGLSNearLossless, TransferSyntax.JPEGLSLossless] },
        { id: 5, abstractSyntaxUID: StorageSopClass.CTImage, transferSyntaxUIDs: [TransferSyntax.JPEGBaseline8Bit, TransferSyntax.JPEG2000] },
      ],
      policy,
    );
    expect(answers.map((a) => a.transferSyntaxUID)).to.deep.equal([TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.JPEGLSLossless, TransferSyntax.JPEGBaseline8Bit]);
  });

  it('answers 3 for a SOP class outside the policy and 4 when no transfer syntax is acceptable', () => {
    const answers = negotiatePresentationContexts(
      [
        { id: 1, abstractSyntaxUID: StorageSopClass.MRImage, transferSyntaxUIDs: [TransferSyntax.ExplicitVRLittleEndian] },
        { id: 3, abstractSyntaxUID: StorageSopClass.CTImage, transferSyntaxUIDs: ['1.2.840.10008.1.2.4.100'] },
      ],
      policy,
    );
    expect(answers.map((a) => [a.id, a.result, a.transferSyntaxUID])).to.deep.equal([
      [1, 3, undefined],
      [3, 4, undefined],
    ]);
  });

  it('always accepts Verification, with an uncompressed syntax only', () => {
    const answers = negotiatePresentationContexts(
      [
        { id: 1, abstractSyntaxUID: VERIFICATION_SOP_CLASS, transferSyntaxUIDs: [TransferSyntax.JPEGBaseline8Bit, TransferSyntax.ImplicitVRLittleEndian] },
        { id: 3, abstractSyntaxUID: VERIFICATION_SOP_CLASS, transferSyntaxUIDs: [TransferSyntax.RLELossless] },
      ],
      { ...policy, acceptedSopClassUIDs: new Set() },
    );
    expect(answers.map((a) => [a.result, a.transferSyntaxUID])).to.deep.equal([
      [0, TransferSyntax.ImplicitVRLittleEndian],
      [4, undefined],
    ]);
  });

  it('answers each context on its own, in order, even for the same abstract syntax', () => {
    const answers = negotiatePresentationContexts(
      [
        { id: 1, abstractSyntaxUID: StorageSopClass.CTImage, transferSyntaxUIDs: [TransferSyntax.RLELossless] },
        { id: 3, abstractSyntaxUID: StorageSopClass.CTImage, transferSyntaxUIDs: [TransferSyntax.ExplicitVRBigEndian] },
      ],
      policy,
    );
    expect(answers.map((a) => a.transferSyntaxUID)).to.deep.equal([TransferSyntax.RLELossless, TransferSyntax.ExplicitVRBigEndian]);
  });

  it('rejects (1) an acceptable context whose requestor proposed no SCU role, and accepts it where the SCU role was proposed (PS3.7 Table D.3-11)', () => {
    const ts = [TransferSyntax.ExplicitVRLittleEndian];
    const answers = negotiatePresentationContexts(
      [
        { id: 1, abstractSyntaxUID: StorageSopClass.CTImage, transferSyntaxUIDs: ts, requestorRoles: { scu: false, scp: true } },
        { id: 3, abstractSyntaxUID: StorageSopClass.CTImage, transferSyntaxUIDs: ts, requestorRoles: { scu: false, scp: false } },
        { id: 5, abstractSyntaxUID: StorageSopClass.CTImage, transferSyntaxUIDs: ts, requestorRoles: { scu: true, scp: true } },
        { id: 7, abstractSyntaxUID: StorageSopClass.CTImage, transferSyntaxUIDs: ts, requestorRoles: { scu: true, scp: false } },
        { id: 9, abstractSyntaxUID: VERIFICATION_SOP_CLASS, transferSyntaxUIDs: [TransferSyntax.ImplicitVRLittleEndian], requestorRoles: { scu: false, scp: true } },
        // A SOP class it does not take, or no syntax it takes, keeps the more telling answer.
        { id: 11, abstractSyntaxUID: StorageSopClass.MRImage, transferSyntaxUIDs: ts, requestorRoles: { scu: false, scp: true } },
        { id: 13, abstractSyntaxUID: StorageSopClass.CTImage, transferSyntaxUIDs: ['1.2.3'], requestorRoles: { scu: false, scp: true } },
      ],
      policy,
    );
    expect(answers.map((a) => [a.id, a.result, a.transferSyntaxUID])).to.deep.equal([
      [1, 1, undefined],
      [3, 1, undefined],
      [5, 0, TransferSyntax.ExplicitVRLittleEndian],
      [7, 0, TransferSyntax.ExplicitVRLittleEndian],
      [9, 1, undefined],
      [11, 3, undefined],
      [13, 4, undefined],
    ]);
  });
});
