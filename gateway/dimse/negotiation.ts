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
  /**
   * The requestor's SCP/SCU Role Selection for this abstract syntax (PS3.7 D.3.3.4), when it
   * sent one: whether it proposes itself as SCU, and as SCP. Absent: the default roles.
   */
  requestorRoles?: { scu: boolean; scp: boolean };
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
 *
 * Limen is only ever the SCP, so of a role selection it accepts the requestor's SCU role and
 * turns down its SCP role (PS3.7 D.3.3.4). A requestor that proposes itself as SCP only (or as
 * neither) is left with no role on an otherwise acceptable context: PS3.7 Table D.3-11 gives
 * that proposal, turned down, no negotiated role on either side, so the context is rejected
 * (1, user-rejection) rather than accepted unusable.
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
    if (pc.requestorRoles && !pc.requestorRoles.scu) {
      return { id: pc.id, abstractSyntaxUID: pc.abstractSyntaxUID, result: PresentationContextResult.UserRejection };
    }
    return { id: pc.id, abstractSyntaxUID: pc.abstractSyntaxUID, result: PresentationContextResult.Acceptance, transferSyntaxUID: chosen };
  });
}
