import { expect } from 'chai';
import { pooledRandomBytes } from '../../storage/crypto/random.js';

describe('storage: pooled random bytes', () => {
  it('hands every byte out once and never changes bytes already handed out when the pool refills', () => {
    const taken = Array.from({ length: 2000 }, (_, i) => pooledRandomBytes(i % 2 ? 12 : 16));
    const copies = taken.map((b) => Buffer.from(b));
    pooledRandomBytes(16);
    taken.forEach((b, i) => expect(b.equals(copies[i]), `value ${i}`).to.equal(true));
    expect(new Set(copies.map((b) => b.toString('hex'))).size).to.equal(taken.length);
    // Views of one pool never overlap.
    const byPool = new Map<ArrayBufferLike, Array<[number, number]>>();
    for (const b of taken) byPool.set(b.buffer, [...(byPool.get(b.buffer) ?? []), [b.byteOffset, b.byteOffset + b.length]]);
    expect(byPool.size).to.be.greaterThan(1);
    for (const ranges of byPool.values()) {
      ranges.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).to.be.at.least(ranges[i - 1][1]);
    }
  });

  it('gives a large request bytes of its own, not a view of the pool', () => {
    const big = pooledRandomBytes(2048);
    expect(big.length).to.equal(2048);
    expect([big.byteOffset, big.buffer.byteLength]).to.deep.equal([0, 2048]);
  });
});
