import { expect } from 'chai';
import { request as httpRequest } from 'node:http';
import { networkInterfaces } from 'node:os';
import { connect } from 'node:net';
import { createHttpApp, HttpService, HttpServiceError } from '../../../gateway/http/index.js';
import { silentLogger } from '../../../gateway/log/index.js';
import { requirePeers } from '../../support/peers.js';
import { createTestPki } from '../../support/tls-certificates.js';
import { makeHarness } from './harness.js';

/** GET over a fresh connection (no pooling), so "refused" means the listener is gone. */
function get(port: number, path: string, host = '127.0.0.1'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('gateway/http HttpService (real socket)', () => {
  const services: HttpService[] = [];
  afterEach(async () => {
    for (const s of services.splice(0)) await s.stop();
  });

  it('lets a slow upload run as long as bytes keep coming, and closes a connection that goes silent', async function () {
    this.timeout(10_000);
    // Counts the body's bytes as they arrive: a STOW-RS body is read as a stream.
    const fetch = async (req: Request): Promise<Response> => {
      let n = 0;
      for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) n += chunk.length;
      return new Response(String(n));
    };
    const svc = new HttpService({ fetch, host: '127.0.0.1', port: 0, logger: silentLogger, idleTimeoutMs: 400 });
    services.push(svc);
    await svc.start();
    const send = (pauses: number[]): Promise<{ status: number; body: string } | 'closed'> =>
      new Promise((resolve) => {
        const req = httpRequest({ host: '127.0.0.1', port: svc.address!.port, method: 'POST', path: '/', agent: false }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', () => resolve('closed'));
        void (async () => {
          for (const pause of pauses) {
            req.write(Buffer.alloc(100));
            await new Promise((r) => setTimeout(r, pause));
          }
          req.end();
        })();
      });
    // Ten pieces 200 ms apart: 2 s in all, five times the idle time, never silent for long.
    expect(await send(Array(10).fill(200))).to.deep.equal({ status: 200, body: '1000' });
    // Silent for 1.5 s after the first piece.
    expect(await send([1500])).to.equal('closed');
  });

  it('serves the app on the configured loopback address only, then stops', async () => {
    const svc = new HttpService({ fetch: createHttpApp(makeHarness().deps).fetch, host: '127.0.0.1', port: 0, logger: silentLogger });
    services.push(svc);
    expect(svc.name).to.equal('http');
    expect(svc.status).to.equal('stopped');
    await svc.start();
    expect(svc.status).to.equal('running');
    const { host, port } = svc.address!;
    expect(host).to.equal('127.0.0.1');
    const res = await get(port, '/healthz');
    expect(res).to.deep.equal({ status: 200, body: '{"status":"ok"}' });
    // Any other address of this machine must not reach it.
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4' && !a.internal)
      .map((a) => a!.address);
    // 127.0.0.2 reaches a wildcard (0.0.0.0) listener on Linux, never a 127.0.0.1 one.
    others.push('127.0.0.2');
    for (const addr of others) expect(await canConnect(addr, port), addr).to.equal(false);
    await svc.stop();
    expect(svc.status).to.equal('stopped');
    expect(await canConnect('127.0.0.1', port)).to.equal(false);
  });

  it('answers HTTP/1.0 without Host (a load balancer\'s probe), and a request it cannot read with a JSON 400 that says why', async () => {
    const svc = new HttpService({ fetch: createHttpApp(makeHarness().deps).fetch, host: '127.0.0.1', port: 0, logger: silentLogger });
    services.push(svc);
    await svc.start();
    const raw = (request: string) =>
      new Promise<{ status: string; type?: string; body: string }>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: svc.address!.port });
        let text = '';
        s.on('data', (d) => (text += d.toString('latin1')));
        s.on('end', () => {
          const [head, body] = [text.slice(0, text.indexOf('\r\n\r\n')), text.slice(text.indexOf('\r\n\r\n') + 4)];
          resolve({ status: head.split('\r\n')[0], type: /content-type: ([^\r]*)/i.exec(head)?.[1], body });
        });
        s.on('error', reject);
        s.write(request);
      });
    expect(await raw('GET /healthz HTTP/1.0\r\n\r\n')).to.deep.include({ status: 'HTTP/1.1 200 OK', body: '{"status":"ok"}' });
    for (const [request, status, message] of [
      ['GET * HTTP/1.1\r\nHost: limen\r\nConnection: close\r\n\r\n', 'HTTP/1.1 400 Bad Request', /^the request cannot be read: /],
      ['GET /healthz HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n', 'HTTP/1.1 400 Bad Request', /^the request cannot be read: Invalid (URL|host header)/],
      ['GET /healthz HTTP/1.1\r\nHost: limen\r\nbroken header\r\n\r\n', 'HTTP/1.1 400 Bad Request', /^the request is not HTTP\/1.1 this server can read \(HPE_/],
      [`GET /healthz HTTP/1.1\r\nHost: limen\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`, 'HTTP/1.1 431 Request Header Fields Too Large', /\(HPE_HEADER_OVERFLOW\)/],
    ] as const) {
      const answer = await raw(request);
      expect(answer.status, request.slice(0, 40)).to.equal(status);
      expect(answer.type, request.slice(0, 40)).to.equal('application/json; charset=utf-8');
      const json = JSON.parse(answer.body) as { error: { code: string; message: string } };
      expect(json.error.code, request.slice(0, 40)).to.equal('bad-request');
      expect(json.error.message, request.slice(0, 40)).to.match(message);
    }
    expect(await get(svc.address!.port, '/healthz')).to.deep.equal({ status: 200, body: '{"status":"ok"}' });
  });

  it('fails to start with the system reason when the port is taken', async () => {
    const a = new HttpService({ fetch: () => new Response('a'), host: '127.0.0.1', port: 0, logger: silentLogger });
    services.push(a);
    await a.start();
    const b = new HttpService({ fetch: () => new Response('b'), host: '127.0.0.1', port: a.address!.port, logger: silentLogger });
    try {
      await b.start();
      expect.fail('second bind succeeded');
    } catch (err) {
      expect(err).to.be.instanceOf(HttpServiceError);
      expect((err as HttpServiceError).code).to.equal('EADDRINUSE');
      expect((err as Error).message).to.contain(`127.0.0.1:${a.address!.port}`);
    }
    expect(b.status).to.equal('failed');
  });

  it('stops gracefully: refuses new connections at once and lets in-flight requests finish', async () => {
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const svc = new HttpService({
      fetch: async (req) => {
        if (new URL(req.url).pathname === '/slow') {
          entered();
          await released;
          return new Response('finished');
        }
        return new Response('fast');
      },
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger,
    });
    services.push(svc);
    await svc.start();
    const port = svc.address!.port;
    const slow = get(port, '/slow');
    await inHandler;
    const stopping = svc.stop();
    expect(svc.status).to.equal('stopping');
    let refused = false;
    await get(port, '/fast').catch((err) => (refused = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED'));
    expect(refused).to.equal(true);
    release();
    expect(await slow).to.deep.equal({ status: 200, body: 'finished' });
    await stopping;
    expect(svc.status).to.equal('stopped');
  });

  it('closes connections still in flight after the stop timeout', async () => {
    const svc = new HttpService({
      fetch: () => new Promise<Response>(() => {}),
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger,
      stopTimeoutMs: 200,
    });
    await svc.start();
    const hanging = get(svc.address!.port, '/never').then(
      () => 'answered',
      () => 'closed',
    );
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await svc.stop();
    expect(Date.now() - t0).to.be.within(150, 2000);
    expect(await hanging).to.equal('closed');
  });

  it('over HTTPS, closes a connection still in its TLS handshake after the stop timeout', async function () {
    requirePeers(this, 'openssl');
    const pki = createTestPki();
    try {
      const svc = new HttpService({
        fetch: () => new Response('ok'),
        host: '127.0.0.1',
        port: 0,
        logger: silentLogger,
        stopTimeoutMs: 200,
        tls: { certificate: pki.read(pki.server.certificate), privateKey: pki.read(pki.server.privateKey) },
      });
      await svc.start();
      const silent = connect({ host: '127.0.0.1', port: svc.address!.port });
      const closed = new Promise((r) => silent.once('close', r));
      silent.on('error', () => {});
      await new Promise((r) => silent.once('connect', r));
      const t0 = Date.now();
      await svc.stop();
      expect(Date.now() - t0).to.be.within(150, 2000);
      await closed;
    } finally {
      pki.remove();
    }
  });
});
