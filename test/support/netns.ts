/**
 * Running a command in a network namespace that has nothing but loopback (`unshare -n`, as
 * root), for peers that cannot be told to bind to loopback only (Orthanc 1.10, storescp).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** Why loopback-only namespaces cannot be made here, or undefined when they can. */
export function loopbackNamespaceProblem(): string | undefined {
  const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8' });
  if (r.error) return `unshare could not run: ${r.error.message}`;
  if (r.status !== 0) return `unshare -n failed (exit ${r.status}): ${r.stderr.trim() || 'no message'}; it needs root or CAP_SYS_ADMIN`;
  return undefined;
}

/**
 * Call from a suite's `before` hook: skips the suite when loopback-only namespaces cannot be
 * made, or fails it with the reason under CI=true (CI runs as root, where this must work).
 */
export function requireLoopbackNamespace(ctx: Mocha.Context): void {
  const problem = loopbackNamespaceProblem();
  if (problem === undefined) return;
  if (process.env.CI === 'true') throw new Error(problem);
  process.stdout.write(`  skipped: ${problem}\n`);
  ctx.skip();
}

export interface NamespacedRun {
  child: ChildProcess;
  /** Resolves when the command exits. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Runs `argv` inside a fresh loopback-only network namespace; the child's PID is the command's own (`exec`). */
export function runInLoopbackNamespace(argv: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): NamespacedRun {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('unshare', ['-n', 'sh', '-c', `ip link set lo up && exec ${quoted}`], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}
