import { expect } from 'chai';
import { HeldInstance, ReceiveMemory } from '../../../gateway/ingest/index.js';
import { MetricsRegistry, watchReceiveMemory } from '../../../gateway/metrics/index.js';
import { parseExposition } from './exposition-parser.js';

describe('gateway/metrics the receivers’ shared memory', () => {
  it('is read at each scrape: bytes held, the limit, and the instances refused for want of room', () => {
    const registry = new MetricsRegistry();
    const memory = new ReceiveMemory(1000);
    watchReceiveMemory(registry, memory);
    const value = (name: string) => parseExposition(registry.render()).get(name)!.samples[0].value;
    expect([value('limen_receive_memory_bytes'), value('limen_receive_memory_limit_bytes'), value('limen_receive_memory_refused_total')]).to.deep.equal([0, 1000, 0]);

    const first = new HeldInstance(memory);
    expect(first.hold(800)).to.equal(true);
    const second = new HeldInstance(memory);
    expect(second.hold(300)).to.equal(false);
    expect(second.hold(10)).to.equal(false); // refused once, counted once
    const third = new HeldInstance(memory);
    expect(third.hold(200)).to.equal(true);
    expect([value('limen_receive_memory_bytes'), value('limen_receive_memory_refused_total')]).to.deep.equal([1000, 1]);

    first.release();
    third.release();
    third.release();
    // Alone, an instance fits whatever its size.
    const large = new HeldInstance(memory);
    expect(large.hold(5000)).to.equal(true);
    expect([value('limen_receive_memory_bytes'), value('limen_receive_memory_refused_total')]).to.deep.equal([5000, 1]);
    large.release();
    expect(value('limen_receive_memory_bytes')).to.equal(0);
  });
});
