/**
 * A deterministic mutation fuzz of the DIMSE SCP. One valid session is recorded as PDUs
 * (A-ASSOCIATE-RQ, a C-ECHO-RQ, a C-STORE-RQ of a ct-fakephi instance in two data set PDUs,
 * A-RELEASE-RQ); each case mutates it with a seeded xorshift PRNG (bytes flipped or
 * overwritten; PDU types, PDU, PDV, item and command element lengths, PDV headers and the
 * Maximum Length changed; PDUs duplicated, dropped, swapped or merged, a PDV fragmented, an
 * association item repeated; the stream truncated, written in random pieces or its socket closed
 * early) and plays it on a connection of its own. Whatever the SCP answers must be whole PDUs in
 * an order PS3.8 allows, an A-ASSOCIATE-AC must answer the contexts under the IDs proposed, every
 * connection must be closed by the SCP, the process must see no uncaught exception or unhandled
 * rejection, every C-STORE answered with success must have reached the ingest, and after the run
 * no association, socket, timer or held byte may be left and a real echoscu must succeed.
 *
 * Reproduce a failure with the seed and case it names (DIMSE_FUZZ_DEBUG=1 prints every case):
 *   DIMSE_FUZZ_SEED=0x... DIMSE_FUZZ_CASE=17 CI=true npx mocha test/gateway/dimse/fuzz.test.ts
 * DIMSE_FUZZ_CASES sets how many cases run (default 400).
 */
import { expect } from 'chai';
import { StorageSopClass, TransferSyntax, type DimseScpEvent } from '../../../gateway/dimse/index.js';
import { ReceiveMemory } from '../../../gateway/ingest/index.js';
import { caseSeed, XorShift32 } from '../../support/fuzz.js';
import { requirePeers } from '../../support/peers.js';
import { readPart10, runTool, startScp } from './helpers.js';
import { associateRq, cEchoRq, cStoreRq, pData, RawPeer } from './raw-pdu.js';

const SEED = Number(process.env.DIMSE_FUZZ_SEED ?? 0x1d0c0de5) >>> 0;
const CASES = Number(process.env.DIMSE_FUZZ_CASES ?? 400);
const ONLY = process.env.DIMSE_FUZZ_CASE === undefined ? undefined : Number(process.env.DIMSE_FUZZ_CASE);
/** Connections played at once. */
const WORKERS = 4;
const VERIFICATION = '1.2.840.10008.1.1';
const INSTANCE = readPart10('test/fixtures/ct-fakephi/dicom/CT000001.dcm');
/** The SCP's timeouts, lowered so that a stalled stream ends quickly. */
const IDLE_MS = 300;
const ARTIM_MS = 300;
/** How long the A-ASSOCIATE-RQ's answer is waited for before the rest is sent anyway. */
const ASSOCIATE_WAIT_MS = 200;
/** A connection the SCP has not closed this long after the last byte was sent is a hang. */
const HANG_MS = 2_500;

/** The announced SOP Instance UID of case `index` (-1: the valid session), so that answers name their case. */
function caseUid(index: number): string {
  return `2.25.${SEED}${String(index + 1).padStart(4, '0')}`;
}

/** The valid session as PDUs; the first is the A-ASSOCIATE-RQ, after which the SCP's answer is awaited. */
function session(uid: string): Buffer[] {
  const dataSet = INSTANCE.dataSet;
  const split = 16_000;
  return [
    associateRq('LIMEN', 'MODALITY', [
      { id: 1, abstractSyntax: StorageSopClass.CTImage, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] },
      { id: 3, abstractSyntax: VERIFICATION, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] },
    ]),
    pData(3, cEchoRq(1), true),
    pData(1, cStoreRq(2, StorageSopClass.CTImage, uid), true),
    pData(1, dataSet.subarray(0, split), false, false),
    pData(1, dataSet.subarray(split), false, true),
    Buffer.from([0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0]),
  ];
}

// ---- mutations ---------------------------------------------------------------------------

type Delivery = 'per-pdu' | 'split' | 'bulk';

