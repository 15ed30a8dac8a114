/** The multi-frame instance cache: bounded in bytes, most recently used kept, entries expire. */
import { expect } from 'chai';
import { InstanceCache } from '../../../gateway/dicomweb/instance-cache.js';
import type { dicom } from '../../../anonymizer/index.js';
import type { InstanceBlob } from '../../../storage/index.js';

const entry = (sop: string, size: number) => ({
  blob: { sopInstanceUID: sop, bytes: Buffer.alloc(size) } as InstanceBlob,
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

  it('serves an entry only within its time to live', () => {
    let now = 0;
    const cache = new InstanceCache({ ttlMs: 1000, now: () => now });
    cache.set(entry('a', 10));
    now = 1000;
    expect(cache.get('a')).to.not.equal(undefined);
    now = 2001;
    expect(cache.get('a')).to.equal(undefined);
  });
});
