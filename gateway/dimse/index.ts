/**
 * DIMSE networking: the C-ECHO/C-STORE SCP that receives studies, and the C-STORE SCU that
 * exports results.
 */
export { DimseScpService } from './scp-service.js';
export { DIMSE_SCP_DEFAULTS } from './types.js';
export type {
  AbortCause,
  AssociateDecision,
  AssociateHook,
  AssociateRequest,
  AssociationFacts,
  DimseScpDependencies,
  DimseScpEvent,
  DimseScpOptions,
  DimseTlsCredentials,
  DimseTlsOptions,
  DimseTransport,
  ServiceStatus,
} from './types.js';
export type { AssociateRefusal, AssociationRejectReason } from './rejection.js';
export { DimseError, type DimseErrorCode, type DimseIssue } from './errors.js';
export { CStoreStatus } from './status.js';
export { DEFAULT_ACCEPTED_TRANSFER_SYNTAXES, StorageSopClass, TransferSyntax, VERIFICATION_SOP_CLASS } from './uids.js';
export { storeInstances, type InstanceResult, type OutgoingInstance, type StoreInstancesOutcome, type StoreInstancesRequest, type StoreScuTls } from './store-scu.js';
