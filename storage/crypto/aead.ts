/**
 * AES-256-GCM with a random 96-bit nonce, and HKDF-SHA-256 to derive one subkey per purpose
 * from a study's data key, so blobs, vault records and wrapped keys never share a key and a
 * ciphertext made for one purpose cannot be replayed as another.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { pooledRandomBytes } from './random.js';

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

/** Version byte of the sealed-value format: version ‖ nonce ‖ ciphertext ‖ tag. */
const SEALED_V1 = 1;

/** What a subkey is for; part of the HKDF info string. */
export type KeyPurpose = 'blob' | 'vault' | 'key-wrap' | 'key-check' | 'audit';

/** Derives the 32-byte subkey of `key` for one purpose. */
export function deriveKey(key: Uint8Array, purpose: KeyPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `limen ${purpose} v1`, KEY_BYTES));
}

/** A fresh random 32-byte key. */
export function randomKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Encrypts `plaintext` and returns ciphertext ‖ tag; `aad` is authenticated, not stored. */
export function encrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  return Buffer.concat([...encryptChunks(key, nonce, plaintext, aad, Math.max(plaintext.length, 1))]);
}

/**
 * Like `encrypt`, as pieces made one at a time (ciphertext of each `chunkBytes` of plaintext,
 * then the tag), for a writer that writes them as they are (one `writev`): no buffer the size of
 * the whole ciphertext is allocated or joined.
 */
export function* encryptChunks(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, chunkBytes: number): Generator<Buffer> {
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  for (let at = 0; at < plaintext.length; at += chunkBytes) yield cipher.update(plaintext.subarray(at, at + chunkBytes));
  const rest = cipher.final();
  if (rest.length > 0) yield rest;
  yield cipher.getAuthTag();
}

/** Decrypts ciphertext ‖ tag; returns null when authentication fails (never partial plaintext). */
export function decrypt(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer | null {
  if (sealed.length < TAG_BYTES) return null;
  const body = sealed.subarray(0, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    return null;
  }
}

/** Seals a small value for a database column: version ‖ nonce ‖ ciphertext ‖ tag. */
export function seal(key: Uint8Array, plaintext: Uint8Array, context: string): Buffer {
  const nonce = pooledRandomBytes(NONCE_BYTES);
  return Buffer.concat([Buffer.of(SEALED_V1), nonce, encrypt(key, nonce, plaintext, Buffer.from(context, 'utf8'))]);
}

/** Opens a value made by `seal` under the same key and context; null when it does not authenticate. */
export function unseal(key: Uint8Array, sealed: Uint8Array, context: string): Buffer | null {
  if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES || sealed[0] !== SEALED_V1) return null;
  const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
  return decrypt(key, nonce, sealed.subarray(1 + NONCE_BYTES), Buffer.from(context, 'utf8'));
}
