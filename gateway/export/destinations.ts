/**
 * Where approved results go. Both kinds share one contract and differ in how they send, as
 * MONAI Deploy's export services share a base (`ExportServiceBase`).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readDestinationTlsPem, type DestinationConfig, type DicomwebDestinationConfig, type DimseDestinationConfig } from '../../config/index.js';
import { readPart10Meta } from '../dicomweb/part10.js';
import { storeInstances } from '../dimse/index.js';
import { describeRejection, isPermanentRejection } from '../dimse/reject-reasons.js';
import { PermanentJobError } from '../../pipeline/worker/job-worker.js';

/** One outgoing instance: a Part 10 file in Explicit VR Little Endian. */
export interface OutgoingInstance {
  bytes: Uint8Array;
  sopClassUID: string;
  sopInstanceUID: string;
}

export interface Destination {
  readonly name: string;
  /** How the re-identified SEG travels: in the clear or encrypted. Recorded with every export. */
  readonly transport: 'tcp' | 'tls' | 'http' | 'https';
  /** Resolves when the destination confirmed it stored the instance; throws with the reason otherwise. */
  send(instance: OutgoingInstance): Promise<SendReceipt>;
}

/** What a destination said besides "stored": a warning (a PACS that coerced elements of the SEG), PHI-free. */
export interface SendReceipt {
  warning?: string;
}

/** A DIMSE C-STORE SCU to an AE title, host and port; the SEG Storage context is negotiated. */
export class DimseDestination implements Destination {
  readonly transport: 'tcp' | 'tls';

  constructor(
    readonly name: string,
    private readonly config: DimseDestinationConfig,
    private readonly callingAETitle: string,
    private readonly timeoutMs: number,
  ) {
    this.transport = config.tls ? 'tls' : 'tcp';
  }

  async send(instance: OutgoingInstance): Promise<SendReceipt> {
    // C-STORE carries the data set without preamble and file meta: the bytes after the meta group,
    // as they are (no parse and rewrite of a 20 MB SEG).
    const meta = readPart10Meta(instance.bytes);
    if (!meta.ok) throw new Error(`${this.name}: the outgoing instance is not a Part 10 file: ${meta.message}`);
    const outcome = await storeInstances({
      host: this.config.host,
      port: this.config.port,
      callingAETitle: this.config.callingAETitle ?? this.callingAETitle,
      calledAETitle: this.config.aeTitle,
      timeoutMs: this.timeoutMs,
      // Read at each send, as credentials are: a renewed certificate is used without a restart.
      ...(this.config.tls && { tls: await readDestinationTlsPem(this.config.tls, `${this.name}: tls`) }),
      instances: [{ sopClassUID: instance.sopClassUID, sopInstanceUID: instance.sopInstanceUID, transferSyntaxUID: meta.value.transferSyntaxUID, bytes: instance.bytes.subarray(meta.value.datasetOffset) }],
    });
    if (outcome.association !== 'released') {
      const rejected = outcome.rejection && describeRejection(outcome.rejection);
      const message = `${this.name}: association ${outcome.association}${outcome.error ? `: ${outcome.error}` : ''}${rejected ? `: ${rejected}` : ''}`;
      // Sent again, a permanent rejection (an AE title the PACS does not know) is refused again:
      // the job ends at once, for an admin to correct the destination and retry it.
      throw outcome.rejection && isPermanentRejection(outcome.rejection) ? new PermanentJobError(message) : new Error(message);
    }
    const result = outcome.results[0] as { status?: number; errorComment?: string; error?: string } | undefined;
    if (result?.status !== undefined && isStored(result.status)) {
      return result.status === 0 ? {} : { warning: `C-STORE status ${hex4(result.status)}` };
    }
    // The PACS's ErrorComment is not kept: it answers about a re-identified instance and may
    // quote the patient, and this message reaches the log, the job row and the audit trail.
    const comment = result?.errorComment ? ` (its ErrorComment withheld: ${result.errorComment.length} characters)` : '';
    throw new Error(`${this.name}: C-STORE status ${result?.status !== undefined ? hex4(result.status) : 'none'}${comment}${result?.error ? `: ${result.error}` : ''}`);
  }
}

/**
 * A C-STORE status that means stored: Success, or a Warning (PS3.7 Annex C: 0001, Bxxx, 0107 and
 * 0116; PS3.4 B.2.3: B000 coercion of data elements, B007 data set does not match SOP class, B006
 * elements discarded). Every other status is a failure.
 */
function isStored(status: number): boolean {
  return status === 0x0000 || status === 0x0001 || status === 0x0107 || status === 0x0116 || (status & 0xf000) === 0xb000;
}

function hex4(status: number): string {
  return `0x${status.toString(16).padStart(4, '0')}`;
}

/** STOW-RS with fetch and a multipart/related body, with bearer or basic auth read from files. */
export class DicomwebDestination implements Destination {
  readonly transport: 'http' | 'https';

