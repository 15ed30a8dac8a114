/**
 * Browser-side helpers for tests: bundle a module as the browser will load it, and serve it (with
 * a page that imports it) from loopback.
 */
import { build } from 'esbuild';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Bundles an entry point as one ES module for the browser. `platform: 'browser'` makes any
 * Node-only import (node:fs, node:crypto...) a build error; that error is thrown with esbuild's
 * own messages (file, line, the import).
 */
export async function bundleForBrowser(entry: string): Promise<string> {
  try {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    });
    return result.outputFiles[0].text;
  } catch (e) {
    const errors = (e as { errors?: Array<{ text: string; location?: { file: string; line: number; lineText: string } | null }> }).errors;
    if (!errors) throw e;
    const lines = errors.map((m) => (m.location ? `${m.location.file}:${m.location.line}: ${m.text} (${m.location.lineText.trim()})` : m.text));
    throw new Error(`${entry} does not bundle for the browser:\n${lines.join('\n')}`);
  }
}

export interface StaticSite {
  url: string;
  close(): Promise<void>;
}

/** Serves fixed files (path → [content type, body]) on 127.0.0.1, an ephemeral port. */
export async function serveStatic(files: Record<string, [string, string | Uint8Array]>): Promise<StaticSite> {
  const server: Server = createServer((req, res) => {
    const file = files[new URL(req.url ?? '/', 'http://x').pathname];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file[0], 'cache-control': 'no-store' }).end(file[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
