/**
 * Multi-frame instances decrypted lately. A viewer asks for the frames of an Enhanced CT or a
 * SEG one request at a time; without this each request would decrypt and parse the whole
 * instance again (a 300-frame CT is 150 MB). Bounded in bytes and in time, owned by one set of
 * routes; a hit is only served while storage still lists the instance (see `wado.ts`).
 */
import type { dicom } from '../../anonymizer/index.js';
import type { InstanceBlob } from '../../storage/index.js';

export interface CachedInstance {
  blob: InstanceBlob;
  parsed: dicom.ParsedInstance;
}

export interface InstanceCacheOptions {
  /** Largest total of cached instance bytes. Default 512 MiB. */
  maxBytes?: number;
  /** How long an entry may be served. Default 10 s. */
  ttlMs?: number;
  now?: () => number;
}

export const DEFAULT_INSTANCE_CACHE_BYTES = 512 * 1024 * 1024;
export const DEFAULT_INSTANCE_CACHE_TTL_MS = 10_000;

export class InstanceCache {
  private readonly entries = new Map<string, CachedInstance & { at: number }>();
  private bytes = 0;
  private readonly maxBytes: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: InstanceCacheOptions = {}) {
    this.maxBytes = options.maxBytes ?? DEFAULT_INSTANCE_CACHE_BYTES;
    this.ttlMs = options.ttlMs ?? DEFAULT_INSTANCE_CACHE_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  get(sopInstanceUID: string): CachedInstance | undefined {
    const hit = this.entries.get(sopInstanceUID);
    if (!hit) return undefined;
    if (this.now() - hit.at > this.ttlMs) {
      this.delete(sopInstanceUID);
      return undefined;
    }
    // Most recently used last, so eviction takes the oldest first.
    this.entries.delete(sopInstanceUID);
    this.entries.set(sopInstanceUID, hit);
    return hit;
  }

  set(entry: CachedInstance): void {
    const size = entry.blob.bytes.length;
    if (size > this.maxBytes / 2) return;
    this.delete(entry.blob.sopInstanceUID);
    for (const key of this.entries.keys()) {
      if (this.bytes + size <= this.maxBytes) break;
      this.delete(key);
    }
    this.entries.set(entry.blob.sopInstanceUID, { ...entry, at: this.now() });
    this.bytes += size;
  }

  delete(sopInstanceUID: string): void {
    const hit = this.entries.get(sopInstanceUID);
    if (!hit) return;
    this.entries.delete(sopInstanceUID);
    this.bytes -= hit.blob.bytes.length;
  }
}
