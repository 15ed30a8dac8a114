import { expect } from 'chai';
import { PduGuard } from '../../../gateway/dimse/pdu-guard.js';

const limits = { maxAssociateRequestLength: 1 << 20, maxPDataLength: 16384 };

function header(type: number, length: number): Buffer {
  const b = Buffer.alloc(6);
  b[0] = type;
  b.writeUInt32BE(length, 2);
  return b;
}

describe('gateway/dimse PduGuard', () => {
  it('follows PDUs split at any byte and skips their bodies', () => {
    const guard = new PduGuard(limits);
    const rq = Buffer.concat([header(0x01, 100), Buffer.alloc(100, 0xff)]);
    for (const byte of rq) expect(guard.feed(Buffer.from([byte]))).to.equal(undefined);
    expect(guard.state).to.equal('negotiating');
    guard.established();
    // Two P-DATA PDUs and a release request in one chunk; bodies full of bytes that look like headers.
    const chunk = Buffer.concat([header(0x04, 20), Buffer.alloc(20, 0x01), header(0x04, 16384), Buffer.alloc(16384, 0x07), header(0x05, 4), Buffer.alloc(4)]);
    expect(guard.feed(chunk)).to.equal(undefined);
    expect(guard.state).to.equal('releasing');
  });

  it('flags an unknown PDU type as unrecognized (abort reason 1)', () => {
    const violation = new PduGuard(limits).feed(Buffer.from('GET / HTTP/1.1\r\n'));
    expect(violation).to.include({ code: 'unrecognized-pdu', abortReason: 1, pduType: 0x47 });
  });

  it('flags a P-DATA before the association is accepted as unexpected (reason 2)', () => {
    const guard = new PduGuard(limits);
    expect(guard.feed(header(0x04, 10))).to.include({ code: 'unexpected-pdu', abortReason: 2 });
    const negotiating = new PduGuard(limits);
    negotiating.feed(Buffer.concat([header(0x01, 68), Buffer.alloc(68)]));
    expect(negotiating.feed(header(0x04, 10))).to.include({ code: 'unexpected-pdu' });
  });

  it('flags lengths outside the limits (reason 6): a huge associate request, a P-DATA over the announced maximum', () => {
    expect(new PduGuard(limits).feed(header(0x01, 0x7fffffff))).to.include({ code: 'invalid-pdu-length', abortReason: 6 });
    expect(new PduGuard(limits).feed(header(0x01, 10))).to.include({ code: 'invalid-pdu-length' });
    const guard = new PduGuard(limits);
    guard.feed(Buffer.concat([header(0x01, 68), Buffer.alloc(68)]));
    guard.established();
    expect(guard.feed(header(0x04, 16385))).to.include({ code: 'invalid-pdu-length', length: 16385 });
  });

  it('refuses a second associate request and anything after a release request', () => {
    const guard = new PduGuard(limits);
    guard.feed(Buffer.concat([header(0x01, 68), Buffer.alloc(68)]));
    guard.established();
    expect(guard.feed(header(0x01, 68))).to.include({ code: 'unexpected-pdu' });
    const releasing = new PduGuard(limits);
    releasing.feed(Buffer.concat([header(0x01, 68), Buffer.alloc(68)]));
    releasing.established();
    releasing.feed(Buffer.concat([header(0x05, 4), Buffer.alloc(4)]));
    expect(releasing.feed(header(0x04, 10))).to.include({ code: 'unexpected-pdu' });
  });

  it('accepts an A-ABORT at any time and expects nothing after it', () => {
    const guard = new PduGuard(limits);
    expect(guard.feed(Buffer.concat([header(0x07, 4), Buffer.alloc(4)]))).to.equal(undefined);
    expect(guard.state).to.equal('closed');
  });
});
