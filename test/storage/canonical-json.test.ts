import { expect } from 'chai';
import { canonicalJSON } from '../../storage/canonical-json.js';

describe('storage: canonical JSON', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJSON({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).to.equal('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
  });

  it('gives the same text whatever order keys were inserted in', () => {
    expect(canonicalJSON({ x: 1, y: 'é' })).to.equal(canonicalJSON({ y: 'é', x: 1 }));
  });

  it('refuses values JSON cannot hold', () => {
    expect(() => canonicalJSON({ n: Number.NaN })).to.throw(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJSON(cyclic)).to.throw(TypeError);
  });
});
