/**
 * The `limen` command line as a child process, run from the sources through tsx, so tests see
 * what an operator sees: exit codes, stdout, and the JSON log lines on stderr.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { until } from './wait.js';

/** The project root. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The CLI entry point. */
export const LIMEN_MAIN = fileURLToPath(new URL('../../gateway/cli/main.ts', import.meta.url));
/** tsx's loader by absolute URL, so the CLI runs from any working directory. */
export const TSX_LOADER = import.meta.resolve('tsx');

export interface LimenRunOptions {
  cwd?: string;
  /** Added to the environment; every inherited `LIMEN_*` variable is removed first. */
  env?: Record<string, string>;
}

export interface LimenResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The parent's environment without `LIMEN_*`, plus `extra`. */
export function limenEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LIMEN_')) env[k] = v;
  return { ...env, ...extra };
}

/** Runs a one-shot `limen` command to the end. */
export function runLimen(args: string[], options: LimenRunOptions = {}): Promise<LimenResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX_LOADER, LIMEN_MAIN, ...args],
      { cwd: options.cwd ?? PROJECT_ROOT, env: limenEnv(options.env), maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A `limen start` (or any long-running command) child process. */
export class LimenProcess {
  private out = '';
  private err = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (this.out += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.err += s));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Spawns `limen <args>`; call `started()` to wait for its "gateway.started" log line. */
  static spawn(args: string[], options: LimenRunOptions = {}): LimenProcess {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, LIMEN_MAIN, ...args], {
      cwd: options.cwd ?? PROJECT_ROOT,
      env: limenEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new LimenProcess(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get stdout(): string {
    return this.out;
  }

  /** The log (JSON lines on stderr). */
  get stderr(): string {
    return this.err;
  }

  /** Parsed JSON log records so far; lines that are not JSON are skipped. */
  logRecords(): Array<Record<string, unknown>> {
    const records: Array<Record<string, unknown>> = [];
    for (const line of this.err.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        records.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a line cut mid-write by a kill
      }
    }
    return records;
  }

  /** Waits for a log record with this `id`; fails early if the process exits. */
  async waitForLog(id: string, ms = 20_000): Promise<Record<string, unknown>> {
    return until(
      () => {
        const found = this.logRecords().find((r) => r.id === id);
        if (found) return found;
        if (!this.running) throw new Error(`limen exited (${this.child.exitCode ?? this.child.signalCode}) before logging ${id}:\n${this.err}`);
        return undefined;
      },
      ms,
      `log line ${id}`,
      50,
    );
  }

  /** Waits until the gateway says it is running, and returns its bound ports. */
  async started(ms = 20_000): Promise<{ httpPort: number; dimsePort: number }> {
    const r = (await this.waitForLog('gateway.started', ms)) as { http: { port: number }; dimse: { port: number } };
    return { httpPort: r.http.port, dimsePort: r.dimse.port };
  }

  /** Sends `signal` to this process (by its PID) and waits for it to exit, up to `ms`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', ms = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) process.kill(this.pid, signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`limen (pid ${this.pid}) did not exit within ${ms} ms of ${signal}; its last log lines:\n${this.err.trim().split('\n').slice(-8).join('\n')}`)), ms);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** For after() hooks: SIGKILL by PID if still running, and wait for the exit. */
  async dispose(): Promise<void> {
    if (!this.running) return;
    process.kill(this.pid, 'SIGKILL');
    await this.exited;
  }
}
