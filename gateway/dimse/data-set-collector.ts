/**
 * The C-STORE data set exactly as it arrived: PDV fragments kept as views into the PDUs and
 * joined once, so the bytes reach the ingest untouched (no parsing, no re-encoding).
 */
export class DataSetCollector {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  /** Set once more than `maxBytes` arrived; the rest is dropped, not buffered. */
  overflowed = false;

  constructor(private readonly maxBytes: number) {}

  add(chunk: Buffer): void {
    if (!this.overflowed) {
      if (this.size + chunk.length > this.maxBytes) {
        this.overflowed = true;
        this.chunks.length = 0;
      } else {
        this.chunks.push(chunk);
      }
    }
    this.size += chunk.length;
  }

  /** The data set bytes, in one buffer. */
  bytes(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
  }
}
