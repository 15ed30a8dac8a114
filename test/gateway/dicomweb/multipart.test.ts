import { expect } from 'chai';
import { MultipartError, readMultipart, type MultipartPart } from '../../../gateway/dicomweb/multipart.js';
import { parseMediaType } from '../../../gateway/dicomweb/media-type.js';
import { HeldInstance, ReceiveMemory } from '../../../gateway/ingest/index.js';

const enc = (s: string) => Buffer.from(s, 'latin1');

/** A pull-based stream over `chunks` that counts what was pulled and whether it was cancelled. */
function streamOf(chunks: Uint8Array[]) {
  let i = 0;
  const stats = { pulledBytes: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (i >= chunks.length) return controller.close();
        const c = chunks[i++];
        stats.pulledBytes += c.length;
        controller.enqueue(c);
      },
      cancel() {
        stats.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, stats };
}

/** An endless stream of `chunkSize` chunks after `head`, counting pulls. */
function endlessStream(head: Uint8Array, chunkSize: number) {
  const stats = { pulledBytes: 0, cancelled: false };
  let sentHead = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const c = sentHead ? new Uint8Array(chunkSize).fill(0x41) : head;
        sentHead = true;
        stats.pulledBytes += c.length;
        controller.enqueue(c);
      },
      cancel() {
        stats.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, stats };
}

interface PartSpec {
  headers: string[];
  body: Uint8Array;
}

function build(
  parts: PartSpec[],
  boundary: string,
  opts: { preamble?: string; epilogue?: string; leadingCRLF?: boolean; padding?: string; eol?: string } = {},
): Buffer {
  const eol = opts.eol ?? '\r\n';
  const pieces: Buffer[] = [];
  if (opts.preamble !== undefined) pieces.push(enc(opts.preamble + eol));
  else if (opts.leadingCRLF) pieces.push(enc(eol));
  parts.forEach((p, i) => {
    const delim = `${i === 0 ? '' : eol}--${boundary}${opts.padding ?? ''}${eol}`;
    pieces.push(enc(delim + p.headers.map((h) => h + eol).join('') + eol), Buffer.from(p.body));
  });
  pieces.push(enc(`${eol}--${boundary}--`));
  if (opts.epilogue !== undefined) pieces.push(enc(opts.epilogue));
  return Buffer.concat(pieces);
}

async function collect(chunks: Uint8Array[], boundary: string, maxPartBytes = 1 << 20): Promise<MultipartPart[]> {
  const { stream } = streamOf(chunks);
  const out: MultipartPart[] = [];
  for await (const p of readMultipart(stream, { boundary, maxPartBytes })) out.push({ ...p, body: Buffer.from(p.body) });
  return out;
}