  constructor(
    readonly name: string,
    private readonly config: DicomwebDestinationConfig,
    private readonly timeoutMs: number,
  ) {
    this.transport = new URL(config.url).protocol === 'https:' ? 'https' : 'http';
  }

  async send(instance: OutgoingInstance): Promise<SendReceipt> {
    const boundary = `limen-${randomBytes(12).toString('hex')}`;
    const head = Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(head);
        controller.enqueue(instance.bytes);
        controller.enqueue(tail);
        controller.close();
      },
    });
    const headers: Record<string, string> = {
      'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
      accept: 'application/dicom+json',
      ...(await this.authorization()),
    };
    const url = `${this.config.url.replace(/\/+$/, '')}/studies`;
    // A redirect is not followed: fetch would repeat the request as a GET (with the credentials),
    // and the page it lands on would answer 200 for an instance nobody stored.
    const response = await fetch(url, { method: 'POST', headers, body, duplex: 'half', redirect: 'manual', signal: AbortSignal.timeout(this.timeoutMs) } as RequestInit);
    const text = await response.text();
    if (response.status >= 300 && response.status < 400) {
      throw new Error(`${this.name}: STOW-RS answered ${response.status}, a redirect, which is not followed: set the destination's url to the DICOMweb service itself`);
    }
    // 200 is "all stored", 202 "some failed, or stored with warnings" (PS3.18 10.5.3). Either way,
    // with one instance sent, it was stored only when the Store Instances Response references it
    // and does not list it as failed: a 200 from something that is not a STOW-RS service is not a delivery.
    if (response.status !== 200 && response.status !== 202) {
      throw new Error(`${this.name}: STOW-RS answered ${response.status}${failureReason(text, response.headers.get('content-type'))}`);
    }
    const stored = referencedAsStored(text, instance.sopInstanceUID);
    if (!stored) {
      const failed = failureReason(text, response.headers.get('content-type'));
      throw new Error(`${this.name}: STOW-RS answered ${response.status}${failed || ' with no body'}${failed.includes('FailureReason') ? '' : ', not a Store Instances Response that references the instance'}`);
    }
    return stored.warningReason === undefined ? {} : { warning: `STOW-RS WarningReason ${hex4(stored.warningReason)}` };
  }

  private async authorization(): Promise<Record<string, string>> {
    const auth = this.config.auth;
    if (!auth) return {};
    if ('bearerTokenFile' in auth) return { authorization: `Bearer ${(await readFile(auth.bearerTokenFile, 'utf8')).trim()}` };
    const password = (await readFile(auth.basic.passwordFile, 'utf8')).trim();
    return { authorization: `Basic ${Buffer.from(`${auth.basic.user}:${password}`).toString('base64')}` };
  }
}

type StoreResponseJson = Record<string, { Value?: Array<Record<string, { Value?: unknown[] }>> }>;

/**
 * The instance's item when a Store Instances Response references it in ReferencedSOPSequence and
 * not in FailedSOPSequence, with its WarningReason (0008,1196) if any; undefined otherwise.
 */
function referencedAsStored(body: string, sopInstanceUID: string): { warningReason?: number } | undefined {
  let json: StoreResponseJson;
  try {
    json = JSON.parse(body) as StoreResponseJson;
  } catch {
    return undefined;
  }
  const item = (tag: string) => (json[tag]?.Value ?? []).find((i) => i['00081155']?.Value?.[0] === sopInstanceUID);
  const referenced = item('00081199');
  if (!referenced || item('00081198')) return undefined;
  const warning = Number(referenced['00081196']?.Value?.[0]);
  return Number.isInteger(warning) ? { warningReason: warning } : {};
}

/**
 * The FailureReason (0008,1197) codes of a STOW-RS response body, and nothing else of it: the body
 * answers about a re-identified instance, so its text may quote the patient.
 */
function failureReason(body: string, contentType: string | null): string {
  try {
    const json = JSON.parse(body) as StoreResponseJson;
    const failed = json['00081198']?.Value ?? [];
    const reasons = failed.map((item) => Number(item['00081197']?.Value?.[0])).filter((v) => Number.isInteger(v));
    if (reasons.length) return ` (FailureReason ${reasons.map((r) => `0x${r.toString(16)}`).join(', ')})`;
  } catch {
    // Not DICOM JSON: described below, never quoted.
  }
  const mediaType = contentType?.split(';')[0].trim() ?? '';
  const described = /^[\w.+-]+\/[\w.+-]+$/.test(mediaType) ? `${mediaType} body` : 'body';
  return body ? ` (a ${described} of ${Buffer.byteLength(body)} bytes, withheld)` : '';
}

/** The configured destinations, by name. */
export function createDestinations(destinations: Record<string, DestinationConfig>, callingAETitle: string, timeoutSeconds: number): Map<string, Destination> {
  const out = new Map<string, Destination>();
  for (const [name, d] of Object.entries(destinations)) {
    out.set(name, d.kind === 'dimse' ? new DimseDestination(name, d, callingAETitle, timeoutSeconds * 1000) : new DicomwebDestination(name, d, timeoutSeconds * 1000));
  }
  return out;
}
