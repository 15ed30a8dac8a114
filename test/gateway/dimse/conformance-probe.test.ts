/**
 * What a probe of the DIMSE SCP with DCMTK peers and a hand-written one found wrong, each case
 * written so that it fails without its fix. A P-DATA-TF PDU may carry several PDVs, of one message
 * or several (PS3.8 9.3.5, Annex E), and a message may be cut into fragments of any length down to
 * one byte: DCMTK never sends either, other implementations may, and a hostile peer will.
 */
import { expect } from 'chai';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { StorageSopClass, TransferSyntax } from '../../../gateway/dimse/index.js';
import { Fragments } from '../../../gateway/dimse/data-set-collector.js';
import { ReceiveMemory } from '../../../gateway/ingest/index.js';
import { startScp } from './helpers.js';
import { associatedForStoreAndEcho, associateRq, cEchoRq, commandElement, cStoreRq, nextAnswers, RawPeer, TINY_DATA_SET } from './raw-pdu.js';

const VERIFICATION = '1.2.840.10008.1.1';
/** What Limen announces as its Maximum Length (the PDU's variable field). */
const LIMEN_MAX_PDU = 262_144;

/** One PDV item (PS3.8 Table 9-23, Annex E.2). */
function pdv(contextId: number, value: Buffer, command: boolean, last = true): Buffer {
  const head = Buffer.alloc(6);
  head.writeUInt32BE(value.length + 2, 0);
  head[4] = contextId;
  head[5] = (command ? 1 : 0) | (last ? 2 : 0);
  return Buffer.concat([head, value]);
}

/** A P-DATA-TF PDU holding the given PDV items, in order. */
function pDataOf(items: Buffer[]): Buffer {
  const body = Buffer.concat(items);
  const head = Buffer.alloc(6);
  head[0] = 0x04;
  head.writeUInt32BE(body.length, 2);
  return Buffer.concat([head, body]);
}

/** `value` cut into one-byte PDVs, packed into as few P-DATA-TF PDUs as Limen's maximum length allows. */
function oneBytePdus(contextId: number, value: Buffer, command: boolean, last: boolean): Buffer[] {
  const perPdu = Math.floor(LIMEN_MAX_PDU / 7);
  const pdus: Buffer[] = [];
  for (let from = 0; from < value.length; from += perPdu) {
    const to = Math.min(value.length, from + perPdu);
    const body = Buffer.alloc((to - from) * 7);
    for (let i = from; i < to; i++) {
      const at = (i - from) * 7;
      body.writeUInt32BE(3, at);
      body[at + 4] = contextId;
      body[at + 5] = (command ? 1 : 0) | (last && i === value.length - 1 ? 2 : 0);
      body[at + 6] = value[i];
    }
    const head = Buffer.alloc(6);
    head[0] = 0x04;
    head.writeUInt32BE(body.length, 2);
    pdus.push(Buffer.concat([head, body]));
  }
  return pdus;
}

async function writeAll(peer: RawPeer, pdus: Buffer[]): Promise<void> {
  for (const pdu of pdus) await new Promise<void>((resolve) => peer.socket.write(pdu, () => resolve()));
}