async function expectError(chunks: Uint8Array[], boundary: string, maxPartBytes = 1 << 20): Promise<MultipartError> {
  try {
    await collect(chunks, boundary, maxPartBytes);
  } catch (err) {
    expect(err).to.be.instanceOf(MultipartError);
    return err as MultipartError;
  }
  throw new Error('expected a MultipartError, but the body was accepted');
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const BOUNDARY = 'limen-b0undary';
// Content that looks like a delimiter without being one: CRLF, dashes, a boundary prefix, a
// trailing CR right before the real delimiter.
const tricky = Buffer.concat([enc('\r\n--limen-b0und\r\n-\r\r\n--limen'), Buffer.from(bytes(40, 7)), enc('\r')]);
const PARTS: PartSpec[] = [
  { headers: ['Content-Type: application/dicom'], body: tricky },
  { headers: ['Content-Type: application/dicom', 'Content-Location: x'], body: bytes(97, 3) },
  { headers: [], body: enc('') },
];

describe('gateway/dicomweb multipart reader', () => {
  it('reads parts, their headers and exact bodies', async () => {
    const parts = await collect([build(PARTS, BOUNDARY)], BOUNDARY);
    expect(parts.map((p) => p.index)).to.deep.equal([1, 2, 3]);
    expect(Buffer.from(parts[0].body).equals(tricky)).to.equal(true);
    expect(Buffer.from(parts[1].body).equals(Buffer.from(PARTS[1].body))).to.equal(true);
    expect(parts[2].body.length).to.equal(0);
    expect(parts[1].headers.get('content-type')).to.equal('application/dicom');
    expect(parts[1].headers.get('content-location')).to.equal('x');
    expect(parts[2].headers.size).to.equal(0);
  });

  it('gives each part body an ArrayBuffer of its own, whatever the chunking', async () => {
    const body = build(PARTS, BOUNDARY);
    for (const chunks of [[body], [body.subarray(0, 50), body.subarray(50, 51), body.subarray(51)]]) {
      const { stream } = streamOf(chunks);
      for await (const p of readMultipart(stream, { boundary: BOUNDARY, maxPartBytes: 1 << 20 })) {
        expect(p.body.byteOffset).to.equal(0);
        expect(p.body.buffer.byteLength).to.equal(p.body.length);
      }
    }
  });

  it('gives the same parts whatever the chunking: every 2-way split, 1-byte chunks, 3-way splits', async () => {
    const body = build(PARTS, BOUNDARY, { preamble: 'preamble text', epilogue: '\r\nepilogue' });
    const expected = await collect([body], BOUNDARY);
    expect(expected).to.have.length(3);
    const same = (got: MultipartPart[], label: string) => {
      expect(got.length, label).to.equal(expected.length);
      got.forEach((p, i) => expect(Buffer.from(p.body).equals(Buffer.from(expected[i].body)), `${label} part ${i + 1}`).to.equal(true));
    };
    for (let k = 1; k < body.length; k++) same(await collect([body.subarray(0, k), body.subarray(k)], BOUNDARY), `split at ${k}`);
    same(await collect([...body].map((b) => Uint8Array.of(b)), BOUNDARY), '1-byte chunks');
    const rnd = bytes(400, 11);
    for (let t = 0; t < 200; t++) {
      const a = 1 + (rnd[2 * t] * body.length) / 256;
      const b = a + 1 + (rnd[2 * t + 1] * (body.length - a)) / 256;
      const [i, j] = [Math.floor(a), Math.min(Math.floor(b), body.length - 1)];
      same(await collect([body.subarray(0, i), body.subarray(i, j), body.subarray(j)], BOUNDARY), `split at ${i},${j}`);
    }
  });

  it('accepts the first delimiter with or without a leading CRLF, a preamble, padding and an epilogue', async () => {
    for (const opts of [{}, { leadingCRLF: true }, { preamble: 'This is a MIME preamble.\r\nIgnored.' }, { padding: ' \t ' }, { epilogue: '\r\ntrailing junk --limen-b0undary' }]) {
      const parts = await collect([build(PARTS.slice(0, 2), BOUNDARY, opts)], BOUNDARY);
      expect(parts, JSON.stringify(opts)).to.have.length(2);
      expect(Buffer.from(parts[0].body).equals(tricky)).to.equal(true);
    }
  });

  it('reads a quoted boundary with characters that need quoting', async () => {
    const boundary = "a b:c=d?e'(f)+_,-./";
    const ct = parseMediaType(`multipart/related; type="application/dicom"; boundary="${boundary}"`);
    expect(ct?.essence).to.equal('multipart/related');
    expect(ct?.parameters.boundary).to.equal(boundary);
    expect(ct?.parameters.type).to.equal('application/dicom');
    const parts = await collect([build(PARTS, boundary)], ct!.parameters.boundary);
    expect(parts).to.have.length(3);
    expect(parseMediaType('Multipart/Related ; Boundary=abc ; type=application/dicom')?.parameters).to.deep.equal({
      boundary: 'abc',
      type: 'application/dicom',
    });
    expect(parseMediaType('multipart/related; boundary="a\\"b"')?.parameters.boundary).to.equal('a"b');
    expect(parseMediaType('multipart/related; boundary="unterminated')).to.equal(null);
    expect(parseMediaType('not a media type')).to.equal(null);
  });

  it('rejects LF-only line ends with a reason naming CRLF (RFC 2046)', async () => {
    const err = await expectError([build(PARTS, BOUNDARY, { eol: '\n' })], BOUNDARY);
    expect(err.code).to.equal('malformed');
    expect(err.status).to.equal(400);
    expect(err.message).to.match(/CRLF/);
  });

  it('fails every truncation of the body, naming where it ended', async () => {
    const body = build(PARTS, BOUNDARY);
    const codes = new Set<string>();
    for (let k = 0; k < body.length; k++) {
      const err = await expectError(k === 0 ? [] : [body.subarray(0, k)], BOUNDARY);
      expect(err.status, `cut at ${k}`).to.equal(400);
      codes.add(err.code);
    }
    expect([...codes].sort()).to.deep.equal(['no-boundary', 'truncated']);
    const err = await expectError([body.subarray(0, body.length - 30)], BOUNDARY);
    expect(err.message).to.match(/ends inside part 2.*no closing/);
  });

  it('rejects a body without any delimiter, and stops reading a preamble over the limit', async () => {
    const err = await expectError([enc('just some bytes')], BOUNDARY);
    expect(err.code).to.equal('no-boundary');
    const { stream, stats } = endlessStream(enc('x'), 16 * 1024);
    try {
      for await (const _ of readMultipart(stream, { boundary: BOUNDARY, maxPartBytes: 1 << 20, maxPreambleBytes: 64 * 1024 })) {
        /* no part expected */
      }
      expect.fail('accepted an endless preamble');
    } catch (e) {
      expect((e as MultipartError).code).to.equal('no-boundary');
    }
    expect(stats.pulledBytes).to.be.below(64 * 1024 + 2 * 16 * 1024);
    expect(stats.cancelled).to.equal(true);
  });

  it('fails a part over maxPartBytes with 413 without reading the rest of the body', async () => {
    const head = enc(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`);
    const { stream, stats } = endlessStream(head, 64 * 1024);
    const limit = 1024 * 1024;
    const before = process.memoryUsage().arrayBuffers;
    let caught: unknown;
    try {
      for await (const _ of readMultipart(stream, { boundary: BOUNDARY, maxPartBytes: limit })) expect.fail('yielded a part');
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(MultipartError);
    expect((caught as MultipartError).code).to.equal('part-too-large');
    expect((caught as MultipartError).status).to.equal(413);
    expect((caught as MultipartError).part).to.equal(1);
    // It stopped within one chunk of the limit, and cancelled the producer.
    expect(stats.pulledBytes).to.be.at.most(head.length + limit + 2 * 64 * 1024);
    expect(stats.cancelled).to.equal(true);
    expect(process.memoryUsage().arrayBuffers - before).to.be.below(16 * limit);
  });

  it('accepts a part of exactly maxPartBytes', async () => {
    const body = build([{ headers: [], body: bytes(1000, 5) }], BOUNDARY);
    expect(await collect([body], BOUNDARY, 1000)).to.have.length(1);
    expect((await expectError([body], BOUNDARY, 999)).code).to.equal('part-too-large');
  });

  it('rejects oversized header blocks, header lines without a name, and text after a boundary', async () => {
    const big = build([{ headers: [`X-Long: ${'a'.repeat(20000)}`], body: enc('x') }], BOUNDARY);
    expect((await expectError([big], BOUNDARY)).code).to.equal('header-too-large');
    const noName = build([{ headers: [': value'], body: enc('x') }], BOUNDARY);
    expect((await expectError([noName], BOUNDARY)).code).to.equal('malformed');
    const junk = enc(`--${BOUNDARY}junk\r\n\r\nx\r\n--${BOUNDARY}--`);
    expect((await expectError([junk], BOUNDARY)).code).to.equal('malformed');
  });

  it('joins folded header lines', async () => {
    const parts = await collect([build([{ headers: ['Content-Type: application/dicom;', ' transfer-syntax=1.2.840.10008.1.2.1'], body: enc('x') }], BOUNDARY)], BOUNDARY);
    expect(parts[0].headers.get('content-type')).to.equal('application/dicom; transfer-syntax=1.2.840.10008.1.2.1');
  });

  it('reads a body with no parts, and refuses an invalid boundary parameter', async () => {
    expect(await collect([enc(`--${BOUNDARY}--\r\n`)], BOUNDARY)).to.have.length(0);
    expect((await expectError([enc('--x--')], 'bad"boundary')).code).to.equal('malformed');
    expect((await expectError([enc('--x--')], 'x'.repeat(71))).code).to.equal('malformed');
  });

  it('reads lazily: the next chunk is pulled only when the next part is asked for, and leaving early cancels', async () => {
    const body = build(PARTS, BOUNDARY);
    const firstEnd = body.indexOf(enc(`\r\n--${BOUNDARY}`), 10) + 2 + 2 + BOUNDARY.length + 2;
    const { stream, stats } = streamOf([body.subarray(0, firstEnd), body.subarray(firstEnd)]);
    for await (const p of readMultipart(stream, { boundary: BOUNDARY, maxPartBytes: 1 << 20 })) {
      expect(p.index).to.equal(1);
      expect(stats.pulledBytes).to.equal(firstEnd);
      break;
    }
    expect(stats.cancelled).to.equal(true);
  });
});

describe('gateway/dicomweb readMultipart with the receivers’ shared memory', () => {
  it('holds a part’s bytes while it is read; one without room keeps its first 64 KiB, the rest passes by, and each part gives its share back', async () => {
    const memory = new ReceiveMemory(100_000);
    const other = new HeldInstance(memory);
    expect(other.hold(1)).to.equal(true); // another receiver's instance: this one is not alone
    const big = Buffer.alloc(300_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const small = Buffer.alloc(10_000, 0x42);
    const body = build([{ headers: ['Content-Type: application/dicom'], body: small }, { headers: ['Content-Type: application/dicom'], body: big }], 'b');
    const chunks: Buffer[] = [];
    for (let at = 0; at < body.length; at += 16_384) chunks.push(body.subarray(at, at + 16_384));
    const parts: MultipartPart[] = [];
    for await (const part of readMultipart(streamOf(chunks).stream, { boundary: 'b', maxPartBytes: 1 << 20, memory })) {
      parts.push(part);
      if (part.index === 1) expect(memory.held).to.equal(1 + small.length);
    }
    expect(parts.map((p) => p.dropped)).to.deep.equal([false, true]);
    expect(Buffer.from(parts[0].body).equals(small)).to.equal(true);
    expect(Buffer.from(parts[1].body).equals(big.subarray(0, 64 * 1024))).to.equal(true);
    parts[0].release();
    parts[1].release();
    parts[0].release();
    expect(memory.held).to.equal(1);
  });
});
