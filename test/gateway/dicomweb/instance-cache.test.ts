/** The decrypted instance cache: bounded in bytes, most recently used kept, entries expire, hits checked against the listing. */
import { expect } from 'chai';
import { InstanceCache, matchesListing } from '../../../gateway/dicomweb/instance-cache.js';
import type { dicom } from '../../../anonymizer/index.js';
import type { InstanceBlob, InstanceInfo } from '../../../storage/index.js';

const info = (sop: string, size: number, over: Partial<InstanceInfo> = {}): InstanceInfo => ({
  sopInstanceUID: sop,
  seriesInstanceUID: '1.2.3.2',
  studyInstanceUID: '1.2.3.1',
  sopClassUID: '1.2.840.10008.5.1.4.1.1.2',
  transferSyntaxUID: '1.2.840.10008.1.2.1',
  instanceNumber: 1,
  sizeBytes: size,
  receivedAt: new Date(1_000),
  attributes: {},
  ...over,
});

const entry = (sop: string, size: number) => ({
  blob: { ...info(sop, size), bytes: Buffer.alloc(size) } as InstanceBlob,
  parsed: {} as dicom.ParsedInstance,
});

describe('gateway/dicomweb instance cache', () => {
  it('keeps what fits, evicting the least recently used first', () => {
    const cache = new InstanceCache({ maxBytes: 100 });
    cache.set(entry('a', 40));
    cache.set(entry('b', 40));
    expect(cache.get('a')).to.not.equal(undefined); // a is now the most recent
    cache.set(entry('c', 40));
    expect([cache.get('a'), cache.get('b'), cache.get('c')].map(Boolean)).to.deep.equal([true, false, true]);
    cache.set(entry('huge', 60)); // more than half the budget: never cached
    expect(cache.get('huge')).to.equal(undefined);
  });

  it('never holds more bytes than its budget, however many instances go through it', () => {
    const cache = new InstanceCache({ maxBytes: 1000 });
    let seen = 0;
    for (let i = 0; i < 500; i++) {
      cache.set(entry(`1.2.${i}`, 17 + ((i * 37) % 300)));
      seen = Math.max(seen, cache.bytes);
    }
    expect(seen).to.be.at.most(1000);
    expect(cache.bytes).to.be.greaterThan(0);
    // Replacing an entry counts it once.
    cache.clear();
    cache.set(entry('a', 100));
    cache.set(entry('a', 100));
    expect([cache.size, cache.bytes]).to.deep.equal([1, 100]);
    cache.delete('a');
    expect([cache.size, cache.bytes]).to.deep.equal([0, 0]);
  });

  it('holds nothing with a budget of 0', () => {
    const cache = new InstanceCache({ maxBytes: 0 });
    cache.set(entry('a', 1));
    expect([cache.get('a'), cache.size, cache.bytes]).to.deep.equal([undefined, 0, 0]);
  });

  it('serves an entry only within its time to live from decryption, however often it is hit', () => {
    let now = 0;
    const cache = new InstanceCache({ ttlMs: 1000, now: () => now });
    cache.set(entry('a', 10));
    now = 1000;
    expect(cache.get('a')).to.not.equal(undefined);
    now = 2001;
    expect(cache.get('a')).to.equal(undefined);
    expect(cache.bytes).to.equal(0);
  });

  it('drops expired entries from memory without being asked for them', async () => {
    let now = 0;
    const cache = new InstanceCache({ ttlMs: 20, now: () => now });
    cache.set(entry('a', 10));
    cache.set(entry('b', 10));
    now = 15;
    cache.set(entry('c', 10));
    now = 21;
    cache.sweep();
    expect([cache.size, cache.bytes]).to.deep.equal([1, 10]);
    // The timer sweeps too: c expires and goes, though nobody asks for it.
    now = 100;
    await new Promise((r) => setTimeout(r, 60));
    expect([cache.size, cache.bytes]).to.deep.equal([0, 0]);
  });

  it('matches an entry only to the listing it was decrypted from', () => {
    const e = entry('a', 10);
    expect(matchesListing(e, info('a', 10))).to.equal(true);
    expect(matchesListing(e, info('a', 11))).to.equal(false);
    expect(matchesListing(e, info('a', 10, { receivedAt: new Date(2_000) }))).to.equal(false);
    expect(matchesListing(e, info('a', 10, { seriesInstanceUID: '1.2.3.9' }))).to.equal(false);
    expect(matchesListing(e, info('b', 10))).to.equal(false);
  });
});