async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** V8's collector, to measure what is retained rather than what is not yet collected. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('gateway/dimse conformance probe: P-DATA-TF framing (PS3.8 9.3.5, Annex E)', function () {
  let ctx: Awaited<ReturnType<typeof startScp>>;
  /** The receivers' shared memory, which counts the data set bytes held. */
  const memory = new ReceiveMemory(1 << 30);

  before(async () => {
    ctx = await startScp({}, { memory });
  });
  afterEach(() => {
    ctx.ingest.delayMs = 0;
  });
  after(async () => {
    await ctx?.scp.stop();
  });

  it('performs the messages of one P-DATA-TF one at a time, in order: C-STORE 5, C-STORE 6 and C-ECHO 7 in one PDU are answered 5, 6, 7, never two stores at once', async () => {
    ctx.ingest.delayMs = 200;
    const before = ctx.ingest.received.length;
    const peer = await associatedForStoreAndEcho(ctx.portNumber);
    const dataSet = TINY_DATA_SET;
    const cEcho = cEchoRq(7);
    peer.send(
      pDataOf([
        pdv(1, cStoreRq(5, StorageSopClass.CTImage, '2.25.51'), true),
        pdv(1, dataSet, false),
        pdv(1, cStoreRq(6, StorageSopClass.CTImage, '2.25.52'), true),
        pdv(1, dataSet, false),
        pdv(3, cEcho, true),
      ]),
    );
    await until(() => ctx.ingest.received.length > before);
    await new Promise((r) => setTimeout(r, 100));
    expect(ctx.ingest.received.length - before, 'the second C-STORE was started while the first was being stored').to.equal(1);
    expect(await nextAnswers(peer, 3)).to.deep.equal([
      [5, 0x0000],
      [6, 0x0000],
      [7, 0x0000],
    ]);
    expect(ctx.ingest.received.slice(before).map((r) => r.announcedSOPInstanceUID)).to.deep.equal(['2.25.51', '2.25.52']);
    await peer.release();
  });

  it('reads a command sent in one-byte PDVs in linear time: a 60 kB C-ECHO-RQ is answered at once, not after seconds of a blocked event loop', async function () {
    this.timeout(30_000);
    const peer = await RawPeer.open(ctx.portNumber);
    peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [TransferSyntax.ImplicitVRLittleEndian] }]));
    expect((await peer.next())?.type).to.equal(0x02);
    // A C-ECHO-RQ made long, within the 64 KiB a command may take, by a group 0000 element Limen does not read.
    const base = cEchoRq(17);
    const filler = Buffer.alloc(8 + 60_000, 0x20);
    filler.writeUInt16LE(0x0000, 0);
    filler.writeUInt16LE(0x4000, 2);
    filler.writeUInt32LE(60_000, 4);
    const command = Buffer.concat([base, filler]);
    command.writeUInt32LE(command.length - 12, 8); // group length
    const started = Date.now();
    await writeAll(peer, oneBytePdus(1, command, true, true));
    const rsp = await peer.next(20_000);
    const elapsed = Date.now() - started;
    expect(rsp?.type).to.equal(0x04);
    expect(commandElement(rsp!.body.subarray(6), 0x0120)?.readUInt16LE(0)).to.equal(17);
    expect(commandElement(rsp!.body.subarray(6), 0x0900)?.readUInt16LE(0)).to.equal(0x0000);
    expect(elapsed, `answered after ${elapsed} ms`).to.be.below(1000);
    await peer.release();
  });

  it('holds a data set sent in one-byte PDVs at about its own size in memory, not some 150 bytes of heap per byte, and stores it byte for byte', async function () {
    this.timeout(60_000);
    const gc = collector();
    const peer = await RawPeer.open(ctx.portNumber);
    peer.send(associateRq('LIMEN', 'MODALITY', [{ id: 1, abstractSyntax: StorageSopClass.CTImage, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] }]));
    expect((await peer.next())?.type).to.equal(0x02);
    const before = ctx.ingest.received.length;
    // 1 MB in one-byte fragments, with a fragment of ordinary size in the middle; every byte tells its place.
    const dataSet = Buffer.alloc(1_000_000 + 5000);
    for (let i = 0; i < dataSet.length; i++) dataSet[i] = (i * 7 + (i >>> 8)) & 0xff;
    const head = dataSet.subarray(0, 500_000);
    const middle = dataSet.subarray(500_000, 505_000);
    const tail = dataSet.subarray(505_000);
    peer.send(pDataOf([pdv(1, cStoreRq(21, StorageSopClass.CTImage, '2.25.61'), true)]));
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    await writeAll(peer, [...oneBytePdus(1, head, false, false), pDataOf([pdv(1, middle, false, false)]), ...oneBytePdus(1, tail.subarray(0, -1), false, false)]);
    // Until the SCP has read all of it: the peer's writes are done once the kernel took them.
    await until(() => memory.held === dataSet.length - 1, 30_000);
    gc();
    const retained = process.memoryUsage().heapUsed - heapBefore;
    expect(retained, `${(retained / 1e6).toFixed(1)} MB of heap retained for 1 MB of data set`).to.be.below(30e6);
    peer.send(pDataOf([pdv(1, tail.subarray(-1), false, true)]));
    const rsp = await peer.next(20_000);
    expect(commandElement(rsp!.body.subarray(6), 0x0900)?.readUInt16LE(0)).to.equal(0x0000);
    expect(ctx.ingest.received.length).to.equal(before + 1);
    expect(ctx.ingest.received[before].bytes.equals(dataSet)).to.equal(true);
    await peer.release();
  });
});

describe('gateway/dimse Fragments', () => {
  it('joins fragments of any mix of lengths in order, keeping a lone fragment as the view it is', () => {
    let seed = 0x2545f491;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const fragments = new Fragments();
      const parts: Buffer[] = [];
      for (let i = random(60); i >= 0; i--) {
        const length = [0, 1, 2, 7, 1023, 1024, 3000, 70_000][random(8)];
        const part = Buffer.alloc(length);
        for (let j = 0; j < length; j++) part[j] = random(256);
        parts.push(part);
        fragments.add(part);
      }
      const joined = fragments.bytes();
      expect(joined.equals(Buffer.concat(parts)), `round ${round}`).to.equal(true);
      expect(fragments.length).to.equal(joined.length);
    }
    const lone = Buffer.from([1, 2, 3]);
    const one = new Fragments();
    one.add(lone);
    expect(one.bytes()).to.equal(lone);
  });
});
