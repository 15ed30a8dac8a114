import { expect } from 'chai';
import { sayRepeatsOnce } from '../../../gateway/log/repeats.js';

describe('log: a repeated message said once per window', () => {
  it('says the first at once, counts the repeats, and says how many with the next one after the window', () => {
    let t = 0;
    const said: Array<[string, number, string]> = [];
    const say = sayRepeatsOnce((key: string, repeated: number, level: string) => said.push([key, repeated, level]), 30_000, () => t);
    for (let i = 0; i < 90; i++, t += 333) say('Acquire connection error: ECONNREFUSED', 'warn'); // three a second for half a minute
    say('another message', 'error');
    expect(said).to.deep.equal([
      ['Acquire connection error: ECONNREFUSED', 0, 'warn'],
      ['another message', 0, 'error'],
    ]);
    t += 1_000;
    say('Acquire connection error: ECONNREFUSED', 'warn');
    expect(said[2]).to.deep.equal(['Acquire connection error: ECONNREFUSED', 89, 'warn']);
    // Quiet a while: said again at once, with nothing left out.
    t += 120_000;
    say('Acquire connection error: ECONNREFUSED', 'warn');
    expect(said[3]).to.deep.equal(['Acquire connection error: ECONNREFUSED', 0, 'warn']);
  });
});
