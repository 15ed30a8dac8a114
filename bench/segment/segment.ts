/**
 * Segmentation benchmark (issue 4, "Speed"): the shipped default model end to end on a
 * 512 × 512 × 300 phantom generated in memory: model load, inference (resampling to 1.5 mm on
 * the fly, sliding window), labels back to the CT grid, post-processing. Each run is a fresh
 * `segmentInWorker` call, as the pipeline makes it; medians of the runs, and the process's
 * peak RSS (main thread and worker together).
 *
 *   node --import tsx bench/segment/segment.ts [--runs 3] [--shared] [--threads N]
 *
 * `--shared` puts the HU in a SharedArrayBuffer (no copy into the worker); by default they are
 * copied, the slower case. Prints one JSON line.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { SHIPPED_DEFAULT_DIR } from '../../pipeline/models/build/default-model.js';
import { segmentInWorker, type SegmentationResult } from '../../pipeline/segment/index.js';
import { generatePhantom } from './phantom.js';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number, digits = 2): number => Number(x.toFixed(digits));

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { runs: { type: 'string', default: '3' }, shared: { type: 'boolean', default: false }, threads: { type: 'string' } },
  });
  const runs = Number(values.runs);
  const t0 = performance.now();
  const volume = generatePhantom({ shared: values.shared });
  const generateS = (performance.now() - t0) / 1000;
  const wall: number[] = [];
  const cpu: number[] = [];
  const results: SegmentationResult[] = [];
  for (let r = 0; r < runs; r++) {
    const c = process.cpuUsage();
    const t = performance.now();
    results.push(await segmentInWorker(volume, SHIPPED_DEFAULT_DIR, undefined, values.threads ? { intraOpNumThreads: Number(values.threads) } : {}));
    wall.push((performance.now() - t) / 1000);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1e6);
  }
  const stage = (k: keyof SegmentationResult['timings']): number => round(median(results.map((x) => x.timings[k])) / 1000);
  const last = results[results.length - 1];
  process.stdout.write(
    `${JSON.stringify({
      bench: 'segment',
      volume: { dims: volume.dims, spacing: volume.spacing, shared: values.shared },
      modelGrid: last.modelGrid,
      patches: last.patches,
      runs,
      generateS: round(generateS),
      endToEndS: round(median(wall)),
      endToEndRunsS: wall.map((w) => round(w)),
      cpuS: round(median(cpu)),
      stagesS: { load: stage('loadMs'), infer: stage('inferMs'), labelsToCt: stage('resampleMs'), postprocess: stage('postprocessMs') },
      segments: last.segments.map((s) => ({ name: s.name, volumeMl: round(s.volumeMl, 1) })),
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    })}\n`,
  );
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`bench segment: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
