/**
 * A streaming reader of `multipart/related` bodies (RFC 2046 §5.1, RFC 2387) for STOW-RS.
 *
 * It pulls the body chunk by chunk and yields one part at a time, reading the next chunk only
 * when the caller asks for the next part: memory holds at most one part plus one delimiter's
 * worth of look-ahead. A part larger than `maxPartBytes` fails as soon as it crosses the limit,
 * without reading the rest of the body.
 *
 * Line ends: delimiters and part headers must end in CRLF, as RFC 2046 requires. LF-only
 * bodies are rejected with a clear error rather than guessed at: a part is binary DICOM, and a
 * delimiter preceded by a bare LF cannot be told from content that happens to end in CR.
 * Tolerated: a preamble before the first delimiter (bounded by `maxPreambleBytes`), the first
 * delimiter at the very start of the body without a leading CRLF, transport padding (spaces,
 * tabs) after a boundary, folded header lines, and an epilogue after the close delimiter.
 *
 * The epilogue is to be ignored (RFC 2046 §5.1.1), so it is not read: the reader ends at the
 * close delimiter, and the caller can answer then, however much (or however slowly) the sender
 * goes on sending after it. Whatever follows is left in the stream for the HTTP server to drain
 * or close.
 */
import { HeldInstance, type ReceiveMemory } from '../ingest/receive-memory.js';

/** Why a body could not be read; `status` is the HTTP status to answer with. */
export type MultipartErrorCode =
  /** No delimiter `--boundary` found (within the preamble limit, or at all). */
  | 'no-boundary'
  /** The body ended (or stopped arriving: the connection broke) before the close delimiter `--boundary--`. */
  | 'truncated'
  /** A boundary line or part header is not what RFC 2046 allows (e.g. LF-only line ends). */
  | 'malformed'
  /** A part's header block is larger than `maxHeaderBytes`. */
  | 'header-too-large'
  /** A part's body is larger than `maxPartBytes`. */
  | 'part-too-large';

export class MultipartError extends Error {
  readonly code: MultipartErrorCode;
  readonly status: 400 | 413;
  /** 1-based index of the part being read when the error happened, if any. */
  readonly part?: number;
  constructor(code: MultipartErrorCode, message: string, part?: number) {
    super(message);
    this.name = 'MultipartError';
    this.code = code;
    this.status = code === 'part-too-large' ? 413 : 400;
    this.part = part;
  }
}

export interface MultipartPart {
  /** 1-based position of the part in the body. */
  index: number;
  /** Header fields by lower-cased name (the last occurrence wins). */
  headers: Map<string, string>;
  /**
   * The part's bytes in an ArrayBuffer of their own (offset 0, exact length), so a consumer
   * that takes `body.buffer` (dcmjs does) sees this part and nothing else.
   */
  body: Uint8Array;
  /**
   * True when the receivers' shared memory had no room for the part: only its first
   * `DROPPED_PART_HEAD_BYTES` are in `body` (enough for its file meta), the rest was dropped.
   */
  dropped: boolean;
  /** Gives the part's share of the receivers' memory back, once it is stored or failed. */
  release(): void;
}

/** What is kept of a part dropped for want of memory: its file meta names the instance that failed. */
export const DROPPED_PART_HEAD_BYTES = 64 * 1024;

export interface MultipartOptions {
  /** The `boundary` parameter of the body's Content-Type (1–70 characters, RFC 2046). */
  boundary: string;
  /** Largest accepted part body, in bytes. */
  maxPartBytes: number;
  /** Largest accepted header block of one part. */
  maxHeaderBytes?: number;
  /** Largest preamble skipped before the first delimiter. */
  maxPreambleBytes?: number;
  /** Shared with the other receivers; absent, only `maxPartBytes` bounds a part. */
  memory?: ReceiveMemory;
}

export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
export const DEFAULT_MAX_PREAMBLE_BYTES = 64 * 1024;
/** Transport padding after a boundary is whitespace only; more than this is not padding. */
const MAX_PADDING_BYTES = 1024;

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/** RFC 2046 bchars: digits, letters and `'()+_,-./:=?` and space (not last). */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

/** True when `boundary` is a valid RFC 2046 boundary. */
export function isValidBoundary(boundary: string): boolean {
  return BOUNDARY.test(boundary);
}

type State = 'preamble' | 'boundary-line' | 'headers' | 'body' | 'epilogue';

/**
 * Reads `body` as multipart/related and yields its parts in order. Throws MultipartError for a
 * body that breaks the format; the caller should stop reading then.
 */
