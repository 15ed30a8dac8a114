/**
 * Why an association is refused, and the A-ASSOCIATE-RJ fields (PS3.8 §9.3.4, Table 9-21)
 * each reason is sent with.
 */
import type { AssociateRqRefusal } from './associate-rq.js';

/** Reasons the association hook can give. */
export type AssociateRefusal = 'calling-ae-not-recognized' | 'called-ae-not-recognized' | 'address-not-allowed' | 'tls-required' | 'certificate-not-allowed';

/** Every reason the SCP refuses an association for. */
export type AssociationRejectReason =
  | AssociateRefusal
  /** More simultaneous associations than `maxAssociations`. */
  | 'too-many-associations'
  /** The service is shutting down. */
  | 'stopping'
  /** The association hook failed: not the caller's fault, worth a retry. */
  | 'internal-error'
  /** What the A-ASSOCIATE-RQ itself breaks of PS3.8 §9.3.2. */
  | AssociateRqRefusal
  /** Over TLS, no certificate that chains to the caller CA. */
  | 'certificate-not-trusted';

/** The three one-byte fields of an A-ASSOCIATE-RJ PDU. */
export interface RejectFields {
  /** 1 rejected-permanent, 2 rejected-transient. */
  result: 1 | 2;
  /** 1 service-user, 2 service-provider (ACSE), 3 service-provider (presentation). */
  source: 1 | 2 | 3;
  reason: number;
}

/**
 * PS3.8 has no reason for "known AE title, wrong source address": its reasons identify a
 * peer by AE title only. A title presented from an address it is not configured for is,
 * for this node, not a recognized calling AE, so it gets the same answer as an unknown
 * title (permanent, service-user, 3). A distinct answer would also tell a prober which AE
 * titles exist. The same goes for a title that must come over TLS and came in the clear, and for
 * a caller whose certificate is not trusted, or not one its AE title is bound to.
 */
export function rejectFields(reason: AssociationRejectReason): RejectFields {
  switch (reason) {
    case 'called-ae-not-recognized':
      return { result: 1, source: 1, reason: 7 };
    case 'calling-ae-not-recognized':
    case 'address-not-allowed':
    case 'tls-required':
    case 'certificate-not-trusted':
    case 'certificate-not-allowed':
      return { result: 1, source: 1, reason: 3 };
    case 'too-many-associations':
      // local-limit-exceeded: a transient condition of the presentation service.
      return { result: 2, source: 3, reason: 2 };
    case 'stopping':
      // temporary-congestion: the node will be back; the sender should retry later.
      return { result: 2, source: 3, reason: 1 };
    case 'internal-error':
      return { result: 2, source: 1, reason: 1 };
    case 'application-context-not-supported':
      return { result: 1, source: 1, reason: 2 };
    case 'protocol-version-not-supported':
      // Decided by the ACSE, not the service user.
      return { result: 1, source: 2, reason: 2 };
    case 'no-presentation-context':
    case 'presentation-context-id-invalid':
    case 'presentation-context-id-duplicated':
    case 'abstract-syntax-not-one':
    case 'maximum-length-missing':
      // A request the service-provider cannot accept as it is written: PS3.8 Table 9-6, AE-6 (an
      // A-ASSOCIATE-RQ not acceptable to the service-provider is answered with an A-ASSOCIATE-RJ,
      // not an A-ABORT), with the source "UL service-provider (ACSE related function)" of §7.1.2.6.
      // Table 9-21 has no reason for a malformed request: no-reason-given. Permanent: sent again,
      // the same request is refused again.
      return { result: 1, source: 2, reason: 1 };
  }
}
