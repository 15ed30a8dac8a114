/**
 * Bundles the extension into one ES module for the browser: React, react-dom and three.js
 * included (the viewer's copies cannot be shared), production React, no Node built-ins.
 *
 *   node --import tsx ohif-extension/build.ts [--out <file>] [--no-minify]
 */
import { build, type BuildResult } from 'esbuild';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ENTRY = fileURLToPath(new URL('./src/index.ts', import.meta.url));
export const DEFAULT_OUT_FILE = fileURLToPath(new URL('../dist/ohif-extension/limen-extension.js', import.meta.url));

export interface BuildOptions {
  /** Where to write; `null` to return the code without writing. */
  outFile?: string | null;
  minify?: boolean;
}

/** Builds the module; resolves with its text. A build error throws with esbuild's messages (file:line). */
export async function buildExtension(options: BuildOptions = {}): Promise<string> {
  const outFile = options.outFile === undefined ? DEFAULT_OUT_FILE : options.outFile;
  let result: BuildResult<{ write: false }>;
  try {
    result = await build({
      entryPoints: [ENTRY],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      jsx: 'automatic',
      minify: options.minify ?? true,
      sourcemap: false,
      legalComments: 'eof',
      define: { 'process.env.NODE_ENV': '"production"' },
      write: false,
      logLevel: 'silent',
      outfile: outFile ?? 'limen-extension.js',
    });
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors;
    if (!errors) throw e;
    throw new Error(`the viewer extension does not build:\n${errors.map((m) => (m.location ? `${m.location.file}:${m.location.line}: ${m.text}` : m.text)).join('\n')}`);
  }
  const code = result.outputFiles[0].text;
  if (outFile) {
    const { mkdir, writeFile, rename } = await import('node:fs/promises');
    const { dirname } = await import('node:path');
    await mkdir(dirname(outFile), { recursive: true });
    const tmp = `${outFile}.tmp-${process.pid}`;
    await writeFile(tmp, code);
    await rename(tmp, outFile);
  }
  return code;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const outFile = outIndex >= 0 ? resolve(args[outIndex + 1]) : DEFAULT_OUT_FILE;
  buildExtension({ outFile, minify: !args.includes('--no-minify') }).then(
    (code) => process.stdout.write(`limen viewer extension: ${outFile} (${(code.length / 1024).toFixed(0)} KiB)\n`),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}
