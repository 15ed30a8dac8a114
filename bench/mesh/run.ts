/**
 * Meshing benchmark: our extraction, smoothing and decimation against VTK's flying edges,
 * windowed sinc and quadric decimation, side by side in one run, on the same 300 × 512 × 512
 * bone mask: by default a synthetic one whose true surface is known exactly
 * (`synthetic-bones.ts`); with `--mask ct-series`, the bone the default model segments in the
 * benchmark CT series (`ct-bone-mask.ts`), as the pipeline meshes it.
 *
 *   node --import tsx bench/mesh/run.ts [--mask synthetic|ct-series] [--rounds 3] [--runs 3] [--vtk-decimation-runs 1]
 *                                       [--iterations 20] [--pass-band 0.05] [--ratio 0.1]
 *
 * Each side runs in its own process (so each peak RSS is its own). The sides alternate, ours then
 * VTK, for several rounds of several runs each, so a change in the machine's load falls on both;
 * medians are over all runs of all rounds, "first" is the cold first run of the first round. VTK's
 * quadric decimation (10–30 s a run) is timed in the first round only. Errors are measured the
 * same way for both: decimation error by VTK cell locators against each side's own smoothed
 * surface and, for the synthetic mask, the distance of every vertex to the true surface, known
 * exactly from the shapes' signed distance functions. Prints a table; writes bench/out/mesh.json
 * (bench/out/mesh-ct-series.json for the CT series).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { VolumeGeometry } from '../../pipeline/mesh/index.js';
import { ctSeriesBoneMask } from './ct-bone-mask.js';
import { BONE_GEOMETRY, boneDistanceFunction, generateBoneMask } from './synthetic-bones.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const rounds = option('rounds', 3);
const runs = option('runs', 3);
const vtkDecimationRuns = option('vtk-decimation-runs', 1);
const iterations = option('iterations', 20);
const passBand = option('pass-band', 0.05);
const ratio = option('ratio', 0.1);
const maskArg = process.argv.indexOf('--mask');
const maskKind = maskArg >= 0 ? process.argv[maskArg + 1] : 'synthetic';
if (maskKind !== 'synthetic' && maskKind !== 'ct-series') throw new Error(`--mask must be synthetic or ct-series, not ${maskKind}`);

interface Timing {
  median: number;
  first: number;
  runs: number[];
}

interface Side {
  extractS: Timing;
  smoothS: Timing;
  decimateS: Timing;
  cpuS: { extract: number; smooth: number; decimate: number };
  cpuRunsS: { extract: number[]; smooth: number[]; decimate: number[] };
  triangles: { extracted: number; decimated: number };
  volumeMl: { extracted: number; smoothed: number; decimated: number };
  peakRssMb: number;
  [key: string]: unknown;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** One side's rounds as one: timings over all runs of all rounds; everything else from the first round (the one that decimated). */
function mergeRounds(sides: Side[]): Side {
  const timing = (key: 'extractS' | 'smoothS' | 'decimateS'): Timing => {
    const all = sides.flatMap((s) => s[key]?.runs ?? []);
    return { median: median(all), first: sides[0][key].first, runs: all };
  };
  const cpuRunsS = {
    extract: sides.flatMap((s) => s.cpuRunsS.extract),
    smooth: sides.flatMap((s) => s.cpuRunsS.smooth),
    decimate: sides.flatMap((s) => s.cpuRunsS.decimate),
  };
  return {
    ...sides[0],
    extractS: timing('extractS'),
    smoothS: timing('smoothS'),
    decimateS: timing('decimateS'),
    cpuRunsS,
    cpuS: { extract: median(cpuRunsS.extract), smooth: median(cpuRunsS.smooth), decimate: median(cpuRunsS.decimate) },
    peakRssMb: Math.max(...sides.map((s) => s.peakRssMb)),
    ...(sides[0].decimatorWarmUpS === undefined ? {} : { decimatorWarmUpS: median(sides.map((s) => s.decimatorWarmUpS as number)) }),
  };
}

