/**
 * A hand-written DICOM upper-layer peer for the tests DCMTK cannot play: malformed,
 * oversized or truncated PDUs, and protocol violations. Written from PS3.8 §9.3 and
 * PS3.7 §E, independent of the code under test.
 */
import { connect, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';

export interface RawContext {
  id: number;
  abstractSyntax: string;
  transferSyntaxes: string[];
  /** Abstract Syntax sub-items in place of `abstractSyntax`'s one: none, or several (both malformed). */
  abstractSyntaxes?: string[];
}

function uidBytes(uid: string): Buffer {
  return Buffer.from(uid, 'latin1');
}

function item(type: number, value: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header[0] = type;
  header.writeUInt16BE(value.length, 2);
  return Buffer.concat([header, value]);
}

function pdu(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(6);
  header[0] = type;
  header.writeUInt32BE(body.length, 2);
  return Buffer.concat([header, body]);
}

function aeTitle(title: string): Buffer {
  return Buffer.from(title.padEnd(16, ' '), 'latin1');
}

export interface AssociateRqOptions {
  protocolVersion?: number;
  applicationContext?: string;
  /** The User Information item's sub-items in place of Maximum Length and Implementation Class UID; null: no User Information item. */
  userInformation?: Buffer[] | null;
  /** Sub-items appended after Maximum Length and Implementation Class UID (role selections...). */
  extraUserItems?: Buffer[];
}

/** A User Information sub-item (PS3.7 Annex D.3.3). */
export function userItem(type: number, value: Buffer): Buffer {
  return item(type, value);
}

/** An SCP/SCU Role Selection sub-item of an A-ASSOCIATE-RQ (PS3.7 Table D.3-9). */
export function roleSelection(sopClassUID: string, scu: 0 | 1, scp: 0 | 1): Buffer {
  const uid = uidBytes(sopClassUID);
  const uidLength = Buffer.alloc(2);
  uidLength.writeUInt16BE(uid.length, 0);
  return item(0x54, Buffer.concat([uidLength, uid, Buffer.from([scu, scp])]));
}

/** The Maximum Length sub-item (PS3.8 Annex D.1). */
export function maximumLength(maxPdu: number): Buffer {
  const max = Buffer.alloc(4);
  max.writeUInt32BE(maxPdu, 0);
  return item(0x51, max);
}

/** An A-ASSOCIATE-RQ PDU (PS3.8 Table 9-11). */
export function associateRq(called: string, calling: string, contexts: RawContext[], maxPdu = 16384, header: AssociateRqOptions = {}): Buffer {
  const fixed = Buffer.alloc(4);
  fixed.writeUInt16BE(header.protocolVersion ?? 1, 0);
  const parts = [fixed, aeTitle(called), aeTitle(calling), Buffer.alloc(32), item(0x10, uidBytes(header.applicationContext ?? '1.2.840.10008.3.1.1.1'))];
  for (const c of contexts) {
    const head = Buffer.from([c.id, 0, 0, 0]);
    const abstract = (c.abstractSyntaxes ?? [c.abstractSyntax]).map((a) => item(0x30, uidBytes(a)));
    parts.push(item(0x20, Buffer.concat([head, ...abstract, ...c.transferSyntaxes.map((t) => item(0x40, uidBytes(t)))])));
  }
  const userItems = header.userInformation === undefined ? [maximumLength(maxPdu), item(0x52, uidBytes('1.2.3.4'))] : header.userInformation;
  if (userItems !== null) parts.push(item(0x50, Buffer.concat([...userItems, ...(header.extraUserItems ?? [])])));
  return pdu(0x01, Buffer.concat(parts));
}

/** A P-DATA-TF PDU with one PDV. */
export function pData(contextId: number, value: Buffer, command: boolean, last = true): Buffer {
  const pdv = Buffer.alloc(6);
  pdv.writeUInt32BE(value.length + 2, 0);
  pdv[4] = contextId;
  pdv[5] = (command ? 1 : 0) | (last ? 2 : 0);
  return pdu(0x04, Buffer.concat([pdv, value]));
}

/** A command set in implicit VR little endian, group length first (PS3.7 §6.3.1). */
export function commandSet(elements: Array<[number, 'UI' | 'US' | 'UL', string | number]>): Buffer {
  const encoded = elements.map(([element, vr, value]) => {
    let bytes: Buffer;
    if (vr === 'UI') {
      bytes = Buffer.from(String(value), 'latin1');
      if (bytes.length % 2) bytes = Buffer.concat([bytes, Buffer.from([0])]);
    } else if (vr === 'US') {
      bytes = Buffer.alloc(2);
      bytes.writeUInt16LE(Number(value), 0);
    } else {
      bytes = Buffer.alloc(4);
      bytes.writeUInt32LE(Number(value), 0);
    }
    const head = Buffer.alloc(8);
    head.writeUInt16LE(0, 0);
    head.writeUInt16LE(element, 2);
    head.writeUInt32LE(bytes.length, 4);
    return Buffer.concat([head, bytes]);
  });
  const body = Buffer.concat(encoded);
  const groupLength = Buffer.alloc(12);
  groupLength.writeUInt16LE(0, 0);
  groupLength.writeUInt16LE(0, 2);
  groupLength.writeUInt32LE(4, 4);
  groupLength.writeUInt32LE(body.length, 8);
  return Buffer.concat([groupLength, body]);
}

/** A C-ECHO-RQ command set (Verification SOP Class, no data set). */
export function cEchoRq(messageId: number): Buffer {
  return commandSet([
    [0x0002, 'UI', VERIFICATION_SOP_CLASS],
    [0x0100, 'US', 0x0030],
    [0x0110, 'US', messageId],
    [0x0800, 'US', 0x0101],
  ]);
}

/**
 * A peer associated with CT Image Storage on context 1 (Explicit VR LE) and Verification on
 * context 3 (Implicit VR LE), the A-ASSOCIATE-AC read.
 */
export async function associatedForStoreAndEcho(port: number): Promise<RawPeer> {
  const peer = await RawPeer.open(port);
  peer.send(
    associateRq('LIMEN', 'MODALITY', [
      { id: 1, abstractSyntax: CT_IMAGE_STORAGE, transferSyntaxes: [EXPLICIT_VR_LE] },
      { id: 3, abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LE] },
    ]),
  );
  const ac = await peer.next();
  if (ac?.type !== 0x02) throw new Error(`the association was not accepted (PDU type ${ac?.type})`);
  return peer;
}

