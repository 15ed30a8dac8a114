/** Running DCMTK command-line tools as peers: Nagle off, output kept, the exit status returned. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** DCMTK reads TCP_NODELAY from its environment; without it loopback stalls ~40 ms per C-STORE. */
export const DCMTK_ENV: NodeJS.ProcessEnv = { ...process.env, TCP_NODELAY: '1' };

export interface ToolResult {
  code: number;
  /** stdout and stderr together (DCMTK logs to both). */
  out: string;
}

/** Runs a DCMTK tool to the end; never throws for a non-zero exit. */
export async function dcmtk(cmd: string, args: string[]): Promise<ToolResult> {
  try {
    const r = await run(cmd, args, { env: DCMTK_ENV, maxBuffer: 64 << 20 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, out: (err.stdout ?? '') + (err.stderr ?? '') };
  }
}

/** Sends every file under `dir` to a local SCP with storescu; throws with storescu's output when it fails. */
export async function storeDirectory(port: number, dir: string, calledAE = 'LIMEN'): Promise<void> {
  const r = await dcmtk('storescu', ['-aec', calledAE, '+sd', '127.0.0.1', String(port), dir]);
  if (r.code !== 0) throw new Error(`storescu exited with ${r.code}:\n${r.out}`);
}

/** A DCMTK tool running in the background, its output growing as it goes. */
export interface RunningTool {
  child: ChildProcess;
  /** Everything printed so far (stdout and stderr interleaved as received). */
  output(): string;
  /** Resolves with the result when the tool exits. */
  done: Promise<ToolResult>;
}

export function spawnDcmtk(cmd: string, args: string[]): RunningTool {
  const child = spawn(cmd, args, { env: DCMTK_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
  const done = new Promise<ToolResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), out }));
    child.on('error', (err) => resolve({ code: 127, out: out + String(err) }));
  });
  return { child, output: () => out, done };
}

/**
 * The files storescu (`-v` or `-d`) saw acknowledged with status Success, in order: each
 * "Received Store Response (Success)" belongs to the last "Sending file:" before it.
 */
export function storescuSuccesses(output: string): string[] {
  const acked: string[] = [];
  let current: string | undefined;
  for (const line of output.split('\n')) {
    const sending = /Sending file: (.+?)\s*$/.exec(line);
    if (sending) {
      current = sending[1];
      continue;
    }
    if (/Received Store Response \(Success\)/.test(line) && current !== undefined) {
      acked.push(current);
      current = undefined;
    }
  }
  return acked;
}
