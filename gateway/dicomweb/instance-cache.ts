/**
 * Instances decrypted lately, parsed, for metadata, frames and bulk data. A viewer reads a series'
 * metadata (every instance decrypted and parsed) and then asks for each instance's frames, one
 * request per slice, or frame by frame for a multi-frame instance (an Enhanced CT, a SEG): without
 * this each of those requests would read, decrypt and parse its whole instance again.
 *
 * It holds only what storage already authenticated on decryption (de-identified instances), in
 * memory only, never written anywhere. Bounded in bytes (the least recently used go first) and in
 * time: an entry is served at most `ttlMs` after it was decrypted (and dropped from memory by a
 * sweep at most `ttlMs` later), and only while storage still lists the instance as it was when
 * decrypted (`matchesListing`), so a removed or replaced instance is not served from here. A hit
 * does not ask storage for the study key: a study erased by destroying its key stops being served
 * from here at most `ttlMs` after it was last decrypted.
 * One cache per set of routes; nothing global.
 */
import type { dicom } from '../../anonymizer/index.js';
import type { InstanceBlob, InstanceInfo } from '../../storage/index.js';

export interface CachedInstance {
  blob: InstanceBlob;
  parsed: dicom.ParsedInstance;
}

export interface InstanceCacheOptions {
  /** Largest total of cached instance bytes; 0 turns the cache off. Default 512 MiB. */
  maxBytes?: number;
  /** How long after its decryption an entry may be served. Default 10 s. */
  ttlMs?: number;
  now?: () => number;
}

/** Room for a 300-slice 512×512 CT series (160 MB) three times over. */
export const DEFAULT_INSTANCE_CACHE_BYTES = 512 * 1024 * 1024;
/** Long enough for a viewer to fetch a series' frames after its metadata, short enough to bound staleness. */
export const DEFAULT_INSTANCE_CACHE_TTL_MS = 10_000;

export class InstanceCache {
  /** By SOP Instance UID, least recently used first. */
  private readonly entries = new Map<string, CachedInstance & { at: number }>();
  private total = 0;
  readonly maxBytes: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private sweeper: ReturnType<typeof setTimeout> | undefined;

  constructor(options: InstanceCacheOptions = {}) {
    this.maxBytes = options.maxBytes ?? DEFAULT_INSTANCE_CACHE_BYTES;
    this.ttlMs = options.ttlMs ?? DEFAULT_INSTANCE_CACHE_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /** Instance bytes held now. */
  get bytes(): number {
    return this.total;
  }

  /** Instances held now. */
  get size(): number {
    return this.entries.size;
  }

  /** The entry, unless absent or past its time to live; check it with `matchesListing` before serving it. */
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

  /** Keeps an authenticated, parsed instance; one larger than half the budget is not kept. */
  set(entry: CachedInstance): void {
    const size = entry.blob.bytes.length;
    this.delete(entry.blob.sopInstanceUID);
    if (size > this.maxBytes / 2) return;
    for (const key of this.entries.keys()) {
      if (this.total + size <= this.maxBytes) break;
      this.delete(key);
    }
    this.entries.set(entry.blob.sopInstanceUID, { ...entry, at: this.now() });
    this.total += size;
    this.scheduleSweep();
  }

  /** Drops every entry past its time to live, so decrypted data does not stay in memory unused. */
  sweep(): void {
    const t = this.now();
    for (const [key, e] of this.entries) if (t - e.at > this.ttlMs) this.delete(key);
  }

  delete(sopInstanceUID: string): void {
    const hit = this.entries.get(sopInstanceUID);
    if (!hit) return;
    this.entries.delete(sopInstanceUID);
    this.total -= hit.blob.bytes.length;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }

  /** A sweep every time to live while anything is held; the timer never keeps the process alive. */
  private scheduleSweep(): void {
    if (this.sweeper !== undefined) return;
    this.sweeper = setTimeout(() => {
      this.sweeper = undefined;
      this.sweep();
      if (this.entries.size > 0) this.scheduleSweep();
    }, this.ttlMs + 1);
    this.sweeper.unref();
  }
}

/**
 * True when storage lists the instance as it was when the entry was decrypted: same study and
 * series, same size, same arrival. A series removed and stored again under the same UIDs differs
 * in its arrival time.
 */
export function matchesListing(entry: CachedInstance, info: InstanceInfo): boolean {
  const b = entry.blob;
  return (
    b.sopInstanceUID === info.sopInstanceUID &&
    b.studyInstanceUID === info.studyInstanceUID &&
    b.seriesInstanceUID === info.seriesInstanceUID &&
    b.sizeBytes === info.sizeBytes &&
    b.receivedAt.getTime() === info.receivedAt.getTime()
  );
}
