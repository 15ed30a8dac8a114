/**
 * Shared by the DIMSE tests: an InstanceIngest that records what it was given, an SCP started
 * with it, DCMTK tools run asynchronously (the SCP under test runs in this process), and a
 * Part-10 reader independent of the code under test.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { DimseScpService, StorageSopClass, type DimseScpEvent } from '../../../gateway/dimse/index.js';
import type { ReceiveMemory } from '../../../gateway/ingest/index.js';
import type { IngestFailureCode, IngestInstance, IngestOutcome, InstanceIngest } from '../../../gateway/ingest/types.js';
import { createLogger } from '../../../gateway/log/index.js';
import type { MetricsRegistry } from '../../../gateway/metrics/index.js';

/** A received instance, as the ingest saw it. */
export interface Received {
  bytes: Buffer;
  transferSyntaxUID?: string;
  announcedSOPClassUID?: string;
  announcedSOPInstanceUID?: string;
  route: string;
  callingAETitle?: string;
  remoteAddress?: string;
}

/** Records every instance; fails those whose announced SOP Instance UID is listed. */
export class RecordingIngest implements InstanceIngest {
  readonly received: Received[] = [];
  readonly failWith = new Map<string, { code: IngestFailureCode; reason: string } | 'throw'>();
  /** Delay before answering, to hold C-STOREs in flight. */
  delayMs = 0;

  async ingest(instance: IngestInstance): Promise<IngestOutcome> {
    this.received.push({
      bytes: Buffer.from(instance.bytes),
      transferSyntaxUID: instance.transferSyntaxUID,
      announcedSOPClassUID: instance.announcedSOPClassUID,
      announcedSOPInstanceUID: instance.announcedSOPInstanceUID,
      route: instance.route,
      callingAETitle: instance.source.callingAETitle,
      remoteAddress: instance.source.remoteAddress,
    });
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const failure = this.failWith.get(instance.announcedSOPInstanceUID ?? '');
    if (failure === 'throw') throw new Error('simulated ingest crash');
    if (failure) return { ok: false, ...failure };
    return {
      ok: true,
      sopClassUID: instance.announcedSOPClassUID ?? '',
      sopInstanceUID: `2.25.${this.received.length}`,
      studyInstanceUID: '2.25.1',
      duplicate: false,
    };
  }
}

/** Starts an SCP on an ephemeral loopback port with a recording ingest and event log. */
export async function startScp(overrides: Partial<ConstructorParameters<typeof DimseScpService>[0]> = {}, shared: { memory?: ReceiveMemory; metrics?: MetricsRegistry } = {}) {
  const ingest = new RecordingIngest();
  const events: DimseScpEvent[] = [];
  const lines: string[] = [];
  const scp = new DimseScpService(
    { host: '127.0.0.1', port: 0, aeTitle: 'LIMEN', acceptedSopClasses: [StorageSopClass.CTImage, StorageSopClass.EnhancedCTImage], ...overrides },
    {
      ingest,
      ...shared,
      associate: ({ callingAETitle }) => {
        if (callingAETitle === 'MODALITY') return { accept: true, route: 'ct-route' };
        if (callingAETitle === 'FARAWAY') return { accept: false, reason: 'address-not-allowed' };
        return { accept: false, reason: 'calling-ae-not-recognized' };
      },
      logger: createLogger({ write: (line) => lines.push(line) }),
      onEvent: (e) => events.push(e),
    },
  );
  await scp.start();
  const port = scp.address!.port;
  return { scp, ingest, events, logs: () => lines, port: String(port), portNumber: port };
}

export interface ToolResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together (DCMTK logs to either depending on level). */
  output: string;
}

/** Runs a DCMTK tool without blocking the event loop, with TCP_NODELAY=1. */
export function runTool(cmd: string, args: string[], timeoutMs = 30_000): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, TCP_NODELAY: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, output: stdout + stderr });
    });
  });
}

/** A Part-10 file split into its file meta facts and the data set bytes after the meta. */
export interface Part10 {
  transferSyntaxUID: string;
  sopClassUID: string;
  sopInstanceUID: string;
  dataSet: Buffer;
}

/** Reads a Part-10 file: preamble, DICM, then group 0002 in explicit VR little endian. */
export function readPart10(path: string): Part10 {
  const file = readFileSync(path);
  if (file.toString('latin1', 128, 132) !== 'DICM') throw new Error(`${path}: no DICM prefix`);
  let offset = 132;
  const meta = new Map<string, string>();
  while (offset + 8 <= file.length && file.readUInt16LE(offset) === 0x0002) {
    const element = file.readUInt16LE(offset + 2);
    const vr = file.toString('latin1', offset + 4, offset + 6);
    let length: number;
    let valueOffset: number;
    if (['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr)) {
      length = file.readUInt32LE(offset + 8);
      valueOffset = offset + 12;
    } else {
      length = file.readUInt16LE(offset + 6);
      valueOffset = offset + 8;
    }
    const value = file.toString('latin1', valueOffset, valueOffset + length).replace(/[\0 ]+$/, '');
    meta.set(element.toString(16).padStart(4, '0'), value);
    offset = valueOffset + length;
  }
  return {
    transferSyntaxUID: meta.get('0010') ?? '',
    sopClassUID: meta.get('0002') ?? '',
    sopInstanceUID: meta.get('0003') ?? '',
    dataSet: file.subarray(offset),
  };
}
