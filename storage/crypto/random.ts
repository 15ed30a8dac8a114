/**
 * Random bytes for what every stored instance needs a few of (a blob's nonce and name, the
 * vault record's nonce, a temporary file's name), drawn from a pool refilled 4 KiB at a time.
 * Each `crypto.randomBytes` call makes a job object and a trip into OpenSSL's generator:
 * 5 µs in a loop, 20–40 µs amid the store path's work on this machine, three or four times per
 * instance. Node's own `randomUUID` keeps such a cache. Every byte is handed out once, so
 * nonces stay unique; a refill is a new buffer, so bytes already handed out never change.
 */
import { randomBytes, randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;

let pool = Buffer.alloc(0);
let taken = 0;

/** `n` bytes from the operating system's CSPRNG (through OpenSSL), as a view nobody else holds. */
export function pooledRandomBytes(n: number): Buffer {
  if (n > POOL_BYTES / 8) return randomBytes(n);
  if (taken + n > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafeSlow(POOL_BYTES));
    taken = 0;
  }
  const out = pool.subarray(taken, taken + n);
  taken += n;
  return out;
}