interface FuzzCase {
  index: number;
  seed: number;
  pdus: Buffer[];
  /** What was done to the session, for the failure message. */
  mutations: string[];
  delivery: Delivery;
  /** Close the socket after this many bytes: destroy (RST or FIN) or end (half-close). */
  closeAt?: { bytes: number; how: 'destroy' | 'end' };
  /** The session is still valid: it must end as the valid one does. */
  valid: boolean;
}

/** A new length from an old one: off by a little, zero, huge, doubled, or random. */
function newLength(rng: XorShift32, old: number, max: number): number {
  const options = [old + 1, old - 1, old + 2, old - 2, old + 6, old - 6, old + 100, 0, 1, 2, 3, 4, 5, 6, old * 2, max, rng.int(max + 1)];
  return Math.min(max, Math.max(0, rng.pick(options)));
}

/** An item or sub-item of an A-ASSOCIATE-RQ: its bytes, and the offsets of the 16-bit lengths that hold it. */
interface AssociateNode {
  start: number;
  end: number;
  /** The enclosing item's length field, for a sub-item. */
  parentLength?: number;
}

/** The items and sub-items of an A-ASSOCIATE-RQ that lie wholly inside it. */
function associateNodes(pdu: Buffer): AssociateNode[] {
  const out: AssociateNode[] = [];
  for (let at = 74; at + 4 <= pdu.length; at += 4 + pdu.readUInt16BE(at + 2)) {
    const end = at + 4 + pdu.readUInt16BE(at + 2);
    if (end > pdu.length) break;
    out.push({ start: at, end });
    const type = pdu[at];
    const first = type === 0x20 ? at + 8 : type === 0x50 ? at + 4 : end;
    for (let sub = first; sub + 4 <= end; sub += 4 + pdu.readUInt16BE(sub + 2)) {
      const subEnd = sub + 4 + pdu.readUInt16BE(sub + 2);
      if (subEnd > end) break;
      out.push({ start: sub, end: subEnd, parentLength: at + 2 });
    }
  }
  return out;
}

/** The presentation context IDs of an A-ASSOCIATE-RQ (or -AC) PDU, header included. */
function contextIds(pdu: Buffer, itemType: number): number[] {
  const out: number[] = [];
  for (let at = 74; at + 5 <= pdu.length; at += 4 + pdu.readUInt16BE(at + 2)) if (pdu[at] === itemType) out.push(pdu[at + 4]);
  return out;
}

/** A P-DATA-TF PDU holding these PDVs, each given whole (length, context, control, value). */
function pDataOf(pdvs: Buffer[]): Buffer {
  const header = Buffer.alloc(6);
  header[0] = 0x04;
  header.writeUInt32BE(pdvs.reduce((n, p) => n + p.length, 0), 2);
  return Buffer.concat([header, ...pdvs]);
}

/** The PDV items of a P-DATA-TF PDU as built here (each whole), or undefined when they do not fit. */
function pdvsOf(pdu: Buffer): Buffer[] | undefined {
  if (pdu[0] !== 0x04 || pdu.length < 12 || pdu.readUInt32BE(2) !== pdu.length - 6) return undefined;
  const out: Buffer[] = [];
  for (let at = 6; at < pdu.length; ) {
    if (at + 6 > pdu.length) return undefined;
    const end = at + 4 + pdu.readUInt32BE(at);
    if (end > pdu.length || end < at + 6) return undefined;
    out.push(pdu.subarray(at, end));
    at = end;
  }
  return out;
}

/** Offsets of the 32-bit element lengths of the command set in a one-PDV command P-DATA-TF. */
function commandElementLengths(pdu: Buffer): number[] {
  const out: number[] = [];
  if (pdu.length < 12 || pdu[0] !== 0x04 || (pdu[11] & 1) === 0) return out;
  for (let at = 12; at + 8 <= pdu.length; at += 8 + pdu.readUInt32LE(at + 4)) out.push(at + 4);
  return out;
}

/** A position in `pdu`, mostly among its first bytes, where the headers and command sets are. */
function position(rng: XorShift32, pdu: Buffer): number {
  return rng.chance(0.7) ? rng.int(Math.min(pdu.length, 96)) : rng.int(pdu.length);
}

