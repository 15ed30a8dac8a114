/**
 * Measuring helpers shared by benchmarks: timing a command with its peak resident set, the peak
 * of a long-running process over an interval, medians, and what machine the figures come from.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';

/** GNU time (Debian package `time`): the child's peak RSS from getrusage (ru_maxrss, KiB). */
export const GNU_TIME = '/usr/bin/time';

export interface Timed {
  seconds: number;
  /** User plus system CPU time of the command and its children: less sensitive than wall time to other load. */
  cpuSeconds: number;
  /** The command's peak resident set (ru_maxrss of the process and its waited-for children), KiB. */
  peakRssKiB: number;
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command under GNU time and measures its wall time from spawn to exit. The rusage report
 * goes to a file so the command's own stderr stays separate.
 */
export function timed(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; scratch: string; cwd?: string }): Promise<Timed> {
  const report = join(opts.scratch, `.rusage-${process.pid}`);
  rmSync(report, { force: true });
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(GNU_TIME, ['-f', '%M %U %S', '-o', report, cmd, ...args], {
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      const text = existsSync(report) ? readFileSync(report, 'utf8') : '';
      rmSync(report, { force: true });
      // GNU time writes "Command exited with non-zero status N" before the figures when the command fails.
      const [peak, user, sys] = (text.trim().split('\n').pop() ?? '').split(' ').map(Number);
      resolve({
        seconds,
        cpuSeconds: user + sys,
        peakRssKiB: Number.isFinite(peak) ? peak : NaN,
        status: code ?? 1,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      });
    });
  });
}

/**
 * Resets a running process's peak RSS (writing 5 to /proc/<pid>/clear_refs, Linux ≥ 4.0), so that
 * VmHWM read afterwards is the peak over the interval that follows, not over its whole life.
 */
export function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** VmHWM of a running process, KiB. */
export function peakRssOf(pid: number): number {
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** CPU time (user + system, all threads) a running process has used so far, in seconds. */
export function cpuSecondsOf(pid: number): number {
  // /proc/<pid>/stat: the command name may hold spaces, so count fields after its closing parenthesis.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** Flushes dirty pages so one command's writes are not paid for by the next one timed. */
export function flushDisks(): void {
  spawnSync('sync');
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length & 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export interface Machine {
  nproc: number;
  /** 1, 5 and 15 minute load averages when the figures were taken: other work on the machine shows here. */
  loadAverage: number[];
  cpuModel: string;
  memGiB: number;
  kernel: string;
  node: string;
}

/** The machine the figures come from. */
export function machine(): Machine {
  const model = /^model name\s*:\s*(.+)$/m.exec(existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '');
  const nproc = Number(spawnSync('nproc').stdout?.toString().trim()) || cpus().length;
  return {
    nproc,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    cpuModel: model ? model[1].trim() : (cpus()[0]?.model ?? 'unknown'),
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
  };
}

/** The first line a tool prints for its version, or undefined when it is not installed. */
export function versionOf(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return undefined;
  return `${r.stdout}${r.stderr}`.split('\n').find((l) => l.trim())?.trim();
}
