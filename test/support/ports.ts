/** Free loopback ports for servers whose configuration cannot say "any port". */
import { createServer, type Server } from 'node:net';

/**
 * Every port handed out in this process. A port is usually drawn well before its server binds
 * it (a configuration is written, a peer started), and the kernel may offer a released port
 * again at once: two servers told the same port, one of them fails to start. Never handing a
 * port out twice in a process rules that out; a test run draws a few hundred of ~28,000.
 */
const handedOut = new Set<number>();

/** A loopback port that is free now and was never handed out by this process before. */
export async function freePort(): Promise<number> {
  // Each candidate is held open until one is found, so the kernel cannot offer it again meanwhile.
  const held: Server[] = [];
  try {
    for (let tries = 0; tries < 100; tries++) {
      const s = createServer();
      held.push(s);
      const port = await new Promise<number>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port));
      });
      if (!handedOut.has(port)) {
        handedOut.add(port);
        return port;
      }
    }
    throw new Error('no loopback port free that this process has not handed out already');
  } finally {
    await Promise.all(held.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
  }
}