const loadAtStart = loadavg();
const work = mkdtempSync(join(tmpdir(), 'limen-bench-mesh-'));
try {
  let t = performance.now();
  let mask: Uint8Array;
  let geometry: VolumeGeometry;
  if (maskKind === 'synthetic') {
    mask = generateBoneMask();
    geometry = BONE_GEOMETRY;
  } else {
    ({ mask, geometry } = await ctSeriesBoneMask());
  }
  // VTK's image data is axis-aligned: the grid must be too, for both sides to see the same mask.
  const [[r0, r1, r2], [c0, c1, c2]] = [geometry.rowDirection, geometry.columnDirection];
  if (r0 !== 1 || r1 !== 0 || r2 !== 0 || c0 !== 0 || c1 !== 1 || c2 !== 0 || geometry.sliceDirection[2] !== 1) throw new Error('the mask grid is not axis-aligned');
  let inside = 0;
  for (let i = 0; i < mask.length; i++) inside += mask[i];
  writeFileSync(join(work, 'mask.raw'), mask);
  writeFileSync(join(work, 'geometry.json'), JSON.stringify(geometry));
  process.stderr.write(`${maskKind} mask ${geometry.dims.join('×')} (${inside} voxels inside) made in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);

  const env = { ...process.env, OMP_NUM_THREADS: '1' };
  const oursRounds: Side[] = [];
  const vtkRounds: Side[] = [];
  for (let r = 0; r < rounds; r++) {
    process.stderr.write(`round ${r + 1}/${rounds}: ours…\n`);
    oursRounds.push(
      JSON.parse(
        execFileSync(process.execPath, ['--import', 'tsx', join(here, 'ours.ts'), work, String(runs), String(iterations), String(passBand), String(ratio)], { cwd: root, env, maxBuffer: 1 << 24 }).toString(),
      ) as Side,
    );
    process.stderr.write(`round ${r + 1}/${rounds}: VTK…\n`);
    const decimationRuns = r === 0 ? vtkDecimationRuns : 0;
    vtkRounds.push(
      JSON.parse(
        execFileSync('/usr/bin/python3', [join(here, 'vtk_pipeline.py'), work, String(runs), String(decimationRuns), String(iterations), String(passBand), String(ratio)], { env, maxBuffer: 1 << 24 }).toString(),
      ) as Side,
    );
  }
  const ours = mergeRounds(oursRounds);
  const vtk = mergeRounds(vtkRounds);
  process.stderr.write('measuring decimation error…\n');
  t = performance.now();
  const decimationError = JSON.parse(execFileSync('/usr/bin/python3', [join(here, 'surface_error.py'), work, 'ours', 'vtk'], { env, maxBuffer: 1 << 24 }).toString()) as Record<string, Record<string, unknown>>;

  // Distance of every vertex to the true (analytic) surface, known for the synthetic mask only.
  // Vertices within 2 mm of the volume's faces are left out: where a bone leaves the volume the
  // mesh is closed by a cap that is not part of the true surface.
  type Stats = { mean: number; p95: number; max: number };
  let trueSurface: Record<string, Record<string, Stats>> | null = null;
  if (maskKind === 'synthetic') {
    trueSurface = { ours: {}, vtk: {} };
    const sdf = boneDistanceFunction();
    const g = geometry;
    const lo = g.origin;
    const hi = [0, 1, 2].map((a) => lo[a] + (g.dims[a] - 1) * g.spacing[a]);
    const nearFace = (x: number, y: number, z: number): boolean =>
      x < lo[0] + 2 || x > hi[0] - 2 || y < lo[1] + 2 || y > hi[1] - 2 || z < lo[2] + 2 || z > hi[2] - 2;
    for (const side of ['ours', 'vtk'] as const) {
      for (const stage of ['extracted', 'smoothed', 'decimated'] as const) {
        const raw = readFileSync(join(work, `${side}-${stage}.pos.f32`));
        const p = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
        const d: number[] = [];
        for (let v = 0; v < p.length / 3; v++) {
          const [x, y, z] = [p[v * 3], p[v * 3 + 1], p[v * 3 + 2]];
          if (!nearFace(x, y, z)) d.push(Math.abs(sdf([x, y, z])));
        }
        const sorted = d.sort((a, b) => a - b);
        trueSurface[side][stage] = { mean: d.reduce((s, x) => s + x, 0) / d.length, p95: sorted[Math.floor(0.95 * (sorted.length - 1))], max: sorted[sorted.length - 1] };
      }
    }
  }
  process.stderr.write(`errors measured in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);

  const f = (x: number, d = 3): string => x.toFixed(d);
  const row = (label: string, a: string, b: string, r = ''): string => `${label.padEnd(34)}${a.padStart(22)}${b.padStart(22)}${r.padStart(10)}`;
  const total = (s: Side, k: 'median' | 'first'): number => s.extractS[k] + s.smoothS[k] + s.decimateS[k];
  const err = (side: string, dir: string): string => {
    const e = decimationError[side][dir] as { mean: number; p95: number; max: number };
    return `${f(e.mean)} / ${f(e.p95)} / ${f(e.max)}`;
  };
  const lines = [
    row('', 'ours', `VTK ${String(vtk.vtkVersion)}`, 'ours/VTK'),
    row('times, median (first run), s', '', ''),
    row('  surface extraction', `${f(ours.extractS.median)} (${f(ours.extractS.first)})`, `${f(vtk.extractS.median)} (${f(vtk.extractS.first)})`, f(ours.extractS.median / vtk.extractS.median, 2)),
    row(`  windowed sinc, ${iterations} passes, kPB ${passBand}`, `${f(ours.smoothS.median)} (${f(ours.smoothS.first)})`, `${f(vtk.smoothS.median)} (${f(vtk.smoothS.first)})`, f(ours.smoothS.median / vtk.smoothS.median, 2)),
    row(`  decimation to ${ratio * 100} %`, `${f(ours.decimateS.median)} (${f(ours.decimateS.first)})`, `${f(vtk.decimateS.median)} (${f(vtk.decimateS.first)})`, f(ours.decimateS.median / vtk.decimateS.median, 2)),
    row('  total', `${f(total(ours, 'median'))} (${f(total(ours, 'first'))})`, `${f(total(vtk, 'median'))} (${f(total(vtk, 'first'))})`, f(total(ours, 'median') / total(vtk, 'median'), 2)),
    row('CPU seconds, median (all threads)', '', ''),
    ...(['extract', 'smooth', 'decimate'] as const).map((k) => row(`  ${k}`, f(ours.cpuS[k]), f(vtk.cpuS[k]), f(ours.cpuS[k] / vtk.cpuS[k], 2))),
    row('peak RSS of the process, MB', f(ours.peakRssMb, 0), f(vtk.peakRssMb, 0)),
    row('simplifier thread start, once, s', f(ours.decimatorWarmUpS as number), ''),
    row('triangles extracted', String(ours.triangles.extracted), String(vtk.triangles.extracted)),
    row('triangles decimated', String(ours.triangles.decimated), String(vtk.triangles.decimated)),
    row('volume mL: extracted', f(ours.volumeMl.extracted, 1), f(vtk.volumeMl.extracted, 1)),
    row('           smoothed', f(ours.volumeMl.smoothed, 1), f(vtk.volumeMl.smoothed, 1)),
    row('           decimated', f(ours.volumeMl.decimated, 1), f(vtk.volumeMl.decimated, 1)),
    row(`           voxel count × voxel`, f((inside * geometry.spacing[0] * geometry.spacing[1] * geometry.spacing[2]) / 1000, 1), ''),
    row('decimation error, mm (mean/p95/max)', '', ''),
    row('  decimated → smoothed', err('ours', 'decimatedToSmoothedMm'), err('vtk', 'decimatedToSmoothedMm')),
    row('  smoothed → decimated', err('ours', 'smoothedToDecimatedMm'), err('vtk', 'smoothedToDecimatedMm')),
    row('  sampled Hausdorff', f(decimationError.ours.hausdorffMm as number), f(decimationError.vtk.hausdorffMm as number)),
    ...(trueSurface === null
      ? []
      : [
          row('vertex → true surface, mm (mean/p95/max)', '', ''),
          row('  (vertices ≥ 2 mm inside the volume)', '', ''),
          ...(['extracted', 'smoothed', 'decimated'] as const).map((stage) => {
            const [o, v] = [trueSurface!.ours[stage], trueSurface!.vtk[stage]];
            return row(`  ${stage}`, `${f(o.mean)} / ${f(o.p95)} / ${f(o.max)}`, `${f(v.mean)} / ${f(v.p95)} / ${f(v.max)}`);
          }),
        ]),
  ];
  if (ours.closedManifold !== undefined) lines.push(row('ours closed manifold (extracted, decimated)', JSON.stringify(ours.closedManifold), ''), row('ours decimation repair', String(ours.decimationRepair), ''));
  const oursTotal = total(ours, 'median');
  lines.push(
    row('target: extraction no slower than flying edges', ours.extractS.median <= vtk.extractS.median ? 'met' : 'NOT met', ''),
    row('target: extract + smooth + decimate ≤ 2 s', `${oursTotal <= 2 ? 'met' : 'NOT met'} (${f(oursTotal, 2)} s)`, ''),
  );
  if (trueSurface !== null) {
    const noWorse = trueSurface.ours.decimated.mean <= trueSurface.vtk.decimated.mean && trueSurface.ours.decimated.p95 <= trueSurface.vtk.decimated.p95;
    lines.push(row('target: true-surface error ≤ VTK (mean, p95)', noWorse ? 'met' : 'NOT met', ''));
  }
  lines.push(
    row(`runs per side`, `${rounds} rounds × ${runs}`, `decimation ${vtkDecimationRuns}`),
    row('load average (1 min) at start / end', `${f(loadAtStart[0], 2)} / ${f(loadavg()[0], 2)}`, ''),
  );
  process.stdout.write(lines.join('\n') + '\n');

  const outDir = join(root, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  const result = {
    command: `node --import tsx bench/mesh/run.ts --mask ${maskKind} --rounds ${rounds} --runs ${runs} --vtk-decimation-runs ${vtkDecimationRuns} --iterations ${iterations} --pass-band ${passBand} --ratio ${ratio}`,
    date: new Date().toISOString(),
    node: process.version,
    loadAverage: { start: loadAtStart, end: loadavg() },
    mask: maskKind,
    geometry,
    voxelsInside: inside,
    ours,
    vtk,
    decimationError,
    trueSurfaceDistanceMm: trueSurface,
  };
  const outName = maskKind === 'synthetic' ? 'mesh.json' : 'mesh-ct-series.json';
  writeFileSync(join(outDir, outName), JSON.stringify(result, null, 2) + '\n');
  process.stderr.write(`wrote ${join('bench', 'out', outName)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
