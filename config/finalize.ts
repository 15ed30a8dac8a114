import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { isLoopbackHost } from './addresses.js';
import { defaultDatabaseUrl, parseDatabaseUrl } from './database.js';
import type { DestinationConfig } from './destination.js';
import type { DimseTlsConfig } from './dimse.js';
import { MASTER_KEY_VARIABLE } from './env.js';
import { GENERATED_MASTER_KEY_FILENAME, type MasterKeyConfig, type SecretKey } from './master-key.js';
import { DEFAULT_ROUTE_NAME } from './names.js';
import { routeSchema, type RouteConfig } from './route.js';
import type { configSchema, LimenConfig } from './schema.js';

/** What the parsed file does not say: where relative paths start, and a key from the environment. */
export interface FinalizeOptions {
  /** The config file's directory, or the working directory when there is no file. */
  baseDir: string;
  masterKey?: SecretKey;
  /** The retention settings the input writes (`RetentionConfig.written`). */
  retentionWritten?: readonly string[];
}

/**
 * From the parsed file to the configuration the process runs with: relative paths made
 * absolute against `baseDir`, defaults that depend on other fields (database in the data dir,
 * generated key file), the default route added, and each route's caller policy decided.
 */
export function finalizeConfig(parsed: z.output<typeof configSchema>, options: FinalizeOptions): LimenConfig {
  const at = (p: string): string => resolve(options.baseDir, p);
  const dataDir = at(parsed.dataDir);

  const databaseUrl = parsed.database.url ?? defaultDatabaseUrl(dataDir);
  const database = parseDatabaseUrl(databaseUrl, options.baseDir);
  if (!database.ok) throw new Error(`database.url passed validation but cannot be read: ${database.reason}`);

  let masterKey: MasterKeyConfig;
  if (options.masterKey !== undefined) masterKey = { source: 'env', variable: MASTER_KEY_VARIABLE, key: options.masterKey };
  else if (parsed.masterKey.file !== undefined) masterKey = { source: 'file', file: at(parsed.masterKey.file) };
  else masterKey = { source: 'generated', file: join(dataDir, GENERATED_MASTER_KEY_FILENAME) };

  const destinations: Record<string, DestinationConfig> = {};
  for (const [name, d] of Object.entries(parsed.destinations)) {
    const auth = d.kind === 'dicomweb' ? d.auth : undefined;
    if (d.kind === 'dimse' && d.tls !== undefined) {
      const tls = d.tls;
      destinations[name] = {
        ...d,
        tls: {
          ...(tls.caFile !== undefined && { caFile: at(tls.caFile) }),
          ...(tls.certificateFile !== undefined && { certificateFile: at(tls.certificateFile) }),
          ...(tls.privateKeyFile !== undefined && { privateKeyFile: at(tls.privateKeyFile) }),
        },
      };
    } else if (auth?.bearerTokenFile !== undefined) {
      destinations[name] = { ...d, auth: { bearerTokenFile: at(auth.bearerTokenFile) } } as DestinationConfig;
    } else if (auth?.basic !== undefined) {
      destinations[name] = { ...d, auth: { basic: { user: auth.basic.user, passwordFile: at(auth.basic.passwordFile) } } } as DestinationConfig;
    } else {
      destinations[name] = d as DestinationConfig;
    }
  }

  const written = { [DEFAULT_ROUTE_NAME]: routeSchema.parse({}), ...parsed.routes };
  const loopback = isLoopbackHost(parsed.dimse.host);
  const explicitAny = Object.values(written).some((r) => r.acceptAnyCaller === true);
  const routes: Record<string, RouteConfig> = {};
  for (const [name, route] of Object.entries(written)) {
    const implicit = name === DEFAULT_ROUTE_NAME && loopback && parsed.remoteAEs.length === 0 && !explicitAny;
    routes[name] = { ...route, acceptAnyCaller: route.acceptAnyCaller ?? implicit };
  }

  return deepFreeze({
    dataDir,
    database: database.database,
    http: parsed.http.tls === undefined ? parsed.http : { ...parsed.http, tls: { certificateFile: at(parsed.http.tls.certificateFile), privateKeyFile: at(parsed.http.tls.privateKeyFile) } },
    dimse: parsed.dimse.tls === undefined ? parsed.dimse : { ...parsed.dimse, tls: dimseTls(parsed.dimse.tls, at) },
    ingest: parsed.ingest,
    masterKey,
    remoteAEs: parsed.remoteAEs,
    routes: routes as LimenConfig['routes'],
    destinations,
    models: { ...parsed.models, dir: at(parsed.models.dir) },
    export: parsed.export,
    worker: parsed.worker,
    retention: { ...parsed.retention, written: [...(options.retentionWritten ?? [])] },
  });
}

function dimseTls(tls: DimseTlsConfig, at: (p: string) => string): DimseTlsConfig {
  return {
    ...tls,
    certificateFile: at(tls.certificateFile),
    privateKeyFile: at(tls.privateKeyFile),
    ...(tls.callerCaFile !== undefined && { callerCaFile: at(tls.callerCaFile) }),
    ...(tls.callerCrlFile !== undefined && { callerCrlFile: at(tls.callerCrlFile) }),
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
