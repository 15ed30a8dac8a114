/**
 * The HTTP listener as a service (name, status, start, stop), bound only to the configured
 * host and port. Stopping is graceful: the listener closes at once, idle keep-alive
 * connections are closed, and requests in flight finish (up to `stopTimeoutMs`, or until the
 * stop's signal aborts, after which their connections are closed).
 */
import { createServer as createHttpServer, STATUS_CODES, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { getRequestListener, RequestError } from '@hono/node-server';
import type { Logger } from '../log/index.js';
import { listenerContext, TLS_HANDSHAKE_TIMEOUT_MS, type ListenerCredentials } from '../tls/index.js';
import { errorResponse, type ErrorBody } from './errors.js';
import { HttpLog } from './messages.js';

export type ServiceStatus = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed';

export interface HttpServiceOptions {
  /** The app's fetch handler, e.g. `createHttpApp(deps).fetch`. */
  fetch: (request: Request, env: unknown) => Response | Promise<Response>;
  /** Address to bind; `127.0.0.1` by default (`LIMEN_HTTP_HOST`). */
  host: string;
  /** Port to bind; 0 picks a free one (see `address`). */
  port: number;
  logger: Logger;
  /** How long in-flight requests may run after stop() before their connections are closed. */
  stopTimeoutMs?: number;
  /** A connection that sends and receives nothing this long is closed. */
  idleTimeoutMs?: number;
  /** HTTPS with Limen's TLS profile (`gateway/tls`) instead of HTTP. PEM text or bytes. */
  tls?: HttpTlsCredentials;
}

/** A certificate chain and its key, PEM text or bytes. */
export type HttpTlsCredentials = Pick<ListenerCredentials, 'certificate' | 'privateKey'>;

export const DEFAULT_STOP_TIMEOUT_MS = 30_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

/** Why the service could not start, with the system's error code (EADDRINUSE, EACCES...). */
export class HttpServiceError extends Error {
  readonly code: string;
  constructor(code: string, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'HttpServiceError';
    this.code = code;
  }
}

export class HttpService {
  readonly name = 'http';
  private state: ServiceStatus = 'stopped';
  private server: Server | undefined;
  private readonly logger: Logger;
  private inFlight = 0;
  private readonly connections = new Set<Socket>();

  constructor(private readonly options: HttpServiceOptions) {
    this.logger = options.logger.child({ service: 'http' });
  }

  get status(): ServiceStatus {
    return this.state;
  }

  /** The bound address once running (the real port when started with port 0). */
  get address(): { host: string; port: number } | undefined {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? { host: a.address, port: a.port } : undefined;
  }

  async start(): Promise<void> {
    if (this.state !== 'stopped' && this.state !== 'failed') {
      throw new HttpServiceError('invalid-state', `cannot start the HTTP service while ${this.state}`);
    }
    this.state = 'starting';
    const { host, port } = this.options;
    const tls = this.options.tls;
    // An HTTP/1.0 request may come without a Host header (a load balancer's health check often
    // does): it is addressed to this listener, not refused with an empty 400.
    const authority = `${host.includes(':') ? `[${host}]` : host}${port ? `:${port}` : ''}`;
    const listener = getRequestListener(this.options.fetch, {
      hostname: authority,
      // The process' Request and Response stay untouched.
      overrideGlobalObjects: false,
      // A request Node parsed but no URL can be made of (a Host that is no host, `GET *`) gets a
      // JSON 400 that says so, as every other error does.
      errorHandler: (err) => {
        if (err instanceof RequestError) return errorResponse(400, 'bad-request', `the request cannot be read: ${err.message}`);
        this.logger.error(HttpLog.requestFailed('-', '-', err));
        return errorResponse(500, 'internal-error', 'internal error; see the server log');
      },
    });
    const server = (tls ? createHttpsServer({ ...listenerContext(tls), handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS }, listener) : createHttpServer(listener)) as Server;
    // Bytes that are not HTTP Node can parse: the same JSON error, with Node's own status for a
    // header block too large (431) or too slow (408), then the connection is closed.
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const body: ErrorBody = { error: { code: 'bad-request', message: `the request is not HTTP/1.1 this server can read (${err.code ?? err.message})` } };
      const text = JSON.stringify(body);
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
    });
    // A study sent by STOW-RS over a slow link takes longer than Node's five-minute limit on a
    // whole request, which would cut it off half stored: no limit on the whole, a connection that
    // goes silent is closed instead (headers still have to arrive within Node's headersTimeout).
    server.requestTimeout = 0;
    server.setTimeout(this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    // closeAllConnections() reaches only connections that got as far as HTTP: one still in its TLS
    // handshake is closed from this set.
    server.on('connection', (socket: Socket) => {
      this.connections.add(socket);
      socket.once('close', () => this.connections.delete(socket));
    });
    server.on('request', (_req, res) => {
      this.inFlight += 1;
      res.once('close', () => (this.inFlight -= 1));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException) => reject(err);
        server.once('error', onError);
        server.listen({ host, port, exclusive: true }, () => {
          server.off('error', onError);
          resolve();
        });
      });
    } catch (err) {
      this.state = 'failed';
      const e = err as NodeJS.ErrnoException;
      this.logger.error(HttpLog.startFailed(host, port, e));
      throw new HttpServiceError(e.code ?? 'listen-failed', `HTTP service cannot listen on ${host}:${port}: ${e.message}`, err);
    }
    this.server = server;
    this.state = 'running';
    const bound = this.address!;
    this.logger.info(HttpLog.listening(bound.host, bound.port, tls ? 'https' : 'http'));
  }

  /**
   * Serves the HTTPS connections that arrive from now on with these credentials (a renewed
   * certificate); those already open keep theirs. Throws, nothing changed, when they cannot serve.
   */
  reloadTls(tls: HttpTlsCredentials): void {
    if (!this.options.tls || !this.server || this.state !== 'running') throw new HttpServiceError('not-https', 'no HTTPS listener is running');
    // Node swaps in the new context only once it is made: when that fails, the old one serves on.
    (this.server as unknown as HttpsServer).setSecureContext(listenerContext(tls));
  }

  /**
   * Closes the listener before it first yields (a caller stopping several services at once stops
   * them all accepting first), then lets the requests in flight finish. When `signal` aborts (the
   * process's stop deadline), their connections are closed at once.
   */
  async stop(signal?: AbortSignal): Promise<void> {
    const server = this.server;
    if (!server || this.state !== 'running') return;
    this.state = 'stopping';
    this.logger.info(HttpLog.stopping(this.inFlight));
    const timeoutMs = this.options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // close() waits for every connection; idle keep-alive ones would otherwise hold it open.
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const cutShort = new Promise<'timeout' | 'aborted'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      onAbort = () => resolve('aborted');
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
    // Connections that finish their request during the wait go idle: close those too.
    const sweeper = setInterval(() => server.closeIdleConnections(), 100);
    try {
      const outcome = await Promise.race([closed, cutShort]);
      if (outcome) {
        this.logger.warn(outcome === 'timeout' ? HttpLog.stopForced(timeoutMs) : HttpLog.stopAborted(this.inFlight));
        server.closeAllConnections();
        for (const socket of this.connections) socket.destroy();
        await closed;
      }
    } finally {
      clearTimeout(timer);
      clearInterval(sweeper);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
    this.server = undefined;
    this.state = 'stopped';
    this.logger.info(HttpLog.stopped());
  }
}
