/**
 * Limen's configuration: the schema (one object per concern), loading from a YAML file and
 * `LIMEN_*` variables, precise errors, and the caller policy DIMSE association acceptance uses.
 * Imports no other Limen module.
 */
export { loadConfig, loadConfigOrThrow, validateConfig } from './load.js';
export type { LoadConfigOptions, LoadConfigResult, ValidateConfigOptions, ValidParts } from './load.js';
export type { YamlConfigSource } from './yaml-source.js';
export { formatConfigErrors, parsePath, ConfigLoadError } from './errors.js';
export type { ConfigError, ConfigErrorCode } from './errors.js';
export { resolveCaller } from './resolve-caller.js';
export { configWarnings, environmentWarnings, type ConfigWarning } from './warnings.js';
export { credentialFileProblems } from './credential-files.js';
export { PemFileError, pemFileProblems, type PemFileProblem, readDestinationTlsPem, readDimseTlsPem, readHttpTlsPem, type DimseTlsPem, type HttpTlsPem } from './pem-files.js';
export type { CallerInfo, CallerRejection, ResolveCallerResult } from './resolve-caller.js';
export { configSchema, DEFAULT_DATA_DIR } from './schema.js';
export type { LimenConfig, LimenConfigInput } from './schema.js';
export { CONFIG_FILE_VARIABLE, ENV_OVERRIDES, KNOWN_VARIABLES, MASTER_KEY_VARIABLE, OTHER_VARIABLES } from './env.js';
export type { Environment } from './env.js';

export { aeTitleProblem, normalizeAETitle, AE_TITLE_MAX_LENGTH } from './ae-title.js';
export { isLoopbackHost, addressAllowed } from './addresses.js';
export { isDicomUID } from './uid.js';
export { DEFAULT_ROUTE_NAME } from './names.js';
export { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, DEFAULT_MAX_INSTANCE_BYTES } from './http.js';
export type { HttpConfig, HttpTlsConfig } from './http.js';
export { DEFAULT_RECEIVE_MEMORY_BYTES } from './ingest.js';
export type { IngestConfig } from './ingest.js';
export {
  DEFAULT_DIMSE_HOST,
  DEFAULT_DIMSE_PORT,
  DEFAULT_AE_TITLE,
  DEFAULT_MAX_PDU_LENGTH,
  DEFAULT_ASSOCIATION_IDLE_TIMEOUT_SECONDS,
  DEFAULT_MAX_ASSOCIATIONS,
  DEFAULT_DIMSE_TLS_PORT,
} from './dimse.js';
export type { DimseConfig, DimseTlsConfig } from './dimse.js';
export { DEFAULT_SQLITE_FILENAME } from './database.js';
export type { DatabaseConfig } from './database.js';
export { SecretKey, decodeMasterKey, MASTER_KEY_BYTES, GENERATED_MASTER_KEY_FILENAME } from './master-key.js';
export type { MasterKeyConfig } from './master-key.js';
export type { RemoteAEConfig } from './remote-ae.js';
export {
  CT_IMAGE_STORAGE,
  ENHANCED_CT_IMAGE_STORAGE,
  DEFAULT_ACCEPT_SOP_CLASSES,
  DEFAULT_DEIDENTIFICATION_PROFILE,
  DEFAULT_STABLE_SECONDS,
  MIN_STABLE_SECONDS,
  DEFAULT_RETENTION_DAYS,
} from './route.js';
export type { RouteConfig, DeidentificationConfig, SafePrivateElement } from './route.js';
export type {
  DestinationConfig,
  DimseDestinationConfig,
  DimseDestinationTlsConfig,
  DicomwebDestinationConfig,
  DicomwebAuthConfig,
} from './destination.js';
export { DEFAULT_MODELS_DIR } from './models.js';
export type { ModelsConfig } from './models.js';
export { DEFAULT_EXPORT_RETRY_DELAYS_SECONDS, DEFAULT_EXPORT_TIMEOUT_SECONDS } from './export.js';
export type { ExportConfig } from './export.js';
export { DEFAULT_WORKER_CONCURRENCY, DEFAULT_WORKER_POLL_INTERVAL_MS } from './worker.js';
export type { WorkerConfig } from './worker.js';
export { DEFAULT_RETENTION_SWEEP_INTERVAL_MINUTES } from './retention.js';
export type { RetentionConfig } from './retention.js';
