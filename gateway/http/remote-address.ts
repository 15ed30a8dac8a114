import type { Context } from 'hono';

/** The peer's address when served by @hono/node-server; absent in in-process requests. */
export function remoteAddressOf(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}
