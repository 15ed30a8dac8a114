/**
 * WADO-RS frames per second (issue 5, target ≥ 300 frames/s), Limen beside Orthanc 1.10's
 * DICOMweb plugin, in one run. The generated 300-slice 512×512 CT goes through Limen's edge
 * (de-identified, encrypted, stored) and is uploaded to Orthanc as is; then every slice's frame is
 * fetched as a viewer fetches it (`/frames/1`, multipart/related; type="application/octet-stream"),
 * over HTTP on loopback, six requests in flight (a browser's per-host limit) and one at a time.
 *
 * Two flows per server, taking turns in a rotating order, medians of several runs:
 *   frames   the frames alone. For Limen its cache of decrypted instances is emptied first, so
 *            every request reads, decrypts, authenticates and parses its instance (the cold path).
 *   viewer   what OHIF does on opening a series: its metadata (timed on its own), then the frames.
 *            For Limen the cache is emptied before the metadata, which fills it.
 * Limen is asked with the viewer's session cookie, as OHIF asks it. The client is a process of its
 * own, as a browser is; each server's CPU time per frame is measured beside the wall-clock rate (on
 * a shared machine the rate follows the load, the CPU time much less).
 *
 * Orthanc binds every interface: as root the benchmark re-runs itself in a loopback-only network
 * namespace (unshare -n). `--targets limen` runs Limen alone, anywhere.
 *
 *   npm run bench -- dicomweb-frames [--runs 5] [--targets limen,orthanc] [--work bench/out/dicomweb-frames]
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { BENCH_OUT, generateCtSeries } from '../ct-series.js';
import { cpuSecondsOf, machine, median, versionOf } from '../measure.js';
import { OrthancPeer } from '../../test/support/orthanc.js';
import { loopbackOnly, namespaceProblem, rerunInLoopbackNamespace } from '../netns.js';
import { startBenchServer, type BenchServer } from './server.js';

const ACCEPT = 'multipart/related; type="application/octet-stream"; transfer-syntax=*';
const FRAME_BYTES = 512 * 512 * 2;
const TARGETS = ['limen', 'orthanc'] as const;
type TargetName = (typeof TARGETS)[number];
const FLOWS = ['frames', 'viewer'] as const;
type Flow = (typeof FLOWS)[number];
const CONCURRENCY = [6, 1] as const;

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

/** One server as the benchmark drives it. */
interface Side {
  name: TargetName;
  version: string;
  urls: string[];
  metadataUrl: string;
  headers: Record<string, string>;
  /** CPU seconds the server has used so far. */
  cpuSeconds(): number;
  /** Called before each flow: Limen empties its instance cache. */
  reset(): void;
}

interface Sample {
  framesPerSecond: number;
  /** The server's CPU time (user + system) per frame, ms. */
  serverCpuMs: number;
  /** Viewer flow: the series metadata, ms. */
  metadataMs?: number;
}