/** Applies one content mutation to `pdus` (in place); returns what it did. */
function mutate(rng: XorShift32, pdus: Buffer[]): string {
  const which = rng.int(pdus.length);
  const pdu = pdus[which];
  const kind = rng.pick([
    'flip', 'flip', 'overwrite', 'overwrite', 'pdu-type', 'pdu-length', 'pdv-length', 'pdv-header', 'item-length', 'item-length',
    'duplicate', 'drop', 'swap', 'merge', 'fragment', 'duplicate-item', 'item-type', 'maximum-length',
  ] as const);
  switch (kind) {
    case 'flip': {
      const flips: string[] = [];
      for (let n = 1 + rng.int(4); n > 0; n--) {
        const at = position(rng, pdu);
        const bit = 1 << rng.int(8);
        pdu[at] ^= bit;
        flips.push(`${at}^0x${bit.toString(16)}`);
      }
      return `flip PDU ${which} bytes ${flips.join(',')}`;
    }
    case 'overwrite': {
      const at = position(rng, pdu);
      const count = 1 + rng.int(4);
      const value = rng.chance(0.5) ? 0x00 : 0xff;
      pdu.fill(value, at, Math.min(pdu.length, at + count));
      return `overwrite PDU ${which} bytes ${at}..${at + count - 1} with 0x${value.toString(16)}`;
    }
    case 'pdu-type': {
      const type = rng.pick([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x10, 0x55, 0xff]);
      pdu[0] = type;
      return `PDU ${which} type 0x${type.toString(16)}`;
    }
    case 'pdu-length': {
      const length = newLength(rng, pdu.readUInt32BE(2), 0xffffffff);
      pdu.writeUInt32BE(length, 2);
      return `PDU ${which} length ${length} (was ${pdu.length - 6})`;
    }
    case 'pdv-length': {
      if (pdu[0] !== 0x04 || pdu.length < 12) return mutate(rng, pdus);
      const old = pdu.readUInt32BE(6);
      const length = newLength(rng, old, 0xffffffff);
      pdu.writeUInt32BE(length, 6);
      return `PDU ${which} PDV length ${length} (was ${old})`;
    }
    case 'pdv-header': {
      if (pdu[0] !== 0x04 || pdu.length < 12) return mutate(rng, pdus);
      const at = rng.chance(0.5) ? 10 : 11;
      const value = at === 10 ? rng.pick([0, 1, 2, 3, 5, 255]) : rng.int(4) | (rng.chance(0.1) ? 0xfc : 0);
      pdu[at] = value;
      return `PDU ${which} PDV ${at === 10 ? 'context ID' : 'control header'} 0x${value.toString(16)}`;
    }
    case 'item-length': {
      const associate = pdu[0] === 0x01 ? associateNodes(pdu) : [];
      if (associate.length > 0) {
        const at = rng.pick(associate).start + 2;
        const old = pdu.readUInt16BE(at);
        const length = newLength(rng, old, 0xffff);
        pdu.writeUInt16BE(length, at);
        return `PDU ${which} item length at ${at}: ${length} (was ${old})`;
      }
      const command = commandElementLengths(pdu);
      if (command.length === 0) return mutate(rng, pdus);
      const at = rng.pick(command);
      const old = pdu.readUInt32LE(at);
      const length = newLength(rng, old, 0xffffffff);
      pdu.writeUInt32LE(length, at);
      return `PDU ${which} command element length at ${at}: ${length} (was ${old})`;
    }
    case 'duplicate':
      pdus.splice(which + 1, 0, Buffer.from(pdu));
      return `duplicate PDU ${which}`;
    case 'drop':
      if (pdus.length === 1) return mutate(rng, pdus);
      pdus.splice(which, 1);
      return `drop PDU ${which}`;
    case 'swap': {
      const other = rng.int(pdus.length);
      [pdus[which], pdus[other]] = [pdus[other], pdus[which]];
      return `swap PDUs ${which} and ${other}`;
    }
    case 'merge': {
      // Two P-DATA-TFs as one, with both PDVs.
      const first = pdvsOf(pdu);
      const second = which + 1 < pdus.length ? pdvsOf(pdus[which + 1]) : undefined;
      if (!first || !second) return mutate(rng, pdus);
      pdus.splice(which, 2, pDataOf([...first, ...second]));
      return `merge PDUs ${which} and ${which + 1}`;
    }
    case 'fragment': {
      // A PDV cut in two fragments, in one PDU or two.
      const pdvs = pdvsOf(pdu);
      if (!pdvs || pdvs.length !== 1 || pdvs[0].length < 8) return mutate(rng, pdus);
      const [pdv] = pdvs;
      const cut = 6 + rng.int(pdv.length - 6);
      const head = Buffer.concat([Buffer.alloc(6), pdv.subarray(6, cut)]);
      head.writeUInt32BE(head.length - 4, 0);
      head[4] = pdv[4];
      head[5] = pdv[5] & ~2;
      const tail = Buffer.concat([Buffer.alloc(6), pdv.subarray(cut)]);
      tail.writeUInt32BE(tail.length - 4, 0);
      tail[4] = pdv[4];
      tail[5] = pdv[5];
      const apart = rng.chance(0.5);
      pdus.splice(which, 1, ...(apart ? [pDataOf([head]), pDataOf([tail])] : [pDataOf([head, tail])]));
      return `fragment PDU ${which}'s PDV at ${cut}${apart ? ' into two PDUs' : ''}`;
    }
    case 'duplicate-item': {
      // An item or sub-item of the A-ASSOCIATE-RQ twice, the lengths holding it made to fit.
      const nodes = pdu[0] === 0x01 ? associateNodes(pdu) : [];
      if (nodes.length === 0) return mutate(rng, pdus);
      const node = rng.pick(nodes);
      const copy = pdu.subarray(node.start, node.end);
      const grown = Buffer.concat([pdu.subarray(0, node.end), copy, pdu.subarray(node.end)]);
      grown.writeUInt32BE(grown.readUInt32BE(2) + copy.length, 2);
      if (node.parentLength !== undefined) grown.writeUInt16BE(Math.min(0xffff, grown.readUInt16BE(node.parentLength) + copy.length), node.parentLength);
      pdus[which] = grown;
      return `duplicate PDU ${which}'s item 0x${pdu[node.start].toString(16)} at ${node.start}`;
    }
    case 'item-type': {
      const nodes = pdu[0] === 0x01 ? associateNodes(pdu) : [];
      if (nodes.length === 0) return mutate(rng, pdus);
      const node = rng.pick(nodes);
      const type = rng.pick([0x00, 0x10, 0x20, 0x21, 0x30, 0x40, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0xff]);
      const was = pdu[node.start];
      pdu[node.start] = type;
      return `PDU ${which}'s item at ${node.start}: type 0x${type.toString(16)} (was 0x${was.toString(16)})`;
    }
    case 'maximum-length': {
      const node = pdu[0] === 0x01 ? associateNodes(pdu).find((n) => pdu[n.start] === 0x51 && n.end - n.start === 8) : undefined;
      if (!node) return mutate(rng, pdus);
      const max = rng.pick([0, 1, 6, 7, 8, 12, 20, 64, 100, 4096, 0x7fffffff, 0xffffffff]);
      pdu.writeUInt32BE(max, node.start + 4);
      return `PDU ${which}'s Maximum Length ${max}`;
    }
  }
}

