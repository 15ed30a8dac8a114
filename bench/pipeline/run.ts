/**
 * The processing pipeline end to end (issue 4, "Speed"): `limen segment` with the default model on
 * the 300-slice 512 × 512 CT series of `bench/ct-series.ts`, de-identified first as the gateway
 * would. Each run is a fresh process (`child.ts`, which runs the CLI's own command), so each peak
 * RSS is one command's. Reports medians of the runs: the process from spawn to exit, the command,
 * and per stage from the command's report.json (assemble; model load, inference, labels back to
 * the CT grid and post-processing within segmentation; SEG; meshing; GLB/STL encoding), plus
 * reading the instances and writing the files (the command minus the pipeline).
 *
 *   npm run bench -- pipeline [--runs 3] [--slices 300] [--seed 1]
 *
 * Prints a table; writes bench/out/pipeline.json. Targets: end to end ≤ 30 s, peak RSS ≤ 2 GB.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCH_OUT, generateCtSeries } from '../ct-series.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
const CLI = join(ROOT, 'gateway/cli/main.ts');
const TARGET_S = 30;
const TARGET_RSS_MB = 2048;

const rel = (p: string): string => relative(ROOT, p) || '.';
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

interface Report {
  series: { slices: number; dims: number[] };
  model: { id: string; version: string };
  timings: Record<'assemble' | 'segment' | 'seg' | 'mesh' | 'files' | 'total', number>;
  cpuTimings: Record<'assemble' | 'segment' | 'seg' | 'mesh' | 'files' | 'total', number>;
  segmentStages: Record<'load' | 'infer' | 'labelsToCt' | 'postprocess', number>;
  segments: Array<{ label: string; volumeMl: number; meshVolumeMl: number; triangles: number; meshing: { extractedTriangles: number; extractMs: number; smoothMs: number; decimateMs: number } }>;
}

interface Run {
  processMs: number;
  commandMs: number;
  cpuMs: number;
  maxRssMb: number;
  report: Report;
}

/** The series de-identified by `limen deidentify` (once; kept beside the series for later runs). */
function deidentified(seriesDir: string, slices: number, seed: number): string {
  const dir = join(BENCH_OUT, 'pipeline', `deid-${slices}-${seed}`);
  if (existsSync(dir) && readdirSync(dir).length === slices) return dir;
  const work = `${dir}.partial`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const keyFile = join(BENCH_OUT, 'pipeline', 'limen.key');
  writeFileSync(keyFile, Buffer.alloc(32, 0x5a).toString('hex') + '\n', { mode: 0o600 });
  process.stderr.write(`de-identifying ${rel(seriesDir)} into ${rel(dir)}…\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'deidentify', seriesDir, '--out', work, '--key-file', keyFile], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`limen deidentify failed (${r.status}): ${r.stderr}`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
  return dir;
}

function runOnce(seriesDir: string, index: number): Run {
  const out = join(BENCH_OUT, 'pipeline', 'out');
  const resultFile = join(BENCH_OUT, 'pipeline', `run-${index}.json`);
  rmSync(out, { recursive: true, force: true });
  rmSync(resultFile, { force: true });
  const started = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, seriesDir, out, resultFile], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 24 });
  const processMs = performance.now() - started;
  if (r.status !== 0 || !existsSync(resultFile)) throw new Error(`limen segment failed (${r.status}): ${r.stderr}`);
  const result = JSON.parse(readFileSync(resultFile, 'utf8')) as Omit<Run, 'processMs'> & { code: number };
  if (result.code !== 0 || result.report === null) throw new Error(`limen segment exited ${result.code}: ${r.stderr}`);
  return { processMs, commandMs: result.commandMs, cpuMs: result.cpuMs, maxRssMb: result.maxRssMb, report: result.report };
}

/** `npm run bench -- pipeline [--runs 3] [--slices 300] [--seed 1]` */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { runs: { type: 'string', default: '3' }, slices: { type: 'string', default: '300' }, seed: { type: 'string', default: '1' } } });
  const runs = Number(values.runs);
  const slices = Number(values.slices);
  const seed = Number(values.seed);
  const loadAtStart = loadavg();
  // The default series is the one every benchmark shares; another size or seed gets its own directory.
  const dir = slices === 300 && seed === 1 ? undefined : join(BENCH_OUT, `ct-${slices}-${seed}`);
  const series = generateCtSeries({ dir, slices, seed });
  process.stderr.write(`${series.reused ? 'reusing' : 'generated'} ${series.files.length} slices of ${series.rows}×${series.columns} in ${rel(series.dir)}\n`);
  const input = deidentified(series.dir, slices, seed);

  const results: Run[] = [];
  for (let i = 0; i < runs; i++) {
    process.stderr.write(`run ${i + 1}/${runs}…\n`);
    const run = runOnce(input, i);
    results.push(run);
    process.stderr.write(`  ${(run.processMs / 1000).toFixed(1)} s, peak RSS ${run.maxRssMb.toFixed(0)} MB\n`);
  }

  const s = (f: (r: Run) => number): number => median(results.map(f)) / 1000;
  const stage = {
    assemble: s((r) => r.report.timings.assemble),
    modelLoad: s((r) => r.report.segmentStages.load),
    infer: s((r) => r.report.segmentStages.infer),
    labelsToCt: s((r) => r.report.segmentStages.labelsToCt),
    postprocess: s((r) => r.report.segmentStages.postprocess),
    segmentOther: s((r) => r.report.timings.segment - r.report.segmentStages.load - r.report.segmentStages.infer - r.report.segmentStages.labelsToCt - r.report.segmentStages.postprocess),
    segment: s((r) => r.report.timings.segment),
    seg: s((r) => r.report.timings.seg),
    mesh: s((r) => r.report.timings.mesh),
    files: s((r) => r.report.timings.files),
    pipeline: s((r) => r.report.timings.total),
    readWrite: s((r) => r.commandMs - r.report.timings.total),
    command: s((r) => r.commandMs),
    process: s((r) => r.processMs),
    cpu: s((r) => r.cpuMs),
  };
  const peakRssMb = median(results.map((r) => r.maxRssMb));
  const maxPeakRssMb = Math.max(...results.map((r) => r.maxRssMb));
  const last = results[results.length - 1].report;
  const meshing = last.segments.map((seg, k) => ({
    label: seg.label,
    extractedTriangles: seg.meshing.extractedTriangles,
    triangles: seg.triangles,
    extractS: median(results.map((r) => r.report.segments[k].meshing.extractMs)) / 1000,
    smoothS: median(results.map((r) => r.report.segments[k].meshing.smoothMs)) / 1000,
    decimateS: median(results.map((r) => r.report.segments[k].meshing.decimateMs)) / 1000,
    volumeMl: seg.volumeMl,
    meshVolumeMl: seg.meshVolumeMl,
  }));

  const cpu = (k: keyof Report['cpuTimings']): number => s((r) => r.report.cpuTimings[k]);
  const cpuStage = { assemble: cpu('assemble'), segment: cpu('segment'), seg: cpu('seg'), mesh: cpu('mesh'), files: cpu('files'), pipeline: cpu('total') };

  const f = (x: number, d = 2): string => x.toFixed(d);
  const row = (label: string, value: string, cpuS = '', note = ''): string => `${label.padEnd(44)}${value.padStart(12)}${cpuS.padStart(10)}  ${note}`;
  const range = (g: (r: Run) => number): string => `runs ${results.map((r) => f(g(r) / 1000, 1)).join(' / ')}`;
  const endToEndMet = stage.process <= TARGET_S;
  const rssMet = maxPeakRssMb <= TARGET_RSS_MB;
  const lines = [
    row(`${last.series.slices} slices ${last.series.dims.slice(0, 2).join('×')}, model ${last.model.id} ${last.model.version}`, 'wall s', 'CPU s'),
    row('medians', '', ''),
    row('  assemble (decode, sort, check, HU)', f(stage.assemble), f(cpuStage.assemble)),
    row('  segment (worker thread), of which', f(stage.segment), f(cpuStage.segment)),
    row('    model load', f(stage.modelLoad)),
    row('    inference (resampling included)', f(stage.infer)),
    row('    labels back to the CT grid', f(stage.labelsToCt)),
    row('    post-processing', f(stage.postprocess)),
    row('    worker start and data transfer', f(stage.segmentOther)),
    row('  SEG', f(stage.seg), f(cpuStage.seg)),
    row('  mesh (every segment)', f(stage.mesh), f(cpuStage.mesh)),
    row('  GLB and STL encoding', f(stage.files), f(cpuStage.files)),
    row('  pipeline (report.json total)', f(stage.pipeline), f(cpuStage.pipeline), range((r) => r.report.timings.total)),
    row('  reading instances, writing files', f(stage.readWrite)),
    row('  command (limen segment)', f(stage.command), f(stage.cpu), range((r) => r.commandMs)),
    row('  process, spawn to exit (end to end)', f(stage.process), '', range((r) => r.processMs)),
    row('peak RSS, MB (median; max)', `${f(peakRssMb, 0)}; ${f(maxPeakRssMb, 0)}`, '', `runs ${results.map((r) => f(r.maxRssMb, 0)).join(' / ')}`),
    ...meshing.flatMap((m) => [
      row(`meshing ${m.label}: triangles`, `${m.extractedTriangles} → ${m.triangles}`),
      row(`  extract / smooth / decimate, s`, `${f(m.extractS)} / ${f(m.smoothS)} / ${f(m.decimateS)}`, '', `total ${f(m.extractS + m.smoothS + m.decimateS)}`),
      row(`  volume mL: voxels, mesh`, `${f(m.volumeMl, 1)}, ${f(m.meshVolumeMl, 1)}`),
    ]),
    row(`target: end to end ≤ ${TARGET_S} s`, endToEndMet ? 'met' : 'NOT met', '', `${f(stage.process, 1)} s`),
    row(`target: peak RSS ≤ ${TARGET_RSS_MB / 1024} GB`, rssMet ? 'met' : 'NOT met', '', `${f(maxPeakRssMb, 0)} MB (largest run)`),
    row('load average (1 min) at start / end', `${f(loadAtStart[0])} / ${f(loadavg()[0])}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');

  const json = {
    benchmark: 'pipeline',
    command: `npm run bench -- pipeline --runs ${runs} --slices ${slices} --seed ${seed}`,
    date: new Date().toISOString(),
    node: process.version,
    loadAverage: { start: loadAtStart, end: loadavg() },
    input: { series: rel(series.dir), deidentified: rel(input), slices, rows: series.rows, columns: series.columns, seed },
    mediansS: stage,
    cpuMediansS: cpuStage,
    peakRssMb: { median: peakRssMb, max: maxPeakRssMb },
    meshing,
    targets: { endToEndS: TARGET_S, endToEndMet, peakRssMb: TARGET_RSS_MB, peakRssMet: rssMet },
    runs: results,
  };
  writeFileSync(join(BENCH_OUT, 'pipeline.json'), JSON.stringify(json, null, 2) + '\n');
  process.stderr.write(`wrote ${rel(join(BENCH_OUT, 'pipeline.json'))}\n`);
  return 0;
}

if (process.argv[1] !== undefined && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`bench pipeline: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