export async function* readMultipart(
  body: ReadableStream<Uint8Array>,
  options: MultipartOptions,
): AsyncGenerator<MultipartPart, void, undefined> {
  if (!isValidBoundary(options.boundary)) {
    throw new MultipartError('malformed', `the boundary parameter "${options.boundary}" is not a valid RFC 2046 boundary`);
  }
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const maxPreambleBytes = options.maxPreambleBytes ?? DEFAULT_MAX_PREAMBLE_BYTES;
  const dashBoundary = Buffer.from(`--${options.boundary}`, 'latin1');
  const delimiter = Buffer.from(`\r\n--${options.boundary}`, 'latin1');

  let state: State = 'preamble';
  let buf: Buffer = Buffer.alloc(0);
  let atStart = true;
  let preambleBytes = 0;
  /** A `--boundary` line seen after a bare LF: the body probably uses LF-only line ends. */
  let bareLfBoundary = false;
  let partIndex = 0;
  let headers = new Map<string, string>();
  let chunks: Buffer[] = [];
  let partBytes = 0;
  /** Of the part's bytes, those kept (all, unless the part is dropped). */
  let keptBytes = 0;
  let held = new HeldInstance(options.memory);
  /** Bytes of the current part's body, kept as views until the part is complete. */
  const addBody = (bytes: Buffer): void => {
    partBytes += bytes.length;
    if (partBytes > options.maxPartBytes) {
      throw new MultipartError('part-too-large', `part ${partIndex} is larger than the limit of ${options.maxPartBytes} bytes`, partIndex);
    }
    if (held.hold(bytes.length)) {
      chunks.push(bytes);
      keptBytes += bytes.length;
      return;
    }
    // No room: only the head is kept (its file meta names the instance that failed), the rest passes by.
    if (keptBytes > DROPPED_PART_HEAD_BYTES) {
      chunks = [Buffer.from(ownCopy(chunks, DROPPED_PART_HEAD_BYTES))];
      keptBytes = DROPPED_PART_HEAD_BYTES;
    } else if (keptBytes < DROPPED_PART_HEAD_BYTES) {
      const head = bytes.subarray(0, DROPPED_PART_HEAD_BYTES - keptBytes);
      chunks.push(head);
      keptBytes += head.length;
    }
  };

  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      let read: ReadableStreamReadResult<Uint8Array>;
      try {
        read = await reader.read();
      } catch {
        // The sender went away, or the connection broke: the body ends here, as a cut-short upload.
        const cut = truncation(state, partIndex, options.boundary);
        throw new MultipartError('truncated', `the body stopped arriving (the connection broke): ${cut.message}`, cut.part);
      }
      const { done, value } = read;
      if (done) break;
      if (!value || value.byteLength === 0) continue;
      const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      if ((state as State) === 'body' && buf.length > 0 && !startsDelimiter(buf, chunk, delimiter)) {
        // What a body read keeps back is a possible start of a delimiter split across reads. When
        // it is not one, it is body, and the new read is used as it is instead of copied behind it.
        addBody(buf);
        buf = chunk;
      } else buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);

      // Consume as much of `buf` as the current state allows; `break` waits for more bytes.
      for (;;) {
        if (state === 'preamble') {
          if (atStart) {
            // The first boundary may open the body without the CRLF that begins a delimiter.
            if (buf.length < dashBoundary.length && dashBoundary.subarray(0, buf.length).equals(buf)) break;
            if (buf.subarray(0, dashBoundary.length).equals(dashBoundary)) {
              buf = buf.subarray(dashBoundary.length);
              atStart = false;
              state = 'boundary-line';
              continue;
            }
            atStart = false;
          }
          const at = buf.indexOf(delimiter);
          if (at >= 0) {
            preambleBytes += at;
            buf = buf.subarray(at + delimiter.length);
            state = 'boundary-line';
          } else {
            const bare = buf.indexOf(dashBoundary);
            if (bare > 0 && buf[bare - 1] === LF) bareLfBoundary = true;
            // Keep only what could be the start of a delimiter split across chunks.
            const keep = Math.min(buf.length, delimiter.length - 1);
            preambleBytes += buf.length - keep;
            buf = buf.subarray(buf.length - keep);
          }
          if (preambleBytes > maxPreambleBytes) {
            if (bareLfBoundary) throw bareLfError();
            throw new MultipartError(
              'no-boundary',
              `no "--${options.boundary}" delimiter in the first ${maxPreambleBytes} bytes of the body`,
            );
          }
          if (state === 'preamble') break;
          continue;
        }

        if (state === 'boundary-line') {
          if (buf.length < 2) break;
          if (buf[0] === DASH && buf[1] === DASH) {
            // The close delimiter: what follows is the epilogue, left unread.
            state = 'epilogue';
            buf = Buffer.alloc(0);
            finished = true;
            break;
          }
          let i = 0;
          while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
          if (i > MAX_PADDING_BYTES) {
            const message = `boundary line ${partIndex + 1} has more than ${MAX_PADDING_BYTES} bytes of padding`;
            throw new MultipartError('malformed', message, partIndex + 1);
          }
          if (i >= buf.length) break;
          if (buf[i] === LF) throw bareLfError(partIndex + 1);
          if (buf[i] !== CR) {
            throw new MultipartError(
              'malformed',
              `a boundary line is followed by unexpected bytes ` +
                `(the boundary "${options.boundary}" occurs inside a part, or the delimiter is malformed)`,
              partIndex + 1,
            );
          }
          if (i + 1 >= buf.length) break;
          if (buf[i + 1] !== LF) {
            throw new MultipartError('malformed', 'a boundary line ends in CR without LF', partIndex + 1);
          }
          buf = buf.subarray(i + 2);
          partIndex += 1;
          state = 'headers';
          continue;
        }

        if (state === 'headers') {
          if (buf.length >= 2 && buf[0] === CR && buf[1] === LF) {
            // No header fields at all: the part's body starts right away.
            headers = new Map();
            buf = buf.subarray(2);
            state = 'body';
            continue;
          }
          const end = buf.indexOf(CRLFCRLF);
          if (end < 0) {
            if (buf.length > maxHeaderBytes) {
              throw new MultipartError('header-too-large', `part ${partIndex} has more than ${maxHeaderBytes} bytes of headers`, partIndex);
            }
            break;
          }
          if (end > maxHeaderBytes) {
            throw new MultipartError('header-too-large', `part ${partIndex} has more than ${maxHeaderBytes} bytes of headers`, partIndex);
          }
          headers = parseHeaderBlock(buf.subarray(0, end).toString('latin1'), partIndex);
          buf = buf.subarray(end + CRLFCRLF.length);
          state = 'body';
          continue;
        }

        if (state === 'body') {
          const at = buf.indexOf(delimiter);
          const take = at >= 0 ? at : Math.max(0, buf.length - (delimiter.length - 1));
          if (take > 0) addBody(buf.subarray(0, take));
          if (at < 0) {
            buf = buf.subarray(take);
            break;
          }
          const partHeld = held;
          const part: MultipartPart = { index: partIndex, headers, body: ownCopy(chunks, keptBytes), dropped: held.refused, release: () => partHeld.release() };
          buf = buf.subarray(at + delimiter.length);
          chunks = [];
          partBytes = 0;
          keptBytes = 0;
          held = new HeldInstance(options.memory);
          state = 'boundary-line';
          yield part;
          continue;
        }

        // epilogue: ignored
        buf = Buffer.alloc(0);
        break;
      }
      if (finished) break;
    }
  } finally {
    // The part being read when reading stopped is never yielded.
    held.release();
    if (!finished) {
      // Stop the producer: no more of the body is wanted. Errors from cancel are irrelevant here.
      await reader.cancel().catch(() => undefined);
    }
    reader.releaseLock();
  }

  if (!finished) throw state === 'preamble' && bareLfBoundary ? bareLfError() : truncation(state, partIndex, options.boundary);
}