/** Case `index` of a run, the same for the same seed whatever else runs. */
function makeCase(index: number): FuzzCase {
  const seed = caseSeed(SEED, index);
  const rng = new XorShift32(seed);
  const pdus = session(caseUid(index)).map((p) => Buffer.from(p));
  const mutations: string[] = [];
  // One case in eight changes only how the valid session is delivered.
  const contentMutations = rng.chance(0.125) ? 0 : rng.pick([1, 1, 1, 1, 2, 2, 3]);
  for (let n = 0; n < contentMutations; n++) mutations.push(mutate(rng, pdus));
  const total = pdus.reduce((n, p) => n + p.length, 0);
  if (rng.chance(0.15)) {
    const at = rng.int(total);
    let left = at;
    for (let i = 0; i < pdus.length; i++) {
      if (left < pdus[i].length) {
        pdus.splice(i, pdus.length - i, ...(left > 0 ? [pdus[i].subarray(0, left)] : []));
        break;
      }
      left -= pdus[i].length;
    }
    mutations.push(`truncate at byte ${at}`);
  }
  const delivery = rng.pick(['per-pdu', 'per-pdu', 'split', 'split', 'bulk'] as const);
  let closeAt: FuzzCase['closeAt'];
  if (rng.chance(0.15)) {
    closeAt = { bytes: rng.int(pdus.reduce((n, p) => n + p.length, 0) + 1), how: rng.chance(0.5) ? 'destroy' : 'end' };
    mutations.push(`${closeAt.how} the socket after ${closeAt.bytes} bytes`);
  }
  return { index, seed, pdus, mutations, delivery, closeAt, valid: mutations.length === 0 };
}

