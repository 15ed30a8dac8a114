import { z } from 'zod';
import { databaseSchema, type DatabaseConfig } from './database.js';
import { destinationSchema, type DestinationConfig } from './destination.js';
import { dimseSchema, type DimseConfig } from './dimse.js';
import { exportSchema, type ExportConfig } from './export.js';
import { httpSchema, type HttpConfig } from './http.js';
import { ingestSchema, type IngestConfig } from './ingest.js';
import { masterKeySchema, type MasterKeyConfig } from './master-key.js';
import { modelsSchema, type ModelsConfig } from './models.js';
import { nameSchema } from './names.js';
import { remoteAESchema, type RemoteAEConfig } from './remote-ae.js';
import { retentionSchema, type RetentionConfig } from './retention.js';
import { routeSchema, type RouteConfig } from './route.js';
import { workerSchema, type WorkerConfig } from './worker.js';

/** Database, blobs and the generated development key live here; relative to the config file. */
export const DEFAULT_DATA_DIR = './var';

/**
 * The configuration file's schema: one object per concern, composed here. Every section may
 * be left out; unknown keys are errors, so a typo does not silently fall back to a default.
 */
export const configSchema = z.strictObject({
  dataDir: z.string().min(1).default(DEFAULT_DATA_DIR),
  database: databaseSchema.prefault({}),
  http: httpSchema.prefault({}),
  dimse: dimseSchema.prefault({}),
  ingest: ingestSchema.prefault({}),
  masterKey: masterKeySchema.prefault({}),
  remoteAEs: z.array(remoteAESchema).default([]),
  routes: z.record(nameSchema, routeSchema).default({}),
  destinations: z.record(nameSchema, destinationSchema).default({}),
  models: modelsSchema.prefault({}),
  export: exportSchema.prefault({}),
  worker: workerSchema.prefault({}),
  retention: retentionSchema.prefault({}),
});

/** The configuration as written (a YAML file's content, or an admin's change). */
export type LimenConfigInput = z.input<typeof configSchema>;

/**
 * The loaded configuration: defaults applied, every path absolute, the default route present,
 * each route's caller policy resolved. Frozen: a change is a new load.
 */
export interface LimenConfig {
  /** Absolute. */
  dataDir: string;
  database: DatabaseConfig;
  http: HttpConfig;
  dimse: DimseConfig;
  ingest: IngestConfig;
  masterKey: MasterKeyConfig;
  remoteAEs: RemoteAEConfig[];
  routes: { default: RouteConfig } & Record<string, RouteConfig>;
  destinations: Record<string, DestinationConfig>;
  /** `dir` is absolute. */
  models: ModelsConfig;
  export: ExportConfig;
  worker: WorkerConfig;
  retention: RetentionConfig;
}
