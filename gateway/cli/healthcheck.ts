/**
 * `limen healthcheck`: the container's HEALTHCHECK. It reads the configuration as `limen start`
 * does, so a port, host or TLS set in the mounted file is probed where the gateway listens, not
 * where an environment variable would have put it.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { loadConfig, type HttpConfig } from '../../config/index.js';
import { parseCommandArgs, surplusArguments, type Command } from './command.js';

const USAGE = `usage: limen healthcheck [--config <file>]

Asks GET /healthz of the HTTP listener that limen start runs with the same configuration
(--config or LIMEN_CONFIG, with the LIMEN_* environment overrides): over HTTPS when http.tls is
set, on loopback when HTTP listens on every address. Exit 0 when it answers 200; 1 otherwise,
with the reason in one line on stderr (usage errors too: Docker reserves exit 2). It creates
nothing: no data dir, database or key.
`;

/** Below Docker's usual 5 s HEALTHCHECK timeout, so the reason is printed before Docker gives up. */
export const PROBE_TIMEOUT_MS = 4000;

/** Where to probe: one or two addresses to try in order, the port, and the scheme. */
export interface ProbeTarget {
  scheme: 'http' | 'https';
  hosts: string[];
  port: number;
}

/** The listener `limen start` would open, as a client on this machine reaches it. */
export function probeTarget(http: Pick<HttpConfig, 'host' | 'port' | 'tls'>): ProbeTarget {
  const host = http.host.replace(/^\[(.*)\]$/, '$1');
  // Every address includes loopback. `::` takes IPv4 too (Node listens dual-stack), and a
  // container without IPv6 on lo has no ::1: IPv4 loopback is tried next.
  const hosts = host === '0.0.0.0' ? ['127.0.0.1'] : host === '::' ? ['::1', '127.0.0.1'] : [host];
  return { scheme: http.tls ? 'https' : 'http', hosts, port: http.port };
}

/** `undefined` when /healthz answered 200, else why not (one line). The hosts share the one time budget. */
export async function probe(target: ProbeTarget, timeoutMs = PROBE_TIMEOUT_MS): Promise<string | undefined> {
  const failures: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (const host of target.hosts) {
    const left = deadline - Date.now();
    if (left <= 0) {
      failures.push(`${host}: not tried, no time left`);
      break;
    }
    const failure = await probeOne(target, host, left);
    if (failure === undefined) return undefined;
    failures.push(failure);
  }
  return failures.join('; ');
}

function probeOne(target: ProbeTarget, host: string, timeoutMs: number): Promise<string | undefined> {
  const url = `${target.scheme}://${host.includes(':') ? `[${host}]` : host}:${target.port}/healthz`;
  return new Promise((resolve) => {
    const answered = (res: IncomingMessage) => {
      res.resume();
      resolve(res.statusCode === 200 ? undefined : `${url} answered ${res.statusCode}`);
    };
    const options = { host, port: target.port, path: '/healthz', method: 'GET', headers: { connection: 'close' }, timeout: timeoutMs };
    // Liveness only, on this machine: the server's own certificate (often for a name, not for
    // loopback) is taken as it is. Nothing secret is sent.
    const req: ClientRequest = target.scheme === 'https' ? httpsRequest({ ...options, rejectUnauthorized: false }, answered) : httpRequest(options, answered);
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(`${url}: ${oneLine(err.code ?? err.message)}`));
    req.end();
  });
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

export const healthcheckCommand: Command = {
  summary: 'probe /healthz where limen start listens with this configuration (for HEALTHCHECK)',
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommandArgs('healthcheck', argv, { config: { type: 'string' } }, USAGE);
    // Docker reads exit 2 as reserved: a usage error is "not healthy".
    if (typeof parsed === 'number') return parsed === 0 ? 0 : 1;
    if (parsed.positionals.length) {
      process.stderr.write(`${surplusArguments('healthcheck', parsed.positionals)}\n`);
      return 1;
    }
    const loaded = loadConfig({ file: parsed.values.config });
    if (!loaded.ok) {
      const errors = loaded.errors.map((e) => `${e.path === '' ? 'config' : e.path}: ${oneLine(e.message)}`).join('; ');
      process.stderr.write(`limen healthcheck: the configuration is not valid: ${errors}\n`);
      return 1;
    }
    const failure = await probe(probeTarget(loaded.config.http));
    if (failure === undefined) return 0;
    process.stderr.write(`limen healthcheck: not healthy: ${failure}\n`);
    return 1;
  },
};