// ---- playing a case --------------------------------------------------------------------

interface CaseResult {
  /** What is wrong with what the SCP did. */
  problems: string[];
  /** Affected SOP Instance UIDs of the C-STORE responses with status 0x0000. */
  stored: string[];
  /** PDU types the SCP sent, in order. */
  answered: number[];
  /** C-ECHO / C-STORE response statuses, in order. */
  statuses: Array<{ commandField: number; status: number }>;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function play(port: number, c: FuzzCase, rng: XorShift32): Promise<CaseResult> {
  const conn = await RawPeer.open(port);
  let sent = 0;
  let closedEarly = false;
  /** Sends `bytes`, closing the socket where the case says. */
  const send = (bytes: Buffer): boolean => {
    if (closedEarly) return false;
    const close = c.closeAt;
    if (close && sent + bytes.length >= close.bytes) {
      conn.send(bytes.subarray(0, close.bytes - sent));
      sent = close.bytes;
      closedEarly = true;
      if (close.how === 'destroy') conn.socket.destroy();
      else conn.socket.end();
      return false;
    }
    conn.send(bytes);
    sent += bytes.length;
    return true;
  };
  try {
    for (let i = 0; i < c.pdus.length && !closedEarly; i++) {
      const pdu = c.pdus[i];
      if (c.delivery === 'split') {
        for (let at = 0; at < pdu.length && !closedEarly; ) {
          const size = 1 + rng.int(rng.chance(0.5) ? 16 : 4096);
          send(pdu.subarray(at, at + size));
          at += size;
          await tick();
        }
      } else if (c.delivery === 'bulk' && i > 0) {
        send(Buffer.concat(c.pdus.slice(i)));
        break;
      } else {
        send(pdu);
      }
      // A requestor waits for the A-ASSOCIATE-AC before it sends P-DATA (PS3.8 Sta5).
      if (i === 0) await conn.waitData(ASSOCIATE_WAIT_MS);
      else await tick();
    }
    const problems: string[] = [];
    const closed = c.closeAt?.how === 'destroy' ? true : await conn.closedWithin(HANG_MS);
    if (!closed) problems.push(`the SCP kept the connection open ${HANG_MS} ms after the last byte`);
    return { ...readAnswers(conn.bytes, problems, c.closeAt?.how !== 'destroy', proposedContextIds(c.pdus)), problems };
  } finally {
    conn.socket.destroy();
  }
}

/** The presentation context IDs of the first PDU of the stream as the SCP frames it, if it is an A-ASSOCIATE-RQ. */
function proposedContextIds(pdus: Buffer[]): number[] {
  const stream = Buffer.concat(pdus);
  if (stream.length < 6 || stream[0] !== 0x01) return [];
  return contextIds(stream.subarray(0, 6 + stream.readUInt32BE(2)), 0x20);
}

/**
 * Reads the SCP's answers, checking they are whole, known PDUs in an order PS3.8 allows, and
 * that an A-ASSOCIATE-AC answers each presentation context under an ID the requestor proposed.
 */
function readAnswers(bytes: Buffer, problems: string[], complete: boolean, proposed: number[]): Omit<CaseResult, 'problems'> {
  const answered: number[] = [];
  const statuses: CaseResult['statuses'] = [];
  const stored: string[] = [];
  let command: Buffer[] = [];
  let offset = 0;
  while (offset + 6 <= bytes.length) {
    const type = bytes[offset];
    const length = bytes.readUInt32BE(offset + 2);
    if (offset + 6 + length > bytes.length) break;
    const body = bytes.subarray(offset + 6, offset + 6 + length);
    offset += 6 + length;
    const previous = answered.at(-1);
    answered.push(type);
    if (![0x02, 0x03, 0x04, 0x06, 0x07].includes(type)) problems.push(`the SCP sent PDU type 0x${type.toString(16)}`);
    if (previous === 0x03 || previous === 0x06 || previous === 0x07) problems.push(`the SCP sent PDU type 0x${type.toString(16)} after 0x${previous.toString(16)}`);
    if ((type === 0x02 || type === 0x03) && answered.length > 1) problems.push(`the SCP sent an A-ASSOCIATE answer (0x${type.toString(16)}) after other PDUs`);
    if ((type === 0x04 || type === 0x06) && answered[0] !== 0x02) problems.push(`the SCP sent PDU type 0x${type.toString(16)} without accepting an association`);
    if ((type === 0x03 || type === 0x06 || type === 0x07) && length !== 4) problems.push(`the SCP sent PDU type 0x${type.toString(16)} of length ${length}`);
    if (type === 0x02) {
      const ids = contextIds(bytes.subarray(offset - 6 - length, offset), 0x21);
      // PS3.8 9.3.3.2: each presentation context is answered under the ID the requestor gave it.
      if (ids.some((id) => !proposed.includes(id)) || new Set(ids).size !== ids.length) {
        problems.push(`the A-ASSOCIATE-AC answers presentation contexts ${JSON.stringify(ids)}; the request proposed ${JSON.stringify(proposed)}`);
      }
    }
    if (type !== 0x04) continue;
    for (let at = 0; at < body.length; ) {
      if (at + 6 > body.length) {
        problems.push('a PDV header of the SCP runs past its P-DATA-TF');
        break;
      }
      const pdvLength = body.readUInt32BE(at);
      if (pdvLength < 2 || at + 4 + pdvLength > body.length) {
        problems.push(`a PDV length of the SCP (${pdvLength}) does not fit its P-DATA-TF`);
        break;
      }
      const control = body[at + 5];
      if ((control & 1) === 0) problems.push('the SCP sent a data set PDV');
      command.push(body.subarray(at + 6, at + 4 + pdvLength));
      at += 4 + pdvLength;
      if ((control & 2) === 0) continue;
      const elements = readCommand(Buffer.concat(command));
      command = [];
      const commandField = elements.get(0x0100)?.readUInt16LE(0);
      const status = elements.get(0x0900)?.readUInt16LE(0);
      if (commandField === undefined || status === undefined || (commandField & 0x8000) === 0) {
        problems.push(`the SCP sent a command that is no response: ${JSON.stringify([...elements.keys()])}`);
        continue;
      }
      statuses.push({ commandField, status });
      if (commandField === 0x8001 && status === 0x0000) stored.push(elements.get(0x1000)?.toString('latin1').replace(/\0+$/, '') ?? '');
    }
  }
  if (complete && offset !== bytes.length) problems.push(`the SCP's output ends inside a PDU (${bytes.length - offset} bytes left)`);
  return { answered, statuses, stored };
}

/** The elements of an implicit VR little endian command set, by element number. */
function readCommand(bytes: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (let at = 0; at + 8 <= bytes.length; ) {
    const length = bytes.readUInt32LE(at + 4);
    out.set(bytes.readUInt16LE(at + 2), bytes.subarray(at + 8, at + 8 + length));
    at += 8 + length;
  }
  return out;
}

function describeCase(c: FuzzCase): string {
  return `DIMSE_FUZZ_SEED=0x${SEED.toString(16)} DIMSE_FUZZ_CASE=${c.index} (case seed 0x${c.seed.toString(16)}, ${c.delivery}): ${c.mutations.join('; ') || 'unmutated'}`;
}

// ---- the run -----------------------------------------------------------------------------

describe('gateway/dimse DimseScpService under a mutation fuzz', function () {
  this.timeout(120_000);

  before(function () {
    requirePeers(this, 'dcmtk');
  });

  it(`survives ${ONLY === undefined ? CASES : 1} mutated sessions (seed 0x${SEED.toString(16)}): no crash, hang, leak or unfounded success`, async () => {
    const crashes: string[] = [];
    /** The cases being played, to name in a crash (any of them may have caused it). */
    const playing = new Set<FuzzCase>();
    const crashed = (what: string, err: unknown): void => {
      const suspects = [...playing].map((c) => `\n    while playing ${describeCase(c)}`).join('');
      crashes.push(`${what}: ${(err as Error)?.stack ?? String(err)}${suspects}`);
    };
    const onUncaught = (err: unknown): void => crashed('uncaughtException', err);
    const onRejection = (err: unknown): void => crashed('unhandledRejection', err);
    // Mocha's own listeners would fail the test at once, without naming the case: they wait until the run is over.
    const mochaListeners = { uncaughtException: process.listeners('uncaughtException'), unhandledRejection: process.listeners('unhandledRejection') };
    process.removeAllListeners('uncaughtException').removeAllListeners('unhandledRejection');
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onRejection);
    const memory = new ReceiveMemory(1 << 30);
    // Room for the instance but not for much more: a grown or repeated data set, or more sent ahead of an answer, passes it.
    const ctx = await startScp({ idleTimeoutMs: IDLE_MS, artimTimeoutMs: ARTIM_MS, maxAssociations: 64, maxDataSetBytes: 40_000 }, { memory });
    // A store takes a moment, so that what follows a data set is held while it is in flight.
    ctx.ingest.delayMs = 2;
    const resources = (): string[] => process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r.startsWith('TCP')).sort();
    const baseline = resources();
    const started = Date.now();
    try {
      // The valid session first: the harness itself must be able to see a success.
      const validUid = caseUid(-1);
      const valid: FuzzCase = { index: -1, seed: 0, pdus: session(validUid), mutations: [], delivery: 'per-pdu', valid: true };
      const validResult = await play(ctx.portNumber, valid, new XorShift32(1));
      expect(validResult.problems).to.deep.equal([]);
      expect(validResult.answered, 'A-ASSOCIATE-AC, C-ECHO-RSP, C-STORE-RSP, A-RELEASE-RP').to.deep.equal([0x02, 0x04, 0x04, 0x06]);
      expect(validResult.statuses).to.deep.equal([
        { commandField: 0x8030, status: 0 },
        { commandField: 0x8001, status: 0 },
      ]);
      expect(validResult.stored).to.deep.equal([validUid]);
      expect(ctx.ingest.received).to.have.length(1);
      expect(ctx.ingest.received[0]).to.include({ announcedSOPInstanceUID: validUid, announcedSOPClassUID: StorageSopClass.CTImage, transferSyntaxUID: TransferSyntax.ExplicitVRLittleEndian, route: 'ct-route' });
      expect(Buffer.compare(ctx.ingest.received[0].bytes, INSTANCE.dataSet), 'the data set reached the ingest byte for byte').to.equal(0);

      const indices = ONLY === undefined ? Array.from({ length: CASES }, (_, i) => i) : [ONLY];
      const failures: string[] = [];
      const stored: Array<{ uid: string; c: FuzzCase }> = [];
      let validCases = 0;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < indices.length) {
          const c = makeCase(indices[next++]);
          // Split sizes come from a generator of their own, so the mutations do not depend on them.
          const t0 = Date.now();
          playing.add(c);
          let result: CaseResult;
          try {
            result = await play(ctx.portNumber, c, new XorShift32(c.seed ^ 0xa5a5a5a5));
          } catch (err) {
            failures.push(`${describeCase(c)}\n    could not be played: ${(err as Error).message}`);
            continue;
          } finally {
            playing.delete(c);
          }
          if (process.env.DIMSE_FUZZ_DEBUG) process.stdout.write(`${c.index} ${Date.now() - t0}ms ${JSON.stringify(result.answered)} ${JSON.stringify(result.statuses)} ${describeCase(c)}\n`);
          const problems = [...result.problems];
          if (c.valid) {
            validCases++;
            if (JSON.stringify(result.answered) !== JSON.stringify([2, 4, 4, 6]) || result.statuses.some((s) => s.status !== 0)) {
              problems.push(`a valid session ended ${JSON.stringify(result.answered)} with ${JSON.stringify(result.statuses)}`);
            }
          }
          if (problems.length > 0) failures.push(`${describeCase(c)}\n    ${problems.join('\n    ')}`);
          for (const uid of result.stored) stored.push({ uid, c });
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, worker));
      const elapsed = Date.now() - started;

      // Every success the SCP answered names an instance the ingest was handed, whole.
      const records = new Map<string, number>();
      for (const r of ctx.ingest.received) records.set(r.announcedSOPInstanceUID ?? '', (records.get(r.announcedSOPInstanceUID ?? '') ?? 0) + 1);
      for (const { uid, c } of stored) {
        const left = records.get(uid) ?? 0;
        if (left === 0) failures.push(`${describeCase(c)}\n    C-STORE of ${JSON.stringify(uid)} answered 0x0000, but the ingest was not handed it`);
        else records.set(uid, left - 1);
      }
      for (const r of ctx.ingest.received) {
        if (r.bytes.length === 0 || !r.transferSyntaxUID || !r.announcedSOPClassUID || !r.announcedSOPInstanceUID || r.route !== 'ct-route' || r.callingAETitle !== 'MODALITY') {
          failures.push(`a half-formed ingest record: ${JSON.stringify({ ...r, bytes: r.bytes.length })}`);
        }
      }

      expect(crashes, crashes.join('\n')).to.deep.equal([]);
      expect(failures, `${failures.length} failing case(s):\n  ${failures.join('\n  ')}`).to.deep.equal([]);

      // Nothing left behind: associations, their held bytes, and every accepted association ended.
      const deadline = Date.now() + 5_000;
      while (ctx.scp.associationCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(ctx.scp.associationCount, 'associations still open after the run').to.equal(0);
      expect(memory.held, 'receive memory still held after the run').to.equal(0);
      // No socket or timer of an association keeps the process alive (unreferenced timers are not listed).
      expect(resources(), 'handles and timers left after the run').to.deep.equal(baseline);
      const ended = new Set(ctx.events.filter((e) => e.type === 'association-released' || e.type === 'association-aborted').map((e) => e.associationId));
      const unended = ctx.events.filter((e): e is Extract<DimseScpEvent, { type: 'association-accepted' }> => e.type === 'association-accepted' && !ended.has(e.associationId));
      expect(unended, 'accepted associations with no released or aborted event').to.deep.equal([]);
      const errors = ctx.logs().filter((l) => JSON.parse(l).level === 'error');
      expect(errors, 'error-level log lines').to.deep.equal([]);

      expect(ctx.scp.status).to.equal('running');
      const echo = await runTool('echoscu', ['-aet', 'MODALITY', '-aec', 'LIMEN', '127.0.0.1', ctx.port]);
      expect(echo.status, echo.output).to.equal(0);
      if (ONLY === undefined) {
        const ids = new Map<string, number>();
        for (const line of ctx.logs()) {
          const { id, code, reason } = JSON.parse(line) as { id: string; code?: string; reason?: string };
          const key = id.endsWith('rejected') ? `${id}:${reason}` : code ? `${id}:${code}` : id;
          ids.set(key, (ids.get(key) ?? 0) + 1);
        }
        // What the run exercised, for whoever changes the mutations.
        process.stdout.write(
          `      ${indices.length} cases in ${elapsed} ms, ${validCases} delivered valid, ${stored.length} C-STOREs stored (${ctx.ingest.received.length} ingested); ` +
            `${[...ids].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}\n`,
        );
      }
    } finally {
      await ctx.scp.stop();
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onRejection);
      for (const listener of mochaListeners.uncaughtException) process.on('uncaughtException', listener);
      for (const listener of mochaListeners.unhandledRejection) process.on('unhandledRejection', listener as NodeJS.UnhandledRejectionListener);
    }
  });
});
