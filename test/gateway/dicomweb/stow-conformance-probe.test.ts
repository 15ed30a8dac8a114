/**
 * What a probe of STOW-RS against PS3.18 §10.5 and RFC 2046 / RFC 9112 found, each kept as a test:
 *
 * - The epilogue after the close delimiter is to be ignored (RFC 2046 §5.1.1). The reader read it
 *   to the end of the body before the request was answered: a sender that went on sending after
 *   `--boundary--` (slowly, or without end over chunked encoding) held its answer back, and a
 *   STOW-RS slot with it, although every instance was stored.
 * - A body of empty parts (ten bytes each) cost Limen an item in the response and a log line per
 *   part: a 9 MB body took 1.2 GB, three minutes and a 120 MB response. A request now ends after
 *   STOW_MAX_FAILED_PARTS failed parts, answered like a body that broke (what was stored is
 *   referenced, the rest unread), and only the first failures are logged one line each.
 */
import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import { createHttpApp, HttpService } from '../../../gateway/http/index.js';
import { STOW_MAX_FAILED_PARTS } from '../../../gateway/dicomweb/stow.js';
import { requirePeers } from '../../support/peers.js';
import { CT_FAKEPHI_VALUES } from '../../support/fakephi.js';
import { ctFile, loadFixtures, makeHarness, multipart, STOW_TYPE, type Fixture, type Harness } from '../http/harness.js';

type Json = Record<string, { vr: string; Value?: unknown[] }>;
const items = (json: Json, tag: '00081199' | '00081198') => (json[tag]?.Value ?? []) as Json[];
const BOUNDARY = 'limen-test-boundary';
const headers = { authorization: 'Bearer modality-token', 'content-type': STOW_TYPE() };

