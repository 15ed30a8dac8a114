/**
 * The receivers under test, each started fresh for every timed run (an empty store, so nothing
 * is a duplicate) and stopped by PID afterwards:
 *   - limen     `limen start` as a child process (the code under test, bundled from the current
 *               sources with esbuild, or the built dist/), SQLite or PostgreSQL, DIMSE and STOW-RS
 *   - limen-baseline  the same, bundled from another source tree (`--baseline <dir>`): before/after
 *   - storescp  DCMTK's storescp writing each instance to a directory (`-od`), one process
 *   - orthanc   Orthanc 1.10 (Debian) on its SQLite index, with the DICOMweb plugin for STOW-RS
 * DCMTK and Orthanc get TCP_NODELAY=1; Limen sets TCP_NODELAY on its own sockets.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../test/support/ports.js';
import { Child, waitForHttp, waitForPort } from './processes.js';

const run = promisify(execFile);

export const TARGET_NAMES = ['limen', 'limen-baseline', 'storescp', 'orthanc'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export const STORESCP = '/usr/bin/storescp';
export const ORTHANC = '/usr/sbin/Orthanc';
export const ORTHANC_DICOMWEB = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

/** Where a STOW-RS client posts, with the headers it needs. */
export interface StowEndpoint {
  url: string;
  headers: Record<string, string>;
}

/** One started receiver. */
export interface RunningTarget {
  pid: number;
  dimse: { port: number; aeTitle: string };
  stow?: StowEndpoint;
  /** How many instances the receiver holds now (to check a run stored everything). */
  count(): Promise<number>;
  stop(): Promise<void>;
}

/** PEM files for DICOM over TLS: the receiver's certificate and key, and the CA both sides trust. */
export interface BenchTls {
  certificate: string;
  privateKey: string;
  ca: string;
}

export interface Target {
  name: TargetName;
  version: string;
  /** How it is run, as a person would type it. */
  command: string;
  /** What it does with each instance before it answers. */
  does: string;
  supportsStow: boolean;
  /** With `tls`, the DIMSE port it returns speaks TLS and asks the sender for its certificate. */
  start(work: string, tls?: BenchTls): Promise<RunningTarget>;
}

export interface LimenTargetOptions {
  /** `limen-baseline` for the same gateway built from another source tree (a before/after in one run). */
  name: 'limen' | 'limen-baseline';
  /** The `limen` entry to run with node (a bundle or dist/gateway/cli/main.js). */
  entry: string;
  version: string;
  command: string;
  /** PostgreSQL base URL (a schema per run is created and dropped); absent for SQLite. */
  postgresUrl?: string;
}

const MASTER_KEY_HEX = '5a'.repeat(32);

