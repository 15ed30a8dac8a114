/**
 * The C-STORE data set exactly as it arrived. dcmjs-dimse would parse and re-encode it
 * (losing private tags, rewriting values); these two pieces replace its store-stream hooks
 * so the bytes reach the ingest untouched.
 */
import { Writable } from 'node:stream';
import { Dataset } from './dcmjs-dimse.js';

/**
 * Collects the PDV fragments of one data set. `write()` must never report back-pressure:
 * dcmjs-dimse then awaits 'drain' in the middle of a PDU, and the PDUs behind it are
 * processed out of order.
 */
export class DataSetCollector extends Writable {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  /** Set once more than `maxBytes` arrived; the rest is dropped, not buffered. */
  overflowed = false;

  constructor(private readonly maxBytes: number) {
    super({ highWaterMark: 2 ** 30 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.overflowed) {
      if (this.size + chunk.length > this.maxBytes) {
        this.overflowed = true;
        this.chunks.length = 0;
      } else {
        this.chunks.push(chunk);
      }
    }
    this.size += chunk.length;
    callback();
  }

  /** The data set bytes, in one buffer. */
  bytes(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
  }
}

/**
 * Stands in for dcmjs-dimse's parsed Dataset on a C-STORE request: it carries the raw bytes
 * and the transfer syntax they are encoded in, and no parsed elements.
 */
export class ReceivedDataSet extends Dataset {
  constructor(
    readonly bytes: Buffer,
    transferSyntaxUID: string,
    /** False when more bytes arrived than the node accepts; `bytes` is then empty. */
    readonly complete: boolean,
    /** The presentation context the data set came on. */
    readonly presentationContext: { accepted: boolean; abstractSyntaxUID: string },
  ) {
    super({}, transferSyntaxUID);
  }
}
