import { expect } from 'chai';
import { CommandField, CommandSetError, encodeResponse, NO_DATA_SET, parseRequest } from '../../../gateway/dimse/command-set.js';
import { commandPdus, PDataError, Pdu, PduFramer, readPdvs } from '../../../gateway/dimse/pdata.js';
import { commandSet, cStoreRq } from './raw-pdu.js';

describe('gateway/dimse command sets and P-DATA', () => {
  it('reads a C-STORE-RQ and answers it with a response that echoes its identifiers', () => {
    const rq = parseRequest(cStoreRq(7, '1.2.840.10008.5.1.4.1.1.2', '1.2.3.45'));
    expect(rq).to.deep.equal({ commandField: 1, messageID: 7, affectedSOPClassUID: '1.2.840.10008.5.1.4.1.1.2', affectedSOPInstanceUID: '1.2.3.45', hasDataSet: true });
    expect(parseRequest(commandSet([[0x0100, 'US', CommandField.CEchoRQ], [0x0110, 'US', 1], [0x0800, 'US', NO_DATA_SET]])).hasDataSet).to.equal(false);

    const rsp = encodeResponse(rq, { status: 0xc000, errorComment: 'not a CT' });
    const back = new Map<number, Buffer>();
    for (let o = 0; o < rsp.length; ) {
      const tag = (rsp.readUInt16LE(o) << 16) | rsp.readUInt16LE(o + 2);
      const len = rsp.readUInt32LE(o + 4);
      back.set(tag, rsp.subarray(o + 8, o + 8 + len));
      o += 8 + len;
    }
    expect(back.get(0x0000)!.readUInt32LE()).to.equal(rsp.length - 12);
    expect(back.get(0x0100)!.readUInt16LE()).to.equal(0x8001);
    expect(back.get(0x0120)!.readUInt16LE()).to.equal(7);
    expect(back.get(0x0800)!.readUInt16LE()).to.equal(NO_DATA_SET);
    expect(back.get(0x0900)!.readUInt16LE()).to.equal(0xc000);
    expect(back.get(0x0902)!.toString('latin1')).to.equal('not a CT');
    expect(back.get(0x0002)!.toString('latin1')).to.equal('1.2.840.10008.5.1.4.1.1.2\0');
    expect(back.get(0x1000)!.toString('latin1')).to.equal('1.2.3.45');
    for (const v of back.values()) expect(v.length % 2).to.equal(0);
  });

  it('refuses what is not a request command set, saying why', () => {
    expect(() => parseRequest(Buffer.from([0, 0, 0, 1, 4, 0, 0, 0]))).to.throw(CommandSetError, /runs past its end/);
    expect(() => parseRequest(Buffer.from([8, 0, 0x18, 0, 0, 0, 0, 0]))).to.throw(CommandSetError, /not in the command group/);
    expect(() => parseRequest(Buffer.from([0, 0, 0x00, 1, 2, 0, 0, 0, 1, 0]))).to.throw(CommandSetError, /Message ID/);
  });

  it('frames PDUs split at any byte, and reads their PDVs', () => {
    const command = cStoreRq(1, '1.2.840.10008.5.1.4.1.1.2', '1.2.3');
    const pdus = [...commandPdus(3, command, 64), ...commandPdus(5, command, 0)];
    expect(pdus).to.have.length(Math.ceil(command.length / 58) + 1);
    const stream = Buffer.concat(pdus);
    for (const step of [1, 5, 7, 64, stream.length]) {
      const framer = new PduFramer();
      const out: Pdu[] = [];
      // An empty read (a socket may deliver one) between every two changes nothing.
      for (let o = 0; o < stream.length; o += step) out.push(...framer.push(stream.subarray(o, o + step)), ...framer.push(Buffer.alloc(0)));
      expect(out.map((p) => p.bytes().toString('hex'))).to.deep.equal(pdus.map((b) => b.toString('hex')));
      // Every PDV read from the reads as they came, whatever byte they were split at.
      expect(out.flatMap((p) => readPdvs(p)).map((v) => Buffer.concat(v.value).toString('hex'))).to.deep.equal(
        pdus.flatMap((p) => readPdvs(new Pdu([p], p.length))).map((v) => Buffer.concat(v.value).toString('hex')),
      );
    }
    const pdvs = pdus.flatMap((p) => readPdvs(new Pdu([p], p.length)));
    expect(pdvs.every((p) => p.command)).to.equal(true);
    expect(pdvs.map((p) => p.last)).to.deep.equal([...pdvs.slice(0, -2).map(() => false), true, true]);
    const first = pdvs.filter((p) => p.presentationContextID === 3);
    expect(Buffer.concat(first.flatMap((p) => p.value)).equals(command)).to.equal(true);
    expect(pdus.slice(0, -1).every((p) => p.readUInt32BE(2) <= 64)).to.equal(true);
  });

  it('refuses a PDV that does not fit its PDU', () => {
    const bad = Buffer.from([4, 0, 0, 0, 0, 8, 0, 0, 0, 9, 1, 3, 0, 0]);
    expect(() => readPdvs(new Pdu([bad], bad.length))).to.throw(PDataError, /does not fit/);
  });

  it('keeps a data set fragment that spans reads as views of them, not a copy', () => {
    // One P-DATA-TF with two PDVs (a data set's middle and last fragments), read in pieces that split both PDV headers.
    const a = Buffer.alloc(1000, 0xaa);
    const b = Buffer.alloc(300, 0xbb);
    const pdu = Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0]), pdvItem(1, 0x00, a), pdvItem(1, 0x02, b)]);
    pdu.writeUInt32BE(pdu.length - 6, 2);
    const reads = [pdu.subarray(0, 8), pdu.subarray(8, 500), pdu.subarray(500, 1014), pdu.subarray(1014)];
    const framer = new PduFramer();
    const out = reads.flatMap((r) => framer.push(Buffer.from(r)));
    expect(out).to.have.length(1);
    const [first, second] = readPdvs(out[0]);
    expect(first).to.include({ presentationContextID: 1, command: false, last: false });
    expect(second).to.include({ presentationContextID: 1, command: false, last: true });
    expect(Buffer.concat(first.value).equals(a)).to.equal(true);
    expect(Buffer.concat(second.value).equals(b)).to.equal(true);
    // Views of the reads the framer was given: the bytes were not copied to be framed.
    const readBuffers = new Set(out[0].parts.map((p) => p.buffer));
    expect(first.value).to.have.length(2);
    expect([...first.value, ...second.value].every((v) => readBuffers.has(v.buffer))).to.equal(true);
  });
});

function pdvItem(contextID: number, control: number, value: Buffer): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt32BE(value.length + 2, 0);
  header[4] = contextID;
  header[5] = control;
  return Buffer.concat([header, value]);
}
