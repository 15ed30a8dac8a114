/**
 * C-STORE SCU for export: sends data sets exactly as given, in the transfer syntax they are
 * encoded in, over one association.
 *
 * dcmjs-dimse's `Client` would serialize each data set through dcmjs (dropping private
 * tags, rewriting values) and, when the peer accepts another transfer syntax than the data
 * set's, transcode it. Two things prevent that here:
 * - each data set is an `OutgoingDataSet` whose serialization is its own bytes;
 * - each (SOP Class, transfer syntax) pair is proposed in a presentation context of its
 *   own, and an instance whose exact pair was not accepted is not handed to the library's
 *   transcoder.
 * One conversion is Limen's own: an Explicit VR Little Endian data set whose SOP Class the peer
 * accepted only in Implicit VR Little Endian (which every DICOM implementation supports, PS3.5
 * §10.1) is re-encoded in it (implicit-vr.ts: headers change, values do not). Anything else
 * without an accepted context is not sent (reported as `no-presentation-context`, with why).
 */
import { isIP, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { Client, CStoreRequest, Dataset, PresentationContext, silenceDimseLog, type Association, type CStoreResponse } from './dcmjs-dimse.js';
import { DimseError, aeTitleIssue, type DimseIssue } from './errors.js';
import { toImplicitVRLittleEndian } from './implicit-vr.js';
import { PresentationContextResult } from './negotiation.js';
import { TLS_PROFILE } from '../tls/index.js';
import { TransferSyntax, sopClassLabel, transferSyntaxLabel } from './uids.js';

/** One instance to send. */
export interface OutgoingInstance {
  sopClassUID: string;
  sopInstanceUID: string;
  /** The transfer syntax `bytes` are encoded in; sent as is. */
  transferSyntaxUID: string;
  /** The data set, without preamble or file meta. */
  bytes: Uint8Array;
}

export interface StoreInstancesRequest {
  host: string;
  port: number;
  callingAETitle: string;
  calledAETitle: string;
  instances: readonly OutgoingInstance[];
  /** Connection, association and per-PDU timeout; default 60 s. */
  timeoutMs?: number;
  /** DICOM over TLS (TLS 1.2 or later); the peer's certificate is always verified. */
  tls?: StoreScuTls;
}

/** PEM text or bytes. */
export interface StoreScuTls {
  /** CAs the peer's certificate must chain to; absent, Node's bundled roots. */
  ca?: string | Buffer;
  /** Limen's own certificate and key, for a peer that asks for one. */
  certificate?: string | Buffer;
  privateKey?: string | Buffer;
}

/** What happened to one instance. */
export type InstanceResult =
  | { sopInstanceUID: string; sent: true; status: number; errorComment?: string }
  | {
      sopInstanceUID: string;
      sent: false;
      /**
       * `no-presentation-context`: no presentation context for its SOP Class was accepted in its
       * own transfer syntax, nor in Implicit VR Little Endian for an Explicit VR Little Endian
       * data set (which is converted).
       */
      reason: 'no-presentation-context' | 'association-not-established' | 'association-ended';
      /** Why it was not sent, in words (no values of the data set). */
      error: string;
    };

export interface StoreInstancesOutcome {
  association: 'released' | 'rejected' | 'failed';
  /** A-ASSOCIATE-RJ fields when rejected. */
  rejection?: { result: number; source: number; reason: number };
  /** Network or protocol error, when the association failed. */
  error?: string;
  /** In the order of the request's instances. */
  results: InstanceResult[];
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** PS3.8: presentation context IDs are odd numbers from 1 to 255. */
const MAX_PRESENTATION_CONTEXTS = 128;

/** A data set whose serialization is the bytes it was given. */
class OutgoingDataSet extends Dataset {
  constructor(
    private readonly raw: Buffer,
    transferSyntaxUID: string,
    sopClassUID: string,
    sopInstanceUID: string,
  ) {
    // CStoreRequest reads the two UIDs for its command set; nothing else is parsed.
    super({ SOPClassUID: sopClassUID, SOPInstanceUID: sopInstanceUID }, transferSyntaxUID);
  }

  override getDenaturalizedDataset(): Buffer {
    return this.raw;
  }
}

/**
 * Sends every instance over one association and resolves with a result per instance. Never
 * rejects for network or peer failures (they are in the outcome); throws `invalid-options`
 * for a request that cannot be sent at all.
 */
export function storeInstances(request: StoreInstancesRequest): Promise<StoreInstancesOutcome> {
  validate(request);
  silenceDimseLog();
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = new Client();
  const results: Array<InstanceResult | undefined> = request.instances.map(() => undefined);
  const requests = request.instances.map((instance, index) => {
    const bytes = Buffer.from(instance.bytes.buffer, instance.bytes.byteOffset, instance.bytes.byteLength);
    const storeRequest = new CStoreRequest(new OutgoingDataSet(bytes, instance.transferSyntaxUID, instance.sopClassUID, instance.sopInstanceUID));
    storeRequest.on('response', (response: CStoreResponse) => {
      const errorComment = response.getErrorComment();
      results[index] = {
        sopInstanceUID: instance.sopInstanceUID,
        sent: true,
        status: response.getStatus(),
        ...(errorComment ? { errorComment: String(errorComment) } : {}),
      };
    });
    client.addRequest(storeRequest);
    return storeRequest;
  });
  // dcmjs-dimse proposes each SOP Class with implicit and explicit VR little endian in one
  // context, and a compressed syntax in a context of its own. An uncompressed data set also
  // gets a context with its syntax alone, which a peer that takes it accepts: that data set then
  // travels as it is. A peer that accepts Implicit VR Little Endian only still finds it in the
  // shared context, and an Explicit VR data set is re-encoded for it (`prepare`).
  for (const [sopClassUID, transferSyntaxUID] of uncompressedPairs(request.instances)) {
    client.addAdditionalPresentationContext(new PresentationContext(0, sopClassUID, transferSyntaxUID), true);
  }

  return new Promise((resolve) => {
    let released = false;
    let rejection: StoreInstancesOutcome['rejection'];
    let error: string | undefined;
    let established = false;

    client.on('associationAccepted', (accepted: Association) => {
      established = true;
      client.clearRequests();
      requests.forEach((storeRequest, index) => {
        const instance = request.instances[index];
        const refusal = prepare(accepted, instance, storeRequest);
        if (refusal === undefined) client.addRequest(storeRequest);
        else results[index] = { sopInstanceUID: instance.sopInstanceUID, sent: false, reason: 'no-presentation-context', error: refusal };
      });
    });
    client.on('associationReleased', () => {
      released = true;
    });
    client.on('associationRejected', (fields: { result: number; source: number; reason: number }) => {
      rejection = { result: fields.result, source: fields.source, reason: fields.reason };
    });
    client.on('networkError', (err: unknown) => {
      error ??= withoutLogPrefix(err instanceof Error ? err.message : String(err));
    });
    client.on('closed', () => {
      const reason = established ? 'association-ended' : 'association-not-established';
      const outcome: StoreInstancesOutcome = {
        association: rejection ? 'rejected' : released && error === undefined ? 'released' : 'failed',
        results: results.map((r, i) => r ?? { sopInstanceUID: request.instances[i].sopInstanceUID, sent: false, reason, error: NOT_SENT[reason] }),
      };
      if (rejection) outcome.rejection = rejection;
      else if (outcome.association === 'failed') outcome.error = error ?? 'connection closed before the association was released';
      resolve(outcome);
    });

    const tls = request.tls;
    client.send(request.host, request.port, request.callingAETitle, request.calledAETitle, {
      connectTimeout: timeoutMs,
      associationTimeout: timeoutMs,
      pduTimeout: timeoutMs,
      // dcmjs-dimse passes on the versions and suites of Limen's profile, not its other options.
      ...(tls && { securityOptions: { ca: tls.ca, cert: tls.certificate, key: tls.privateKey, rejectUnauthorized: true, minVersion: TLS_PROFILE.minVersion, ciphers: TLS_PROFILE.ciphers } }),
    });
    // The library creates the socket inside send(); Nagle would add ~40 ms per C-STORE on loopback.
    const socket = (client as unknown as { network?: { socket?: Socket } }).network?.socket;
    socket?.setNoDelay(true);
    // Nor does it pass tls.connect a server name, so the ClientHello would carry no SNI, and a TLS
    // front end that serves several names could not tell which one is asked for. The handshake
    // starts once TCP connects, so it is not too late (tls.connect itself sets it at this point).
    // An address is never sent as a name (RFC 6066 §3). (`setServername` is what tls.connect
    // calls; Node's typings leave it out. A test pins that the name arrives.)
    if (tls && socket instanceof TLSSocket && !isIP(request.host)) (socket as TLSSocket & { setServername(name: string): void }).setServername(request.host);
  });
}

/**
 * dcmjs-dimse words its network errors for its own log, after the called AE title it has not yet
 * set when the connection fails (` -> Connection error: connect ECONNREFUSED …`). The caller
 * names the destination itself.
 */
function withoutLogPrefix(message: string): string {
  return message.replace(/(^|: )[^:]*? -> /, '$1');
}

function uncompressedPairs(instances: readonly OutgoingInstance[]): Array<[string, string]> {
  const pairs = new Map<string, [string, string]>();
  for (const i of instances) {
    if (i.transferSyntaxUID === TransferSyntax.ImplicitVRLittleEndian || i.transferSyntaxUID === TransferSyntax.ExplicitVRLittleEndian) {
      pairs.set(`${i.sopClassUID}|${i.transferSyntaxUID}`, [i.sopClassUID, i.transferSyntaxUID]);
    }
  }
  return [...pairs.values()];
}

const NOT_SENT = {
  'association-not-established': 'not sent: the association was not established',
  'association-ended': 'not sent, or not answered: the association ended before its C-STORE response',
} as const;

/**
 * Readies a request for the accepted association: unchanged when its SOP Class was accepted in
 * the data set's own transfer syntax; re-encoded when the data set is Explicit VR Little Endian
 * and the SOP Class was accepted in Implicit VR Little Endian only. Otherwise says why it cannot
 * be sent.
 */
function prepare(association: Association, instance: OutgoingInstance, storeRequest: CStoreRequest): string | undefined {
  const { sopClassUID, transferSyntaxUID } = instance;
  if (hasExactContext(association, sopClassUID, transferSyntaxUID)) return undefined;
  const accepted = acceptedTransferSyntaxes(association, sopClassUID);
  const noContext = `no presentation context accepted for ${sopClassLabel(sopClassUID)} in a transfer syntax Limen can send`;
  const peer = accepted.length === 0 ? 'the peer accepted none of the presentation contexts proposed for it' : `the peer accepted it only in ${accepted.map(transferSyntaxLabel).join(', ')}`;
  if (transferSyntaxUID === TransferSyntax.ExplicitVRLittleEndian && accepted.includes(TransferSyntax.ImplicitVRLittleEndian)) {
    let implicit: Uint8Array;
    try {
      implicit = toImplicitVRLittleEndian(instance.bytes, transferSyntaxUID);
    } catch (err) {
      return `${noContext}: ${peer}, and the Explicit VR Little Endian data set cannot be converted to it: ${(err as Error).message}`;
    }
    const bytes = Buffer.from(implicit.buffer, implicit.byteOffset, implicit.byteLength);
    // The command set is unchanged (same SOP Class and Instance); the library now finds the
    // Implicit VR context as the exact one and sends these bytes as they are.
    storeRequest.setDataset(new OutgoingDataSet(bytes, TransferSyntax.ImplicitVRLittleEndian, sopClassUID, instance.sopInstanceUID));
    return undefined;
  }
  return `${noContext}: the data set is in ${transferSyntaxLabel(transferSyntaxUID)}, ${peer}`;
}

function acceptedTransferSyntaxes(association: Association, sopClassUID: string): string[] {
  const accepted = new Set<string>();
  for (const { context } of association.getPresentationContexts()) {
    const ts = context.getAcceptedTransferSyntaxUid();
    if (context.getAbstractSyntaxUid() === sopClassUID && context.getResult() === PresentationContextResult.Acceptance && ts) accepted.add(ts);
  }
  return [...accepted];
}

function hasExactContext(association: Association, sopClassUID: string, transferSyntaxUID: string): boolean {
  return association
    .getPresentationContexts()
    .some(
      ({ context }) =>
        context.getAbstractSyntaxUid() === sopClassUID &&
        context.getResult() === PresentationContextResult.Acceptance &&
        context.getAcceptedTransferSyntaxUid() === transferSyntaxUID,
    );
}

function validate(request: StoreInstancesRequest): void {
  const issues: DimseIssue[] = [];
  for (const [path, value] of [
    ['callingAETitle', request.callingAETitle],
    ['calledAETitle', request.calledAETitle],
  ] as const) {
    const issue = aeTitleIssue(path, value);
    if (issue) issues.push(issue);
  }
  if (!Number.isInteger(request.port) || request.port < 1 || request.port > 65535) issues.push({ path: 'port', message: 'must be an integer from 1 to 65535' });
  if (request.tls && (request.tls.certificate === undefined) !== (request.tls.privateKey === undefined)) {
    issues.push({ path: 'tls', message: 'a certificate needs its private key, and a key its certificate' });
  }
  if (request.instances.length === 0) issues.push({ path: 'instances', message: 'must not be empty' });
  request.instances.forEach((instance, i) => {
    for (const key of ['sopClassUID', 'sopInstanceUID', 'transferSyntaxUID'] as const) {
      if (!/^[0-9]+(\.[0-9]+)*$/.test(instance[key]) || instance[key].length > 64) issues.push({ path: `instances.${i}.${key}`, message: 'must be a UID' });
    }
    if (instance.bytes.byteLength % 2 !== 0) issues.push({ path: `instances.${i}.bytes`, message: 'a data set has an even length' });
  });
  const sopClasses = new Set(request.instances.map((i) => i.sopClassUID));
  const pairs = new Set(request.instances.map((i) => `${i.sopClassUID}|${i.transferSyntaxUID}`));
  if (sopClasses.size + pairs.size > MAX_PRESENTATION_CONTEXTS) {
    issues.push({ path: 'instances', message: `needs more than ${MAX_PRESENTATION_CONTEXTS} presentation contexts; split the export` });
  }
  if (issues.length > 0) throw new DimseError('invalid-options', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
}