export function limenTarget(o: LimenTargetOptions): Target {
  return {
    name: o.name,
    version: o.version,
    command: o.command,
    does:
      'de-identifies (PS3.15 Basic Profile) in memory, seals the linkage into the vault, encrypts the blob (AES-256-GCM), ' +
      `writes it and commits the ${o.postgresUrl ? 'PostgreSQL' : 'SQLite'} rows with the audit event, flushes both at once (fdatasync + directory fsync, commit flush), then answers`,
    supportsStow: true,
    async start(work, tls) {
      const dataDir = join(work, 'var');
      mkdirSync(dataDir, { recursive: true });
      const [httpPort, dimsePort, tlsPort] = [await freePort(), await freePort(), await freePort()];
      let configFile = '';
      if (tls) {
        configFile = join(work, 'limen.yaml');
        writeFileSync(configFile, `dimse:\n  tls: { port: ${tlsPort}, certificateFile: ${tls.certificate}, privateKeyFile: ${tls.privateKey}, callerCaFile: ${tls.ca} }\n`);
      }
      let schema: string | undefined;
      let databaseUrl: string | undefined;
      if (o.postgresUrl) {
        schema = `limen_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
        await pgAdmin(o.postgresUrl, `CREATE SCHEMA ${schema}`);
        const u = new URL(o.postgresUrl);
        u.searchParams.set('options', `-c search_path=${schema}`);
        databaseUrl = u.toString();
      }
      const env: NodeJS.ProcessEnv = {
        LIMEN_DATA_DIR: dataDir,
        LIMEN_HTTP_HOST: '127.0.0.1',
        LIMEN_HTTP_PORT: String(httpPort),
        LIMEN_DIMSE_HOST: '127.0.0.1',
        LIMEN_DIMSE_PORT: String(dimsePort),
        LIMEN_AE_TITLE: 'LIMEN',
        LIMEN_MASTER_KEY: MASTER_KEY_HEX,
        LIMEN_DATABASE_URL: databaseUrl ?? '',
        LIMEN_CONFIG: configFile,
      };
      const cli = async (...args: string[]): Promise<string> => (await run(process.execPath, [o.entry, ...args], { env: { ...process.env, ...env } })).stdout.trim();
      // Tokens are made before the server starts, by the same CLI an operator uses.
      const modality = await cli('token', 'create', '--role', 'modality', '--ttl', '1d');
      const admin = await cli('token', 'create', '--role', 'admin', '--ttl', '1d');
      const child = Child.spawn(process.execPath, [o.entry, 'start'], { env, logFile: join(work, 'limen.log') });
      const base = `http://127.0.0.1:${httpPort}`;
      try {
        await waitForHttp(child, `${base}/readyz`, 'limen');
      } catch (err) {
        await child.stop();
        throw err;
      }
      return {
        pid: child.pid,
        dimse: { port: tls ? tlsPort : dimsePort, aeTitle: 'LIMEN' },
        stow: { url: `${base}/dicomweb/studies`, headers: { authorization: `Bearer ${modality}` } },
        async count() {
          const r = await fetch(`${base}/api/v1/studies?limit=1000`, { headers: { authorization: `Bearer ${admin}` } });
          if (!r.ok) throw new Error(`limen: GET /api/v1/studies: ${r.status}`);
          const body = (await r.json()) as { studies: Array<{ instanceCount: number }> };
          return body.studies.reduce((n, s) => n + s.instanceCount, 0);
        },
        async stop() {
          await child.stop();
          if (schema && o.postgresUrl) await pgAdmin(o.postgresUrl, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        },
      };
    },
  };
}

export function storescpTarget(version: string): Target {
  return {
    name: 'storescp',
    version,
    command: 'TCP_NODELAY=1 storescp -aet STORESCP -od <dir> <port>',
    does: 'writes each instance to a file in a directory (no fsync), then answers',
    supportsStow: false,
    async start(work, tls) {
      const out = join(work, 'received');
      mkdirSync(out, { recursive: true });
      const port = await freePort();
      // storescp's TLS default is the non-downgrading BCP 195 profile, the caller's certificate required.
      const tlsArgs = tls ? ['+tls', tls.privateKey, tls.certificate, '+cf', tls.ca] : [];
      const child = Child.spawn(STORESCP, [...tlsArgs, '-aet', 'STORESCP', '-od', out, String(port)], { env: { TCP_NODELAY: '1' }, logFile: join(work, 'storescp.log') });
      try {
        await waitForPort(child, port, 'storescp');
      } catch (err) {
        await child.stop();
        throw err;
      }
      return {
        pid: child.pid,
        dimse: { port, aeTitle: 'STORESCP' },
        async count() {
          return readdirSync(out).filter((f) => !f.startsWith('.')).length;
        },
        stop: () => child.stop(),
      };
    },
  };
}

export function orthancTarget(version: string): Target {
  return {
    name: 'orthanc',
    version,
    command: 'TCP_NODELAY=1 Orthanc <config: SQLite index, no compression, DICOMweb plugin>',
    does: 'parses the instance, writes it to its storage area and indexes it in SQLite, then answers',
    supportsStow: true,
    async start(work, tls) {
      const [httpPort, dicomPort] = [await freePort(), await freePort()];
      const config = join(work, 'orthanc.json');
      writeFileSync(
        config,
        JSON.stringify(
          {
            Name: 'limen-edge-bench',
            StorageDirectory: join(work, 'storage'),
            IndexDirectory: join(work, 'index'),
            HttpPort: httpPort,
            DicomPort: dicomPort,
            DicomAet: 'ORTHANC',
            RemoteAccessAllowed: false,
            AuthenticationEnabled: false,
            StorageCompression: false,
            Plugins: [ORTHANC_DICOMWEB],
            DicomWeb: { Enable: true, Root: '/dicom-web/' },
            // Orthanc ≥ 1.9: its DICOM port then speaks TLS only, the caller's certificate required.
            ...(tls && { DicomTlsEnabled: true, DicomTlsCertificate: tls.certificate, DicomTlsPrivateKey: tls.privateKey, DicomTlsTrustedCertificates: tls.ca }),
          },
          null,
          2,
        ),
      );
      const child = Child.spawn(ORTHANC, [`--logfile=${join(work, 'orthanc.log')}`, config], { env: { TCP_NODELAY: '1' }, logFile: join(work, 'orthanc.out') });
      const base = `http://127.0.0.1:${httpPort}`;
      try {
        await waitForHttp(child, `${base}/system`, 'orthanc');
        await waitForPort(child, dicomPort, 'orthanc');
      } catch (err) {
        await child.stop();
        throw err;
      }
      return {
        pid: child.pid,
        dimse: { port: dicomPort, aeTitle: 'ORTHANC' },
        stow: { url: `${base}/dicom-web/studies`, headers: {} },
        async count() {
          const r = await fetch(`${base}/statistics`);
          if (!r.ok) throw new Error(`orthanc: GET /statistics: ${r.status}`);
          return ((await r.json()) as { CountInstances: number }).CountInstances;
        },
        stop: () => child.stop(),
      };
    },
  };
}

/** Runs one statement on PostgreSQL over a short-lived connection. */
async function pgAdmin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Removes a run's work directory. */
export function clean(work: string): void {
  rmSync(work, { recursive: true, force: true });
}

/**
 * Takes a finished run's files out of the next run's way without freeing their inodes: each file
 * is emptied (its blocks and page-cache pages freed, so the next receiver writes into reused pages,
 * as when it was removed) and the tree moved under `retired`, which is removed when the bench ends.
 * On a journal-less ext4 such as this machine's, an inode freed in the last minute is not reused,
 * and every file created meanwhile scans past it: removing each run's files made every receiver
 * slower round after round (storescp's CPU for the same 300 files went from 0.19 to 0.45 s within
 * one bench), the more so the more runs had just ended.
 */
export function retire(work: string, retired: string): void {
  if (!existsSync(work)) return;
  for (const entry of readdirSync(work, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) truncateSync(join(entry.parentPath, entry.name));
  }
  mkdirSync(retired, { recursive: true });
  renameSync(work, join(retired, `${Date.now()}-${randomBytes(4).toString('hex')}`));
}