/** One pass of the client in a process of its own. */
function clientPass(side: Side, concurrency: number): Promise<Sample> {
  return new Promise((resolvePass, reject) => {
    const child = spawn(process.execPath, ['-e', CLIENT], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.on('error', reject);
    const cpu = side.cpuSeconds();
    child.on('close', (code) => {
      const used = side.cpuSeconds() - cpu;
      if (code !== 0) return reject(new Error(`the client exited with ${code} (${side.name})`));
      resolvePass({ framesPerSecond: Number(out), serverCpuMs: (used * 1000) / side.urls.length });
    });
    child.stdin.end(JSON.stringify({ urls: side.urls, headers: { ...side.headers, accept: ACCEPT }, concurrency, minBytes: FRAME_BYTES }));
  });
}

async function runFlow(side: Side, flow: Flow, concurrency: number): Promise<Sample> {
  side.reset();
  let metadataMs: number | undefined;
  if (flow === 'viewer') {
    const t0 = performance.now();
    const r = await fetch(side.metadataUrl, { headers: { ...side.headers, accept: 'application/dicom+json' } });
    const n = ((await r.json()) as unknown[]).length;
    metadataMs = performance.now() - t0;
    if (r.status !== 200 || n !== side.urls.length) throw new Error(`${side.name}: series metadata answered ${r.status} with ${n} instances`);
  }
  return { ...(await clientPass(side, concurrency)), metadataMs };
}

async function limenSide(server: BenchServer, files: readonly string[]): Promise<{ side: Side; ingestSeconds: number }> {
  const t0 = performance.now();
  let study = '';
  for (const file of files) {
    const out = await server.ingest.ingest({ format: 'part10', bytes: readFileSync(file), route: 'default', source: { kind: 'upload' } });
    if (!out.ok) throw new Error(`the edge refused ${file}: ${out.reason}`);
    study = out.studyInstanceUID;
  }
  const ingestSeconds = (performance.now() - t0) / 1000;
  const instances = await server.storage.listInstances(study);
  const series = instances[0].seriesInstanceUID;
  const start = process.cpuUsage();
  return {
    ingestSeconds,
    side: {
      name: 'limen',
      version: `Limen ${JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version}`,
      urls: instances.map((i) => `${server.root}/studies/${study}/series/${series}/instances/${i.sopInstanceUID}/frames/1`),
      metadataUrl: `${server.root}/studies/${study}/series/${series}/metadata`,
      headers: server.sessionHeaders,
      cpuSeconds: () => {
        const u = process.cpuUsage(start);
        return (u.user + u.system) / 1e6;
      },
      reset: () => server.cache.clear(),
    },
  };
}

async function orthancSide(orthanc: OrthancPeer, files: readonly string[]): Promise<{ side: Side; uploadSeconds: number }> {
  const t0 = performance.now();
  const [studyId] = await orthanc.upload(files);
  const uploadSeconds = (performance.now() - t0) / 1000;
  const study = (await orthanc.rest('GET', `/studies/${studyId}`)) as { MainDicomTags: { StudyInstanceUID: string } };
  const instances = (await orthanc.rest('GET', `/studies/${studyId}/instances?expand`)) as Array<{ MainDicomTags: { SOPInstanceUID: string; InstanceNumber: string }; ParentSeries: string }>;
  const seriesTags = (await orthanc.rest('GET', `/series/${instances[0].ParentSeries}`)) as { MainDicomTags: { SeriesInstanceUID: string } };
  const root = `${orthanc.base}/dicom-web/studies/${study.MainDicomTags.StudyInstanceUID}/series/${seriesTags.MainDicomTags.SeriesInstanceUID}`;
  instances.sort((a, b) => Number(a.MainDicomTags.InstanceNumber) - Number(b.MainDicomTags.InstanceNumber));
  return {
    uploadSeconds,
    side: {
      name: 'orthanc',
      version: ((await orthanc.rest('GET', '/system')) as { Version: string }).Version,
      urls: instances.map((i) => `${root}/instances/${i.MainDicomTags.SOPInstanceUID}/frames/1`),
      metadataUrl: `${root}/metadata`,
      headers: {},
      cpuSeconds: () => cpuSecondsOf(orthanc.pid),
      reset: () => {},
    },
  };
}

/** The first frame as each server sends it: the same pixels, or the comparison is void. */
async function firstFrame(side: Side): Promise<Buffer> {
  const r = await fetch(side.urls[0], { headers: { ...side.headers, accept: ACCEPT } });
  const body = Buffer.from(await r.arrayBuffer());
  const boundary = /boundary="?([^";]+)"?/i.exec(r.headers.get('content-type') ?? '')?.[1];
  if (r.status !== 200 || !boundary) throw new Error(`${side.name}: frame 1 answered ${r.status} ${r.headers.get('content-type')}`);
  const start = body.indexOf('\r\n\r\n') + 4;
  const end = body.indexOf(`\r\n--${boundary}`, start);
  return body.subarray(start, end);
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '5' },
      targets: { type: 'string', default: TARGETS.join(',') },
      work: { type: 'string', default: join(BENCH_OUT, 'dicomweb-frames') },
    },
  });
  const runs = Number(values.runs);
  const targets = values.targets!.split(',').map((t) => t.trim()) as TargetName[];
  for (const t of targets) if (!TARGETS.includes(t)) throw new Error(`unknown target ${t}; known: ${TARGETS.join(', ')}`);
  if (targets.includes('orthanc') && !loopbackOnly()) {
    const problem = namespaceProblem();
    if (problem) {
      process.stderr.write(`dicomweb-frames: Orthanc binds every interface and runs in a loopback-only namespace, which ${problem}; or pass --targets limen\n`);
      return 2;
    }
    return rerunInLoopbackNamespace(fileURLToPath(import.meta.url), argv);
  }

  const work = resolve(values.work!);
  const ct = generateCtSeries({});
  const loadBefore = machine().loadAverage;
  let server: BenchServer | undefined;
  let orthanc: OrthancPeer | undefined;
  const stopAll = async (): Promise<void> => {
    await server?.stop().catch(() => {});
    await orthanc?.stop().catch(() => {});
  };
  const onSignal = (): void => void stopAll().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const sides: Side[] = [];
    const setup: Record<string, number> = {};
    if (targets.includes('limen')) {
      server = await startBenchServer(join(work, 'limen'));
      const l = await limenSide(server, ct.files);
      setup.limenIngestSeconds = round(l.ingestSeconds);
      sides.push(l.side);
    }
    if (targets.includes('orthanc')) {
      orthanc = await OrthancPeer.start({ dir: join(work, 'orthanc'), dicomweb: true });
      const o = await orthancSide(orthanc, ct.files);
      setup.orthancUploadSeconds = round(o.uploadSeconds);
      sides.push(o.side);
    }
    const frames = await Promise.all(sides.map(firstFrame));
    if (frames.some((f) => f.length !== FRAME_BYTES)) throw new Error(`a frame is not ${FRAME_BYTES} bytes: ${frames.map((f) => f.length).join(', ')}`);
    const samePixels = frames.every((f) => f.equals(frames[0]));
    if (!samePixels) throw new Error('Limen and Orthanc sent different pixels for the first frame');

    // Warm-up (JIT, page cache), then the runs, the servers taking turns in a rotating order.
    for (const side of sides) await runFlow(side, 'frames', 6);
    const samples = new Map<string, Sample[]>();
    for (let r = 0; r < runs; r++) {
      for (let k = 0; k < sides.length; k++) {
        const side = sides[(r + k) % sides.length];
        for (const flow of FLOWS) {
          for (const c of CONCURRENCY) {
            const key = `${side.name}/${flow}/${c}`;
            samples.set(key, [...(samples.get(key) ?? []), await runFlow(side, flow, c)]);
          }
        }
      }
      process.stdout.write(`run ${r + 1}/${runs} done\n`);
    }

    const results = [...samples].map(([key, ss]) => {
      const [target, flow, concurrency] = key.split('/');
      const fps = ss.map((s) => s.framesPerSecond);
      const metadata = ss.map((s) => s.metadataMs).filter((m): m is number => m !== undefined);
      return {
        target,
        flow,
        concurrency: Number(concurrency),
        framesPerSecond: round(median(fps)),
        runs: fps.map(round),
        serverCpuMsPerFrame: Math.round(median(ss.map((s) => s.serverCpuMs)) * 100) / 100,
        ...(metadata.length ? { metadataMs: round(median(metadata)), metadataRuns: metadata.map(round) } : {}),
      };
    });
    const get = (t: string, f: string, c: number) => results.find((x) => x.target === t && x.flow === f && x.concurrency === c);
    const ratios: Record<string, number> = {};
    if (sides.length === 2) {
      for (const f of FLOWS) for (const c of CONCURRENCY) ratios[`${f}/${c}`] = Math.round((get('limen', f, c)!.framesPerSecond / get('orthanc', f, c)!.framesPerSecond) * 100) / 100;
    }
    const limenCold = get('limen', 'frames', 6)?.framesPerSecond;
    const limenViewer = get('limen', 'viewer', 6)?.framesPerSecond;
    const result = {
      benchmark: 'dicomweb-frames',
      date: new Date().toISOString(),
      command: `npm run bench -- dicomweb-frames ${argv.join(' ')}`.trim(),
      machine: { ...machine(), loadAverageBefore: loadBefore },
      series: { slices: ct.files.length, rows: 512, columns: 512, bitsAllocated: 16, seed: 1 },
      accept: ACCEPT,
      versions: Object.fromEntries(sides.map((s) => [s.name, s.version])),
      orthancDicomweb: targets.includes('orthanc') ? versionOf('dpkg-query', ['-W', '-f', '${Version}', 'orthanc-dicomweb']) : undefined,
      setup,
      firstFrameIdentical: samePixels,
      runs,
      results,
      limenOverOrthanc: ratios,
      target: '>= 300 frames/s',
      met: { framesCold: limenCold !== undefined && limenCold >= 300, viewer: limenViewer !== undefined && limenViewer >= 300 },
    };
    writeFileSync(join(BENCH_OUT, 'dicomweb-frames.json'), JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(table(results, ratios));
    return limenCold !== undefined && limenCold >= 300 ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stopAll();
    rmSync(work, { recursive: true, force: true });
  }
}

function table(results: Array<{ target: string; flow: string; concurrency: number; framesPerSecond: number; runs: number[]; serverCpuMsPerFrame: number; metadataMs?: number }>, ratios: Record<string, number>): string {
  const lines = ['', '| flow | in flight | target | frames/s (median) | runs | server CPU ms/frame | metadata ms | Limen/Orthanc |', '|---|---|---|---|---|---|---|---|'];
  for (const r of results) {
    lines.push(`| ${r.flow} | ${r.concurrency} | ${r.target} | ${r.framesPerSecond} | ${r.runs.join(' / ')} | ${r.serverCpuMsPerFrame} | ${r.metadataMs ?? ''} | ${r.target === 'limen' ? (ratios[`${r.flow}/${r.concurrency}`] ?? '') : ''} |`);
  }
  return lines.join('\n') + '\n';
}

const round = (x: number): number => Math.round(x * 10) / 10;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code), (err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = 1;
  });
}
