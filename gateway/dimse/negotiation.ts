/**
 * Presentation context negotiation (PS3.8 §9.3.3.2, §9.3.3.3): pure logic, no sockets.
 */
import { MAY_BE_LOSSY_TRANSFER_SYNTAXES, VERIFICATION_SOP_CLASS, VERIFICATION_TRANSFER_SYNTAXES } from './uids.js';

/** Result field of a presentation context in an A-ASSOCIATE-AC (PS3.8 Table 9-18). */
export const PresentationContextResult = {
  Acceptance: 0,
  UserRejection: 1,
  NoReason: 2,
  AbstractSyntaxNotSupported: 3,
  TransferSyntaxesNotSupported: 4,
} as const;
export type PresentationContextResult = (typeof PresentationContextResult)[keyof typeof PresentationContextResult];

/** A presentation context as the requestor proposed it. */
export interface ProposedContext {
  id: number;
  abstractSyntaxUID: string;
  /** In the requestor's order. */
  transferSyntaxUIDs: readonly string[];
}

/** The acceptor's answer for one proposed context. */
export interface NegotiatedContext {
  id: number;
  abstractSyntaxUID: string;
  result: PresentationContextResult;
  /** Set when accepted. */
  transferSyntaxUID?: string;
}

export interface NegotiationPolicy {
  acceptedSopClassUIDs: ReadonlySet<string>;
  acceptedTransferSyntaxUIDs: ReadonlySet<string>;
}

/**
 * Answers each proposed context on its own: Verification is always accepted; a Storage SOP
 * Class outside the policy gets 3 (abstract syntax not supported); one whose transfer
 * syntaxes are all outside the policy gets 4. Among acceptable transfer syntaxes the
 * requestor's first lossless one is chosen: a modality lists what it holds first, so its data
 * arrive unchanged, never decompressed on the way. A syntax that may be lossy is chosen only
 * when the context offers nothing lossless: accepting it beside an uncompressed proposal would
 * ask the sender to compress a CT lossily before segmentation.
 */
export function negotiatePresentationContexts(
  proposed: readonly ProposedContext[],
  policy: NegotiationPolicy,
): NegotiatedContext[] {
  return proposed.map((pc) => {
    const isVerification = pc.abstractSyntaxUID === VERIFICATION_SOP_CLASS;
    if (!isVerification && !policy.acceptedSopClassUIDs.has(pc.abstractSyntaxUID)) {
      return { id: pc.id, abstractSyntaxUID: pc.abstractSyntaxUID, result: PresentationContextResult.AbstractSyntaxNotSupported };
    }
    const acceptable = isVerification ? new Set(VERIFICATION_TRANSFER_SYNTAXES) : policy.acceptedTransferSyntaxUIDs;
    const chosen =
      pc.transferSyntaxUIDs.find((ts) => acceptable.has(ts) && !MAY_BE_LOSSY_TRANSFER_SYNTAXES.has(ts)) ?? pc.transferSyntaxUIDs.find((ts) => acceptable.has(ts));
    if (chosen === undefined) {
      return { id: pc.id, abstractSyntaxUID: pc.abstractSyntaxUID, result: PresentationContextResult.TransferSyntaxesNotSupported };
    }
    return { id: pc.id, abstractSyntaxUID: pc.abstractSyntaxUID, result: PresentationContextResult.Acceptance, transferSyntaxUID: chosen };
  });
}