/**
 * True when a delimiter may begin within `kept` (shorter than a delimiter): at some position the
 * bytes from there on, through the start of `next`, match the delimiter as far as they go.
 */
function startsDelimiter(kept: Buffer, next: Buffer, delimiter: Buffer): boolean {
  const joined = Buffer.concat([kept, next.subarray(0, delimiter.length)]);
  for (let i = 0; i < kept.length; i++) {
    const n = Math.min(delimiter.length, joined.length - i);
    if (joined.subarray(i, i + n).equals(delimiter.subarray(0, n))) return true;
  }
  return false;
}

function bareLfError(part?: number): MultipartError {
  return new MultipartError('malformed', 'boundary lines end in (or follow) a bare LF; multipart line ends must be CRLF (RFC 2046)', part);
}

/** The first `length` bytes of `chunks`, copied into an ArrayBuffer of their own. */
function ownCopy(chunks: Buffer[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let o = 0;
  for (const c of chunks) {
    if (o >= length) break;
    const piece = c.length <= length - o ? c : c.subarray(0, length - o);
    out.set(piece, o);
    o += piece.length;
  }
  return out;
}

function truncation(state: State, partIndex: number, boundary: string): MultipartError {
  switch (state) {
    case 'preamble':
      return new MultipartError('no-boundary', `the body holds no "--${boundary}" delimiter`);
    case 'headers':
      return new MultipartError('truncated', `the body ends inside the headers of part ${partIndex}`, partIndex);
    case 'body':
      return new MultipartError(
        'truncated',
        `the body ends inside part ${partIndex}: no closing "--${boundary}--" delimiter (truncated upload?)`,
        partIndex,
      );
    default:
      return new MultipartError(
        'truncated',
        `the body ends after part ${partIndex} without the closing "--${boundary}--" delimiter`,
        partIndex || undefined,
      );
  }
}

/** Parses `Name: value` lines separated by CRLF; continuation lines (obsolete folding) are joined. */
function parseHeaderBlock(block: string, partIndex: number): Map<string, string> {
  const headers = new Map<string, string>();
  let last: string | undefined;
  for (const line of block.split('\r\n')) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      headers.set(last, `${headers.get(last)} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      throw new MultipartError('malformed', `part ${partIndex} has a header line without a field name`, partIndex);
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, line.slice(colon + 1).trim());
    last = name;
  }
  return headers;
}