/** A data set of one element, (0008,0016) "1": enough for a C-STORE the ingest is told to take. */
export const TINY_DATA_SET = Buffer.from([0x08, 0, 0x16, 0, 0x55, 0x49, 2, 0, 0x31, 0]);

const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1';
const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
const IMPLICIT_VR_LE = '1.2.840.10008.1.2';

/** A C-STORE-RQ command set announcing a data set. */
export function cStoreRq(messageId: number, sopClassUID: string, sopInstanceUID: string): Buffer {
  return commandSet([
    [0x0002, 'UI', sopClassUID],
    [0x0100, 'US', 0x0001],
    [0x0110, 'US', messageId],
    [0x0700, 'US', 0],
    [0x0800, 'US', 0x0000],
    [0x1000, 'UI', sopInstanceUID],
  ]);
}

/** Reads one element of an implicit VR little endian command set. */
export function commandElement(command: Buffer, element: number): Buffer | undefined {
  let offset = 0;
  while (offset + 8 <= command.length) {
    const el = command.readUInt16LE(offset + 2);
    const length = command.readUInt32LE(offset + 4);
    if (el === element) return command.subarray(offset + 8, offset + 8 + length);
    offset += 8 + length;
  }
  return undefined;
}

/** The next `count` P-DATA-TF answers of `peer`, each as its [Message ID Being Responded To, Status]. */
export async function nextAnswers(peer: RawPeer, count: number): Promise<Array<[number | undefined, number | undefined]>> {
  const answered: Array<[number | undefined, number | undefined]> = [];
  for (let i = 0; i < count; i++) {
    const rsp = await peer.next();
    if (rsp?.type !== 0x04) throw new Error(`answer ${i + 1} of ${count}: PDU type ${rsp?.type}, not a P-DATA-TF`);
    const command = rsp.body.subarray(6);
    answered.push([commandElement(command, 0x0120)?.readUInt16LE(0), commandElement(command, 0x0900)?.readUInt16LE(0)]);
  }
  return answered;
}

export interface ReceivedPdu {
  type: number;
  body: Buffer;
}

