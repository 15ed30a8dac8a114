/**
 * The C-STORE data set exactly as it arrived: PDV fragments kept as views into the PDUs (tiny ones
 * copied together, see `Fragments`) and joined once, so the bytes reach the ingest untouched (no
 * parsing, no re-encoding).
 */
import { HeldInstance, type ReceiveMemory } from '../ingest/receive-memory.js';

/**
 * Fragments shorter than this are copied into a shared block rather than kept as views. A view
 * costs the heap about 150 bytes whatever its length, so a requestor fragmenting its data set (or
 * command) into one-byte PDVs, which PS3.8 allows, made every byte counted against the size and
 * memory limits cost some 150 bytes of heap: 5 MB sent that way took 780 MB. A sender's ordinary
 * fragments (its maximum PDU length, 4 KiB or more) stay views, and so does a small fragment alone
 * (a command in one PDV, the end of a data set): only a run of two or more is copied.
 */
const SMALL_FRAGMENT = 1024;
/** The block small fragments are copied into. */
const BLOCK_SIZE = 64 * 1024;

/** Fragments in order: large ones as the views they are, runs of small ones copied together. */
export class Fragments {
  private readonly chunks: Buffer[] = [];
  /** A small fragment not followed by another yet: kept as it is until one comes. */
  private lone: Buffer | undefined;
  private block: Buffer | undefined;
  /** Where the run of small fragments not yet in `chunks` starts and ends in `block`. */
  private runStart = 0;
  private runEnd = 0;
  /** Bytes added. */
  length = 0;

  add(fragment: Buffer): void {
    this.length += fragment.length;
    if (fragment.length === 0) return;
    if (fragment.length >= SMALL_FRAGMENT) {
      this.endRun();
      this.chunks.push(fragment);
      return;
    }
    if (this.lone === undefined && this.runEnd === this.runStart) {
      this.lone = fragment;
      return;
    }
    if (this.lone) {
      const lone = this.lone;
      this.lone = undefined;
      this.append(lone);
    }
    this.append(fragment);
  }

  private append(fragment: Buffer): void {
    if (!this.block || this.runEnd + fragment.length > this.block.length) {
      this.endRun();
      this.block = Buffer.allocUnsafe(BLOCK_SIZE);
      this.runStart = this.runEnd = 0;
    }
    fragment.copy(this.block, this.runEnd);
    this.runEnd += fragment.length;
  }

  /** The bytes, in one buffer (a view when they came as one fragment). */
  bytes(): Buffer {
    this.endRun();
    return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length);
  }

  /** Forgets everything added. */
  clear(): void {
    this.chunks.length = 0;
    this.lone = undefined;
    this.block = undefined;
    this.runStart = this.runEnd = 0;
    this.length = 0;
  }

  private endRun(): void {
    if (this.lone) {
      this.chunks.push(this.lone);
      this.lone = undefined;
    }
    if (this.block && this.runEnd > this.runStart) this.chunks.push(this.block.subarray(this.runStart, this.runEnd));
    this.runStart = this.runEnd;
  }
}

export class DataSetCollector {
  private readonly fragments = new Fragments();
  private size = 0;
  private readonly held: HeldInstance;
  /**
   * Why the rest is dropped as it arrives instead of buffered: more than `maxBytes`, or more
   * than the receivers' shared memory has room for now.
   */
  overflowed: 'too-large' | 'no-memory' | undefined;

  constructor(
    private readonly maxBytes: number,
    memory?: ReceiveMemory,
  ) {
    this.held = new HeldInstance(memory);
  }

  add(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.overflowed) return;
    if (this.size > this.maxBytes) this.overflowed = 'too-large';
    else if (!this.held.hold(chunk.length)) this.overflowed = 'no-memory';
    else return void this.fragments.add(chunk);
    this.fragments.clear();
    this.held.release();
  }

  /** Bytes held now: none once it overflowed. */
  get heldBytes(): number {
    return this.overflowed ? 0 : this.size;
  }

  /** The data set bytes, in one buffer. */
  bytes(): Buffer {
    return this.fragments.bytes();
  }

  /** Gives the memory back: once the instance is answered, or its association ended first. */
  release(): void {
    this.held.release();
  }
}
