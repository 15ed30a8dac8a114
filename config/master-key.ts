import { inspect } from 'node:util';
import { z } from 'zod';

/** Master key length: it wraps AES-256-GCM study keys. */
export const MASTER_KEY_BYTES = 32;
/** Where the development master key is generated when none is configured (in the data dir). */
export const GENERATED_MASTER_KEY_FILENAME = 'master.key';

/**
 * Key bytes that stay out of logs: JSON, `util.inspect` and string conversion all show
 * `[secret]`. `bytes()` returns a copy, so no holder can alter the key for the others.
 */
export class SecretKey {
  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.#bytes = Uint8Array.from(bytes);
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }

  toJSON(): string {
    return '[secret]';
  }

  toString(): string {
    return '[secret]';
  }

  [inspect.custom](): string {
    return 'SecretKey [secret]';
  }
}

/**
 * Reads a master key written as text: 64 hexadecimal digits, or base64 (standard or URL-safe)
 * of 32 bytes. Surrounding whitespace (a key file's final newline) is ignored. The same form
 * serves `LIMEN_MASTER_KEY` and a key file.
 */
export function decodeMasterKey(text: string): Uint8Array | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Uint8Array.from(Buffer.from(t, 'hex'));
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) {
    const bytes = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === MASTER_KEY_BYTES) return Uint8Array.from(bytes);
  }
  return undefined;
}

/**
 * Where the master key comes from. `generated`: nothing was configured; storage creates the
 * key file on first start and warns, which suits development only.
 */
export type MasterKeyConfig =
  | { source: 'file'; file: string }
  | { source: 'env'; variable: 'LIMEN_MASTER_KEY'; key: SecretKey }
  | { source: 'generated'; file: string };

/** The `masterKey` section as written: a key file, or nothing. The key itself never goes in the file. */
export const masterKeySchema = z.strictObject({
  file: z.string().min(1).optional(),
});
