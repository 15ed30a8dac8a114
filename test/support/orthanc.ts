/**
 * A throwaway Orthanc (Debian's 1.10) as a peer: SQLite index and storage in a work directory,
 * HTTP and DICOM on free ports, no remote access, no plugins, Nagle off. Orthanc 1.10 has no
 * bind-address option: run it only inside a network namespace that has nothing but loopback
 * (`unshare -n`), as the scenarios under test/gateway/edge/scenarios do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports.js';

export const ORTHANC_BIN = '/usr/sbin/Orthanc';

export interface OrthancOptions {
  /** Work directory (config, database, storage, log). */
  dir: string;
  /** Orthanc's own AE title. Default: ORTHANC. */
  aeTitle?: string;
  /** DICOM peers Orthanc may send to, by name: [AE title, host, port], or with `UseDicomTls`. */
  modalities?: Record<string, [string, string, number] | { AET: string; Host: string; Port: number; UseDicomTls?: boolean }>;
  /** DICOM TLS (Orthanc ≥ 1.9): its certificate and key, and the certificates it trusts (PEM files). */
  tls?: { certificate: string; privateKey: string; trusted: string };
  /** The DIMSE port to listen on (default: a free one), when a peer must know it in advance. */
  dicomPort?: number;
  /** Load the DICOMweb plugin (Debian orthanc-dicomweb), serving `/dicom-web`. */
  dicomweb?: boolean;
}

export const ORTHANC_DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

/** What `POST /modalities/{id}/store` answers (synchronous job). */
export interface OrthancStoreResult {
  InstancesCount: number;
  FailedInstancesCount: number;
  LocalAet: string;
  RemoteAet: string;
  [field: string]: unknown;
}

export class OrthancPeer {
  private constructor(
    private readonly child: ChildProcess,
    readonly base: string,
    readonly dicomPort: number,
    readonly logFile: string,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  /** Starts Orthanc and waits until its REST API answers. */
  static async start(options: OrthancOptions): Promise<OrthancPeer> {
    mkdirSync(options.dir, { recursive: true });
    const [httpPort, dicomPort] = [await freePort(), options.dicomPort ?? (await freePort())];
    const config = join(options.dir, 'orthanc.json');
    writeFileSync(
      config,
      JSON.stringify(
        {
          Name: 'limen-test',
          DicomAet: options.aeTitle ?? 'ORTHANC',
          StorageDirectory: join(options.dir, 'storage'),
          IndexDirectory: join(options.dir, 'index'),
          HttpPort: httpPort,
          DicomPort: dicomPort,
          RemoteAccessAllowed: false,
          AuthenticationEnabled: false,
          DicomModalities: options.modalities ?? {},
          StorageCompression: false,
          ...(options.tls && {
            DicomTlsEnabled: true,
            DicomTlsCertificate: options.tls.certificate,
            DicomTlsPrivateKey: options.tls.privateKey,
            DicomTlsTrustedCertificates: options.tls.trusted,
          }),
          Plugins: options.dicomweb ? [ORTHANC_DICOMWEB_PLUGIN] : [],
          ...(options.dicomweb ? { DicomWeb: { Enable: true, Root: '/dicom-web/' } } : {}),
        },
        null,
        2,
      ),
    );
    const logFile = join(options.dir, 'orthanc.log');
    const child = spawn(ORTHANC_BIN, [`--logfile=${logFile}`, config], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' });
    const peer = new OrthancPeer(child, `http://127.0.0.1:${httpPort}`, dicomPort, logFile);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`Orthanc exited (${child.exitCode ?? child.signalCode}) before answering:\n${peer.log()}`);
      }
      try {
        const r = await fetch(`${peer.base}/system`);
        if (r.ok) return peer;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await peer.stop();
        throw new Error(`Orthanc did not answer within 20 s:\n${peer.log()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Orthanc's log so far (for failure messages). */
  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '(no log)';
    }
  }

  /** Uploads Part 10 files through the REST API, a few at a time; returns the Orthanc IDs of their studies. */
  async upload(files: readonly string[], concurrency = 4): Promise<string[]> {
    const studies = new Set<string>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < files.length) {
        const file = files[next++];
        const r = (await this.json('POST', '/instances', readFileSync(file))) as { ParentStudy: string; Status: string };
        if (r.Status !== 'Success' && r.Status !== 'AlreadyStored') throw new Error(`Orthanc refused ${file}: ${r.Status}`);
        studies.add(r.ParentStudy);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return [...studies];
  }

  /** Counts of what Orthanc holds. */
  async statistics(): Promise<{ CountInstances: number; CountStudies: number }> {
    return (await this.json('GET', '/statistics')) as { CountInstances: number; CountStudies: number };
  }

  /** `POST /modalities/{name}/store` of Orthanc resources, synchronously: returns when the C-STOREs are done. */
  async storeTo(modality: string, resources: string[]): Promise<OrthancStoreResult> {
    const body = Buffer.from(JSON.stringify({ Resources: resources, Synchronous: true }));
    return (await this.json('POST', `/modalities/${modality}/store`, body)) as OrthancStoreResult;
  }

  /** SIGTERM by PID and wait for the exit (SIGKILL after 15 s). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    process.kill(this.pid, 'SIGTERM');
    const timer = setTimeout(() => process.kill(this.pid, 'SIGKILL'), 15_000);
    await gone;
    clearTimeout(timer);
  }

  /** Any REST call answering JSON. */
  async rest(method: string, path: string, body?: Buffer): Promise<unknown> {
    return this.json(method, path, body);
  }

  /** An instance's Part 10 file, by its Orthanc ID. */
  async file(instanceId: string): Promise<Uint8Array> {
    const r = await fetch(`${this.base}/instances/${instanceId}/file`);
    if (!r.ok) throw new Error(`Orthanc GET /instances/${instanceId}/file: ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  }

  private async json(method: string, path: string, body?: Buffer): Promise<unknown> {
    const r = await fetch(`${this.base}${path}`, { method, body: body ? new Uint8Array(body) : undefined });
    if (!r.ok) throw new Error(`Orthanc ${method} ${path}: ${r.status} ${await r.text()}`);
    return r.json();
  }
}

/**
 * Limen's YAML `destinations:` for this Orthanc as the PACS: `pacs-dimse` (C-STORE to its AE
 * ORTHANC) and `pacs-stow` (STOW-RS to its DICOMweb plugin).
 */
export function pacsDestinationsYaml(orthanc: Pick<OrthancPeer, 'base' | 'dicomPort'>): string {
  return `destinations:
  pacs-dimse:
    kind: dimse
    aeTitle: ORTHANC
    host: 127.0.0.1
    port: ${orthanc.dicomPort}
  pacs-stow:
    kind: dicomweb
    url: ${orthanc.base}/dicom-web`;
}