/** A request body that yields `head`, then what `more()` gives at each later pull, `delayMs` apart. */
function streamed(head: Uint8Array, more: () => Uint8Array | null, delayMs = 0) {
  const stats = { pulledBytes: 0, pulls: 0, cancelled: false };
  let first = true;
  let stopped = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        stats.pulls += 1;
        if (!first && delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        const chunk = first ? head : stopped ? null : more();
        first = false;
        if (chunk === null) return c.close();
        stats.pulledBytes += chunk.length;
        c.enqueue(chunk);
      },
      cancel() {
        stats.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  /** Ends the body at the next pull (a test that failed must not leave an endless body being read). */
  const stop = () => (stopped = true);
  return { stream, stats, stop };
}

function postStream(h: Harness, stream: ReadableStream<Uint8Array>) {
  const req = new Request('http://limen.test/dicomweb/studies', { method: 'POST', body: stream, headers, duplex: 'half' } as RequestInit);
  return createHttpApp(h.deps).request(req);
}

async function within<T>(ms: number, what: string, p: T | Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  try {
    return await Promise.race([Promise.resolve(p), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** An HttpService of the harness on a free loopback port of 21400–21499. */
async function serve(h: Harness): Promise<HttpService> {
  for (let port = 21400; port < 21500; port++) {
    const svc = new HttpService({ fetch: createHttpApp(h.deps).fetch, host: '127.0.0.1', port, logger: h.deps.logger });
    try {
      await svc.start();
      return svc;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EADDRINUSE') throw err;
    }
  }
  throw new Error('no free port in 21400-21499');
}

function expectNoPhi(what: string, text: string) {
  for (const v of CT_FAKEPHI_VALUES) expect(text, `${what} holds ${v}`).not.to.contain(v);
}

describe('gateway/dicomweb STOW-RS conformance probe', function () {
  this.timeout(20_000);
  let ct: Fixture[];
  before(function () {
    requirePeers(this, 'python3-pydicom');
    ct = loadFixtures([ctFile(1), ctFile(2)]);
  });

  it('answers at the close delimiter: an epilogue that keeps coming (RFC 2046 §5.1.1: ignored) does not hold the answer back', async () => {
    const h = makeHarness();
    const body = multipart([{ bytes: ct[0].bytes }]);
    // After `--boundary--\r\n`, an epilogue that never ends: a chunked upload going on and on.
    const { stream, stats, stop } = streamed(body, () => Buffer.from('epilogue, to be ignored\r\n'), 20);
    const res = await within(3000, 'a body whose epilogue keeps coming', postStream(h, stream)).finally(stop);
    expect(res.status).to.equal(200);
    const json = (await res.json()) as Json;
    expect(items(json, '00081199').map((i) => i['00081155'].Value?.[0])).to.deep.equal([ct[0].sopInstanceUID]);
    expect(stats.pulledBytes, 'read past the close delimiter').to.equal(body.length);
    expect(h.ingest.calls).to.have.length(1);
  });

  it('over a real socket: the answer comes while the epilogue is still arriving, and the connection then serves the next request', async () => {
    const h = makeHarness();
    const svc = await serve(h);
    let socket: Socket | undefined;
    try {
      const body = multipart([{ bytes: ct[0].bytes }]);
      const epilogue = Buffer.from('this epilogue arrives slowly\r\n');
      const sock = connect(svc.address!.port, '127.0.0.1');
      socket = sock;
      let received = '';
      sock.on('data', (d: Buffer) => (received += d.toString('latin1')));
      const head = (n: number) =>
        `POST /dicomweb/studies HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer modality-token\r\nContent-Type: ${STOW_TYPE()}\r\nContent-Length: ${n}\r\n\r\n`;
      sock.write(head(body.length + epilogue.length));
      sock.write(body);
      const waitFor = async (n: number, what: string) => {
        const until = Date.now() + 3000;
        while ((received.match(/HTTP\/1\.1 \d{3}/g) ?? []).length < n) {
          if (Date.now() > until) throw new Error(`${what}: no answer within 3000 ms (got ${JSON.stringify(received.slice(0, 200))})`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      // One byte of the epilogue every 50 ms: 1.5 s for all of it; the answer comes before.
      let sent = 0;
      const trickle = setInterval(() => {
        if (sent < epilogue.length) sock.write(epilogue.subarray(sent, ++sent));
      }, 50);
      try {
        await waitFor(1, 'the request whose epilogue is still arriving');
        expect(sent, 'answered only once the epilogue was all in').to.be.below(epilogue.length);
      } finally {
        while (sent < epilogue.length) sock.write(epilogue.subarray(sent, ++sent));
        clearInterval(trickle);
      }
      expect(received).to.match(/^HTTP\/1\.1 200 /);
      const second = multipart([{ bytes: ct[1].bytes }]);
      sock.write(head(second.length));
      sock.write(second);
      await waitFor(2, 'the next request on the same connection');
      expect(received.match(/HTTP\/1\.1 \d{3}/g)).to.deep.equal(['HTTP/1.1 200', 'HTTP/1.1 200']);
      expect(h.ingest.calls).to.have.length(2);
    } finally {
      socket?.destroy();
      await svc.stop();
    }
  });

  it(`ends a request after ${STOW_MAX_FAILED_PARTS} failed parts: answered at once with what was stored, the rest unread, the log bounded`, async () => {
    const h = makeHarness();
    // An instance, then three times the limit of empty parts (ten bytes each), then an instance.
    const empty = Buffer.from(`\r\n--${BOUNDARY}\r\n\r\n`, 'latin1');
    const first = multipart([{ bytes: ct[0].bytes }]).subarray(0, -(`\r\n--${BOUNDARY}--\r\n`.length));
    const tail = multipart([{ bytes: ct[1].bytes }]);
    let left = 3 * STOW_MAX_FAILED_PARTS;
    const { stream, stats } = streamed(first, () => {
      if (left < 0) return null;
      if (left === 0) {
        left -= 1;
        return tail;
      }
      const n = Math.min(left, 1000);
      left -= n;
      return Buffer.concat(Array.from({ length: n }, () => empty));
    });
    const started = Date.now();
    const res = await postStream(h, stream);
    expect(Date.now() - started, 'ms to answer').to.be.below(10_000);
    expect(res.status).to.equal(202);
    expect(res.headers.get('connection')).to.equal('close');
    const text = await res.text();
    const json = JSON.parse(text) as Json;
    expect(items(json, '00081199').map((i) => i['00081155'].Value?.[0])).to.deep.equal([ct[0].sopInstanceUID]);
    const failed = items(json, '00081198');
    // The limit, the few parts already being stored when it was reached, and the item for the rest.
    expect(failed.length).to.be.within(STOW_MAX_FAILED_PARTS + 1, STOW_MAX_FAILED_PARTS + 5);
    const last = failed[failed.length - 1];
    expect(last['00081197'].Value).to.deep.equal([0xa700]);
    expect(last['00000902'].Value?.[0]).to.match(/parts failed; the rest was not read/);
    expect(failed.slice(0, -1).every((i) => i['00081197'].Value?.[0] === 0xc000)).to.equal(true);
    // Read no further than the limit: the last instance never reached the edge.
    expect(h.ingest.calls).to.have.length(1);
    expect(stats.pulledBytes).to.be.below(first.length + 2 * STOW_MAX_FAILED_PARTS * empty.length);
    expect(stats.cancelled).to.equal(true);
    const perPart = h.logLines.filter((l) => l.includes('"stow.instance.failed"'));
    expect(perPart.length).to.be.within(1, 100);
    expect(h.logLines.some((l) => l.includes('"too-many-failed-parts"'))).to.equal(true);
    const done = h.logLines.find((l) => l.includes('"stow.request.completed"'))!;
    expect(JSON.parse(done)).to.deep.include({ stored: 1, failed: failed.length, status: 202 });
    expectNoPhi('the response', text);
    expectNoPhi('the log', h.logLines.join('\n'));
  });

  it('a request of fewer failed parts than the limit is read whole and answered as before (409, one item each)', async () => {
    const h = makeHarness();
    const n = 50;
    const body = multipart(Array.from({ length: n }, () => ({ bytes: new Uint8Array(0), contentType: null })));
    const res = await createHttpApp(h.deps).request('/dicomweb/studies', { method: 'POST', body: new Uint8Array(body), headers });
    expect(res.status).to.equal(409);
    expect(res.headers.get('connection')).to.equal(null);
    const failed = items((await res.json()) as Json, '00081198');
    expect(failed).to.have.length(n);
    expect(failed.every((i) => i['00081197'].Value?.[0] === 0xc000)).to.equal(true);
  });
});
