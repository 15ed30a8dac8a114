/**
 * WADO-RS frames per second (issue 5, target ≥ 300 frames/s): the generated 300-slice 512×512 CT
 * goes through the edge (de-identified, encrypted, stored), then every slice's frame is fetched
 * as a viewer fetches it (`/frames/1`, multipart/related; type="application/octet-stream"),
 * over HTTP on loopback: one request at a time, and six at a time as a browser does per host.
 * The client is a process of its own, as a browser is, and the server's CPU time per frame is
 * measured beside the wall-clock rate: on a shared machine the rate follows the load, the CPU
 * time much less. Each fetch decrypts and authenticates the whole instance. Medians of several
 * passes; the series metadata a viewer loads first is timed too.
 *
 *   npm run bench -- dicomweb-frames [--runs 3] [--work bench/out/dicomweb-frames]
 *   node --import tsx bench/dicomweb/frames.ts  (the same, run directly)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { BENCH_OUT, generateCtSeries } from '../ct-series.js';
import { machine, median } from '../measure.js';
import { startBenchServer } from './server.js';

const ACCEPT = 'multipart/related; type="application/octet-stream"; transfer-syntax=*';

/**
 * The client: gets every URL, `concurrency` at a time, and prints frames/s. Plain JavaScript for
 * `node -e`, on node:http with keep-alive (lighter than fetch, so the machine's CPU goes to the server).
 */
const CLIENT = `
const http = require('node:http');
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', async () => {
  const { urls, headers, concurrency, minBytes } = JSON.parse(input);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const get = (url) => new Promise((resolve, reject) => {
    http.get(url, { headers, agent }, (res) => {
      let n = 0;
      res.on('data', (c) => (n += c.length));
      res.on('end', () => (res.statusCode === 200 && n >= minBytes ? resolve() : reject(new Error(url + ': ' + res.statusCode + ', ' + n + ' bytes'))));
      res.on('error', reject);
    }).on('error', reject);
  });
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < urls.length) await get(urls[next++]);
  }));
  process.stdout.write(String(urls.length / ((performance.now() - started) / 1000)));
  agent.destroy();
});
`;

interface Pass {
  framesPerSecond: number;
  /** The server's CPU time (user + system) per frame, ms. */
  serverCpuMs: number;
}

/** One pass of the client in a process of its own. */
function clientPass(urls: string[], headers: Record<string, string>, concurrency: number, minBytes: number): Promise<Pass> {
  return new Promise((resolvePass, reject) => {
    const child = spawn(process.execPath, ['-e', CLIENT], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.on('error', reject);
    const cpu = process.cpuUsage();
    child.on('close', (code) => {
      const used = process.cpuUsage(cpu);
      if (code !== 0) return reject(new Error(`the client exited with ${code}`));
      resolvePass({ framesPerSecond: Number(out), serverCpuMs: (used.user + used.system) / 1000 / urls.length });
    });
    child.stdin.end(JSON.stringify({ urls, headers, concurrency, minBytes }));
  });
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { runs: { type: 'string', default: '3' }, work: { type: 'string', default: join(BENCH_OUT, 'dicomweb-frames') } },
  });
  const runs = Number(values.runs);
  const ct = generateCtSeries({});
  const server = await startBenchServer(resolve(values.work!));
  try {
    const t0 = performance.now();
    let study = '';
    for (const file of ct.files) {
      const out = await server.ingest.ingest({ format: 'part10', bytes: readFileSync(file), route: 'default', source: { kind: 'upload' } });
      if (!out.ok) throw new Error(`the edge refused ${file}: ${out.reason}`);
      study = out.studyInstanceUID;
    }
    const ingestSeconds = (performance.now() - t0) / 1000;
    const instances = await server.storage.listInstances(study);
    const urls = instances.map((i) => `${server.root}/studies/${study}/series/${i.seriesInstanceUID}/instances/${i.sopInstanceUID}/frames/1`);
    const frameBytes = 512 * 512 * 2;

    const headers = { ...server.headers, accept: ACCEPT };
    const pass = (concurrency: number) => clientPass(urls, headers, concurrency, frameBytes);

    const m0 = performance.now();
    const metadata = await fetch(`${server.root}/studies/${study}/series/${instances[0].seriesInstanceUID}/metadata`, { headers: server.headers });
    const metadataCount = ((await metadata.json()) as unknown[]).length;
    const metadataMs = performance.now() - m0;

    await pass(1); // warm-up: JIT, page cache
    const sequential: Pass[] = [];
    const parallel: Pass[] = [];
    for (let r = 0; r < runs; r++) {
      sequential.push(await pass(1));
      parallel.push(await pass(6));
    }
    const fps = (ps: Pass[]) => ps.map((p) => p.framesPerSecond);
    const cpuMs = (ps: Pass[]) => median(ps.map((p) => p.serverCpuMs));
    const round = (x: number) => Math.round(x * 10) / 10;
    const result = {
      benchmark: 'dicomweb-frames',
      date: new Date().toISOString(),
      machine: machine(),
      database: server.storage.dialect,
      series: { slices: instances.length, rows: 512, columns: 512, bitsAllocated: 16 },
      ingestSeconds: round(ingestSeconds),
      seriesMetadata: { instances: metadataCount, ms: round(metadataMs) },
      framesPerSecond: {
        oneAtATime: { median: round(median(fps(sequential))), runs: fps(sequential).map(round) },
        sixAtATime: { median: round(median(fps(parallel))), runs: fps(parallel).map(round) },
      },
      serverCpuMsPerFrame: { oneAtATime: Math.round(cpuMs(sequential) * 100) / 100, sixAtATime: Math.round(cpuMs(parallel) * 100) / 100 },
      /** What one core of the server would sustain: 1000 / CPU ms per frame. */
      framesPerServerCpuSecond: round(1000 / cpuMs(parallel)),
      megabytesPerSecondSixAtATime: round((median(fps(parallel)) * frameBytes) / 1e6),
      target: '>= 300 frames/s',
    };
    writeFileSync(join(BENCH_OUT, 'dicomweb-frames.json'), JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return median(fps(parallel)) >= 300 ? 0 : 1;
  } finally {
    await server.stop();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code), (err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = 1;
  });
}
