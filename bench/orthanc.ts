/**
 * A throwaway Orthanc (Debian's 1.10) for benchmarks: SQLite index and storage in a work
 * directory, HTTP and DICOM on free ports, no remote access, no plugins. Orthanc 1.10 cannot be
 * told to bind to loopback only, so callers run it inside a network namespace that has nothing
 * but loopback (see deidentify.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const ORTHANC = '/usr/sbin/Orthanc';

/** An ephemeral port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface AnonymizedStudy {
  id: string;
  instancesCount: number;
  failedInstancesCount: number;
}

export class OrthancPeer {
  private constructor(
    private readonly child: ChildProcess,
    readonly base: string,
    readonly logFile: string,
  ) {}

  get pid(): number {
    return this.child.pid ?? NaN;
  }

  /** Starts Orthanc with a fresh database in `dir` and waits until its REST API answers. */
  static async start(dir: string): Promise<OrthancPeer> {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const [httpPort, dicomPort] = [await freePort(), await freePort()];
    const config = join(dir, 'orthanc.json');
    writeFileSync(
      config,
      JSON.stringify(
        {
          Name: 'limen-bench',
          StorageDirectory: join(dir, 'storage'),
          IndexDirectory: join(dir, 'index'),
          HttpPort: httpPort,
          DicomPort: dicomPort,
          RemoteAccessAllowed: false,
          AuthenticationEnabled: false,
          StorageCompression: false,
          Plugins: [],
        },
        null,
        2,
      ),
    );
    const logFile = join(dir, 'orthanc.log');
    const child = spawn(ORTHANC, [`--logfile=${logFile}`, config], {
      env: { ...process.env, TCP_NODELAY: '1' },
      stdio: 'ignore',
    });
    const peer = new OrthancPeer(child, `http://127.0.0.1:${httpPort}`, logFile);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`Orthanc exited (${code}) before answering; see ${logFile}`))),
    );
    exited.catch(() => {}); // only raced while starting; a later exit is stop()'s business
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await Promise.race([fetch(`${peer.base}/system`), exited]);
        return peer;
      } catch (e) {
        if (child.exitCode !== null || Date.now() > deadline) {
          await peer.stop();
          throw e instanceof Error && e.message.startsWith('Orthanc') ? e : new Error(`Orthanc did not answer within 20 s; see ${logFile}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async version(): Promise<string> {
    const system = (await this.json('GET', '/system')) as { Version: string };
    return `Orthanc ${system.Version}`;
  }

  /** Stores files (a few at a time); returns the Orthanc IDs of the studies they belong to. */
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

  /** `POST /studies/{id}/anonymize`, synchronous: returns when the new study is stored. */
  async anonymizeStudy(id: string): Promise<AnonymizedStudy> {
    const r = (await this.json('POST', `/studies/${id}/anonymize`, Buffer.from('{}'))) as {
      ID: string;
      InstancesCount: number;
      FailedInstancesCount: number;
    };
    return { id: r.ID, instancesCount: r.InstancesCount, failedInstancesCount: r.FailedInstancesCount };
  }

  async instancesOf(studyId: string): Promise<string[]> {
    return ((await this.json('GET', `/studies/${studyId}/instances`)) as Array<{ ID: string }>).map((i) => i.ID);
  }

  async fileOf(instanceId: string): Promise<Uint8Array> {
    const r = await fetch(`${this.base}/instances/${instanceId}/file`);
    if (!r.ok) throw new Error(`GET /instances/${instanceId}/file: ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  }

  async deleteStudy(id: string): Promise<void> {
    await this.json('DELETE', `/studies/${id}`);
  }

  /** Stops Orthanc (SIGTERM) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(timer);
  }

  private async json(method: string, path: string, body?: Buffer): Promise<unknown> {
    const r = await fetch(`${this.base}${path}`, { method, body: body ? new Uint8Array(body) : undefined });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.json();
  }
}
