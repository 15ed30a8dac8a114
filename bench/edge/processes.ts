/**
 * Child processes the edge benchmark starts and stops: spawn with a log file, wait until a port
 * answers, stop by PID (SIGTERM, then SIGKILL after a grace period). Nothing is ever stopped by
 * name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { connect } from 'node:net';

/** A started child: its PID, and how to stop it. */
export class Child {
  private constructor(
    readonly process: ChildProcess,
    readonly logFile: string,
  ) {}

  get pid(): number {
    return this.process.pid ?? NaN;
  }

  get exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  /** Spawns `cmd` with stdout and stderr going to `logFile`. */
  static spawn(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string }): Child {
    const fd = openSync(opts.logFile, 'a');
    try {
      const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ['ignore', fd, fd] });
      child.on('error', () => {}); // reported through `exited` and the waits below
      return new Child(child, opts.logFile);
    } finally {
      closeSync(fd);
    }
  }

  /** Stops the child by its PID and waits for it to exit. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.process.once('exit', r));
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }
}

/** Resolves once a TCP connection to 127.0.0.1:`port` succeeds; rejects when the child exits first or time runs out. */
export async function waitForPort(child: Child, port: number, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exited) throw new Error(`${what} exited before listening on ${port}; see ${child.logFile}`);
    if (await canConnect(port)) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port} within ${timeoutMs / 1000} s; see ${child.logFile}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves once `url` answers 200. */
export async function waitForHttp(child: Child, url: string, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exited) throw new Error(`${what} exited before answering ${url}; see ${child.logFile}`);
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not answer ${url} within ${timeoutMs / 1000} s; see ${child.logFile}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
