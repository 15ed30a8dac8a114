/**
 * Orthanc 1.10 and storescp bind every interface, so benchmarks that run them beside Limen run
 * inside a network namespace that has nothing but loopback. Started outside one (as root), a benchmark re-runs
 * itself there: `unshare -n sh -c 'ip link set lo up && exec node --import tsx <script> …'`.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** True when the only network interface is loopback (inside `unshare -n`). */
export function loopbackOnly(): boolean {
  return Object.keys(networkInterfaces()).every((name) => name === 'lo');
}

/** Why the namespace cannot be made here, or undefined when it can. */
export function namespaceProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (unshare -n)';
  if (!existsSync('/usr/bin/unshare')) return 'no /usr/bin/unshare';
  return undefined;
}

/**
 * Runs `script` with `argv` inside a fresh loopback-only namespace and resolves with its exit code.
 * unshare and sh exec into the driver, so the child's PID is the driver's: signals are passed on
 * for it to stop what it started.
 */
export function rerunInLoopbackNamespace(script: string, argv: string[], peers = 'Orthanc'): Promise<number> {
  process.stdout.write(`re-running inside a loopback-only network namespace (unshare -n), for ${peers}\n`);
  const child = spawn('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, '--import', 'tsx', script, ...argv], {
    stdio: 'inherit',
    cwd: ROOT,
    env: { ...process.env, TCP_NODELAY: '1' },
  });
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? 1);
    }),
  );
}
