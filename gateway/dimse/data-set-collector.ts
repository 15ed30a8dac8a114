/**
 * The C-STORE data set exactly as it arrived: PDV fragments kept as views into the PDUs and
 * joined once, so the bytes reach the ingest untouched (no parsing, no re-encoding).
 */
import { HeldInstance, type ReceiveMemory } from '../ingest/receive-memory.js';

export class DataSetCollector {
  private readonly chunks: Buffer[] = [];
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
    else return void this.chunks.push(chunk);
    this.chunks.length = 0;
    this.held.release();
  }

  /** Bytes held now: none once it overflowed. */
  get heldBytes(): number {
    return this.overflowed ? 0 : this.size;
  }

  /** The data set bytes, in one buffer. */
  bytes(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
  }

  /** Gives the memory back: once the instance is answered, or its association ended first. */
  release(): void {
    this.held.release();
  }
}