/** A raw connection that collects the PDUs the server sends, and every byte of them. */
export class RawPeer {
  readonly socket: Socket;
  private buffer = Buffer.alloc(0);
  private readonly pdus: ReceivedPdu[] = [];
  private readonly chunks: Buffer[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  readonly closedPromise: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 6) {
        const length = this.buffer.readUInt32BE(2);
        if (this.buffer.length < 6 + length) break;
        this.pdus.push({ type: this.buffer[0], body: this.buffer.subarray(6, 6 + length) });
        this.buffer = this.buffer.subarray(6 + length);
      }
      this.wake();
    });
    socket.on('error', () => {});
    this.closedPromise = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      }),
    );
  }

  static open(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(new RawPeer(socket)));
      socket.once('error', reject);
    });
  }

  /** Over TLS; the server's certificate is not checked unless `options` ask for it. */
  static openTls(port: number, options: ConnectionOptions = {}): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connectTls({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => resolve(new RawPeer(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends, unless the connection is already closed (a peer that broke it goes on writing). */
  send(bytes: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  /** Every byte the server sent so far, whole PDUs or not. */
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Resolves once anything has been received, on close, or after `ms`. */
  async waitData(ms: number): Promise<void> {
    if (this.closed || this.chunks.length > 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** True when the server closed the connection within `ms`. */
  async closedWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([this.closedPromise.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
    clearTimeout(timer);
    return closed;
  }

  /** The next PDU, or undefined once the connection is closed with none pending. */
  async next(timeoutMs = 5000): Promise<ReceivedPdu | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.pdus.length === 0 && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a PDU');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.pdus.shift();
  }

  /** Releases the association: A-RELEASE-RQ, its A-RELEASE-RP, then the server closes. */
  async release(): Promise<void> {
    this.send(Buffer.from([0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0]));
    const answer = await this.next();
    if (answer?.type !== 0x06) throw new Error(`expected an A-RELEASE-RP, got ${answer ? `PDU type ${answer.type}` : 'nothing'}`);
    await this.waitClosed();
  }

  /** Resolves when the server has closed the connection. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    await Promise.race([
      this.closedPromise,
      new Promise((_, reject) => setTimeout(() => reject(new Error('connection still open')), timeoutMs).unref()),
    ]);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** Presentation context results in an A-ASSOCIATE-AC body: id → result. */
export function acceptedContexts(acBody: Buffer): Map<number, { result: number; transferSyntax: string }> {
  const results = new Map<number, { result: number; transferSyntax: string }>();
  let offset = 68;
  while (offset + 4 <= acBody.length) {
    const type = acBody[offset];
    const length = acBody.readUInt16BE(offset + 2);
    if (type === 0x21) {
      const id = acBody[offset + 4];
      const result = acBody[offset + 6];
      const tsLength = acBody.readUInt16BE(offset + 10);
      const transferSyntax = acBody.toString('latin1', offset + 12, offset + 12 + tsLength).replace(/\0+$/, '');
      results.set(id, { result, transferSyntax });
    }
    offset += 4 + length;
  }
  return results;
}

/** The SCP/SCU Role Selection sub-items of an A-ASSOCIATE-AC (PS3.7 Table D.3-10), in order. */
export function roleSelections(acBody: Buffer): Array<{ sopClassUID: string; scu: number; scp: number }> {
  const roles: Array<{ sopClassUID: string; scu: number; scp: number }> = [];
  let offset = 68;
  while (offset + 4 <= acBody.length) {
    const length = acBody.readUInt16BE(offset + 2);
    if (acBody[offset] === 0x50) {
      for (let sub = offset + 4; sub < offset + 4 + length; sub += 4 + acBody.readUInt16BE(sub + 2)) {
        if (acBody[sub] !== 0x54) continue;
        const uidLength = acBody.readUInt16BE(sub + 4);
        const at = sub + 6 + uidLength;
        roles.push({ sopClassUID: acBody.toString('latin1', sub + 6, at).replace(/\0+$/, ''), scu: acBody[at], scp: acBody[at + 1] });
      }
    }
    offset += 4 + length;
  }
  return roles;
}

/** Reads the Maximum Length the acceptor announced in its A-ASSOCIATE-AC. */
export function announcedMaxPdu(acBody: Buffer): number | undefined {
  let offset = 68;
  while (offset + 4 <= acBody.length) {
    const type = acBody[offset];
    const length = acBody.readUInt16BE(offset + 2);
    if (type === 0x50) {
      let sub = offset + 4;
      while (sub < offset + 4 + length) {
        const subType = acBody[sub];
        const subLength = acBody.readUInt16BE(sub + 2);
        if (subType === 0x51) return acBody.readUInt32BE(sub + 4);
        sub += 4 + subLength;
      }
    }
    offset += 4 + length;
  }
  return undefined;
}
