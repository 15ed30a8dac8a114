/**
 * Real peers that interop suites need (Debian packages). A suite whose peer is missing is
 * skipped with one line naming the package; under CI=true a missing peer fails the suite,
 * because CI installs every peer (.ci/run) and a skip there would hide a broken install.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian package → an executable (or file) it provides. */
export const PEERS = {
  dcmtk: '/usr/bin/storescu',
  dicom3tools: '/usr/bin/dciodvfy',
  'python3-pydicom': '/usr/lib/python3/dist-packages/pydicom/__init__.py',
  orthanc: '/usr/sbin/Orthanc',
  'orthanc-dicomweb': '/usr/share/orthanc/plugins/libOrthancDicomWeb.so',
  chromium: '/usr/bin/chromium',
  'python3-vtk9': '/usr/lib/python3/dist-packages/vtkmodules/__init__.py',
  'libgdcm-tools': '/usr/bin/gdcmconv',
  openssl: '/usr/bin/openssl',
  jing: '/usr/bin/jing',
} as const;

export type PeerName = keyof typeof PEERS;

const announced = new Set<string>();

/** True when every named peer is installed. */
export function havePeers(...names: PeerName[]): boolean {
  return names.every((n) => existsSync(PEERS[n]));
}

/**
 * Call from a suite's `before` hook: skips the suite (or fails it under CI) when a peer is
 * missing.
 */
export function requirePeers(ctx: Mocha.Context, ...names: PeerName[]): void {
  const missing = names.filter((n) => !existsSync(PEERS[n]));
  if (missing.length === 0) return;
  const line = `missing Debian package(s): ${missing.join(', ')} (apt-get install ${missing.join(' ')})`;
  if (process.env.CI === 'true') throw new Error(line);
  if (!announced.has(line)) {
    announced.add(line);
    process.stdout.write(`  skipped: ${line}\n`);
  }
  ctx.skip();
}

/** Runs a peer's command and returns stdout, stderr and the exit status without throwing. */
export function runPeer(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: Buffer } = {}): { status: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(cmd, args, { env: { ...process.env, ...opts.env }, input: opts.input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 << 20 }).toString();
    return { status: 0, stdout, stderr: '' };
  } catch (e) {
    const err = e as { status?: number; stdout?: Buffer; stderr?: Buffer };
    return { status: err.status ?? 1, stdout: err.stdout?.toString() ?? '', stderr: err.stderr?.toString() ?? '' };
  }
}
