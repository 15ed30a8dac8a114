/**
 * For the stop tests: a gateway in process with gateway options (a short stop deadline), a STOW
 * request and a C-STORE each held half sent, and a probe for whether a port still accepts.
 */
import { readFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { GatewayOptions, RunningGateway } from '../../gateway/process/gateway.js';
import { multipartRelated } from '../support/curl.js';
import { CT_FAKEPHI_FILES } from '../support/fakephi.js';
import { startTestGateway } from '../support/gateway.js';
import { readPart10 } from './dimse/helpers.js';
import { associateRq, cStoreRq, commandElement, pData, RawPeer } from './dimse/raw-pdu.js';

export interface StopGateway {
  gw: RunningGateway;
  dataDir: string;
  records(): Array<Record<string, any>>;
  dispose(): Promise<void>;
}

/** A gateway on loopback with free ports in a fresh data dir (or `dataDir`, to start again on it). */
export async function startStopGateway(yaml: string, options: GatewayOptions = {}, dataDir?: string): Promise<StopGateway> {
  const gw = await startTestGateway(yaml, {}, { gateway: options, dataDir });
  return { gw, dataDir: gw.dataDir, records: () => gw.logs.map((l) => JSON.parse(l) as Record<string, any>), dispose: () => gw.dispose() };
}

/** Whether a TCP connection to the port is accepted now ('refused' once its listener is closed). */
export function connects(port: number): Promise<'accepted' | 'refused'> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? resolve('refused') : reject(err)));
  });
}

export interface HeldStow {
  /** Sends the rest of the body; resolves with the answer. */
  finish(): Promise<{ status: number; body: string }>;
  /** Settles when the server answers or the connection ends without an answer. */
  answered: Promise<{ status: number; body: string } | { error: string }>;
}

/** A STOW-RS request of one ct-fakephi instance, its body sent but for the last 1000 bytes. */
export function holdStow(port: number, token: string): HeldStow {
  const { body, contentType } = multipartRelated([readFileSync(CT_FAKEPHI_FILES[0])]);
  const req = request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/dicomweb/studies',
    headers: { 'content-type': contentType, 'content-length': body.length, authorization: `Bearer ${token}` },
  });
  const answered = new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
    req.on('response', (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8').on('data', (s: string) => (text += s));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', (err) => resolve({ error: err.message }));
    });
    req.on('error', (err) => resolve({ error: err.message }));
  });
  req.write(body.subarray(0, body.length - 1000));
  return {
    answered,
    async finish() {
      req.end(body.subarray(body.length - 1000));
      const r = await answered;
      if ('error' in r) throw new Error(`the STOW request got no answer: ${r.error}`);
      return r;
    },
  };
}

export interface HeldStore {
  peer: RawPeer;
  /** Sends the data set's last fragment; resolves with the C-STORE response's status. */
  finish(): Promise<number>;
}

/** An association with a C-STORE of one ct-fakephi instance, its data set sent but for the last fragment. */
export async function holdStore(port: number): Promise<HeldStore> {
  const part10 = readPart10(CT_FAKEPHI_FILES[1]);
  const peer = await RawPeer.open(port);
  peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: part10.sopClassUID, transferSyntaxes: [part10.transferSyntaxUID] }]));
  const ac = await peer.next();
  if (ac?.type !== 0x02) throw new Error(`association not accepted (PDU type ${ac?.type})`);
  peer.send(pData(1, cStoreRq(1, part10.sopClassUID, part10.sopInstanceUID), true));
  const fragment = 16_000;
  const fragments: Buffer[] = [];
  for (let at = 0; at < part10.dataSet.length; at += fragment) fragments.push(part10.dataSet.subarray(at, at + fragment));
  const last = fragments.pop()!;
  for (const f of fragments) peer.send(pData(1, f, false, false));
  return {
    peer,
    async finish() {
      peer.send(pData(1, last, false, true));
      const response = await peer.next(10_000);
      if (response?.type !== 0x04) throw new Error(`no C-STORE response (PDU type ${response?.type})`);
      return commandElement(response.body.subarray(6), 0x0900)!.readUInt16LE(0);
    },
  };
}
