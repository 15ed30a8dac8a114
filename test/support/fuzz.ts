/**
 * The seeded randomness of the fuzz suites: xorshift32 (Marsaglia), small and the same everywhere,
 * and one stream per case, so that a failing case replays alone from its run's seed and number.
 */
export class XorShift32 {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  next(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    return (this.state = x >>> 0);
  }

  /** 0 to n-1 (0 when n is not positive). */
  int(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }

  /** lo to hi, both included. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** A non-zero XOR mask for a byte. */
  mask(): number {
    return 1 + this.int(255);
  }
}

/** A case's own seed, from its run's seed and its number (a splitmix-style finaliser). */
export function caseSeed(seed: number, index: number): number {
  let x = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}
