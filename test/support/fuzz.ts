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

/**
 * Pieces of a URL that no UID, keyword or number holds, percent-encoded as a client sends them:
 * control bytes, a byte that is no UTF-8, characters beyond Latin-1 (a line separator, a snowman,
 * an emoji), encodings that are broken, dot segments, reserved characters and markup.
 */
export const ODD_URL_PIECES: readonly string[] = [
  '%00', '%0A', '%0D%0A', '%09', '%20', '%22', '%5C', '%7F', '%FF', '%C3%A9', '%E2%80%A8', '%E2%98%83', '%F0%9F%A9%BB',
  '%25', '%2F', '%3F', '%23', '%ZZ', '%', '..', '%2E%2E', '*', '?', '%3Cscript%3E',
];
