/**
 * Meshing benchmark: our extraction, smoothing and decimation against VTK's flying edges,
 * windowed sinc and quadric decimation, side by side in one run, on the same synthetic
 * 300 × 512 × 512 bone mask.
 *
 *   node --import tsx bench/mesh/run.ts [--runs 5] [--vtk-decimation-runs 3] [--iterations 20] [--pass-band 0.05] [--ratio 0.1]
 *
 * Each side runs in its own process (so each peak RSS is its own) and reports medians of several
 * runs and the first (cold) run. Errors are measured the same way for both: decimation error by VTK
 * cell locators against each side's own smoothed surface, and the distance of every vertex to the
 * true surface, known exactly from the shapes' signed distance functions. Prints a table; writes
 * bench/out/mesh.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BONE_GEOMETRY, boneDistanceFunction, generateBoneMask } from './synthetic-bones.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const runs = option('runs', 5);
const vtkDecimationRuns = option('vtk-decimation-runs', 3);
const iterations = option('iterations', 20);
const passBand = option('pass-band', 0.05);
const ratio = option('ratio', 0.1);

interface Side {
  extractS: { median: number; first: number };
  smoothS: { median: number; first: number };
  decimateS: { median: number; first: number };
  cpuS: { extract: number; smooth: number; decimate: number };
  triangles: { extracted: number; decimated: number };
  volumeMl: { extracted: number; smoothed: number; decimated: number };
  peakRssMb: number;
  [key: string]: unknown;
}

const loadAtStart = loadavg();
const work = mkdtempSync(join(tmpdir(), 'limen-bench-mesh-'));
try {
  let t = performance.now();
  const mask = generateBoneMask();
  let inside = 0;
  for (let i = 0; i < mask.length; i++) inside += mask[i];
  writeFileSync(join(work, 'mask.raw'), mask);
  writeFileSync(join(work, 'geometry.json'), JSON.stringify(BONE_GEOMETRY));
  process.stderr.write(`mask ${BONE_GEOMETRY.dims.join('×')} (${inside} voxels inside) generated in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);

  const env = { ...process.env, OMP_NUM_THREADS: '1' };
  process.stderr.write('running ours…\n');
  const ours = JSON.parse(
    execFileSync(process.execPath, ['--import', 'tsx', join(here, 'ours.ts'), work, String(runs), String(iterations), String(passBand), String(ratio)], { cwd: root, env, maxBuffer: 1 << 24 }).toString(),
  ) as Side;
  process.stderr.write('running VTK…\n');
  const vtk = JSON.parse(
    execFileSync('/usr/bin/python3', [join(here, 'vtk_pipeline.py'), work, String(runs), String(vtkDecimationRuns), String(iterations), String(passBand), String(ratio)], { env, maxBuffer: 1 << 24 }).toString(),
  ) as Side;
  process.stderr.write('measuring decimation error…\n');
  t = performance.now();
  const decimationError = JSON.parse(execFileSync('/usr/bin/python3', [join(here, 'surface_error.py'), work, 'ours', 'vtk'], { env, maxBuffer: 1 << 24 }).toString()) as Record<string, Record<string, unknown>>;

  // Distance of every vertex to the true (analytic) surface. Vertices within 2 mm of the volume's
  // faces are left out: where a bone leaves the volume the mesh is closed by a cap that is not
  // part of the true surface.
  const sdf = boneDistanceFunction();
  const g = BONE_GEOMETRY;
  const lo = g.imagePositionPatient;
  const hi = [0, 1, 2].map((a) => lo[a] + (g.dims[a] - 1) * g.spacing[a]);
  const nearFace = (x: number, y: number, z: number): boolean =>
    x < lo[0] + 2 || x > hi[0] - 2 || y < lo[1] + 2 || y > hi[1] - 2 || z < lo[2] + 2 || z > hi[2] - 2;
  const trueSurface: Record<string, Record<string, { mean: number; p95: number; max: number }>> = { ours: {}, vtk: {} };
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
    row('triangles extracted', String(ours.triangles.extracted), String(vtk.triangles.extracted)),
    row('triangles decimated', String(ours.triangles.decimated), String(vtk.triangles.decimated)),
    row('volume mL: extracted', f(ours.volumeMl.extracted, 1), f(vtk.volumeMl.extracted, 1)),
    row('           smoothed', f(ours.volumeMl.smoothed, 1), f(vtk.volumeMl.smoothed, 1)),
    row('           decimated', f(ours.volumeMl.decimated, 1), f(vtk.volumeMl.decimated, 1)),
    row(`           voxel count × voxel`, f((inside * BONE_GEOMETRY.spacing[0] * BONE_GEOMETRY.spacing[1] * BONE_GEOMETRY.spacing[2]) / 1000, 1), ''),
    row('decimation error, mm (mean/p95/max)', '', ''),
    row('  decimated → smoothed', err('ours', 'decimatedToSmoothedMm'), err('vtk', 'decimatedToSmoothedMm')),
    row('  smoothed → decimated', err('ours', 'smoothedToDecimatedMm'), err('vtk', 'smoothedToDecimatedMm')),
    row('  sampled Hausdorff', f(decimationError.ours.hausdorffMm as number), f(decimationError.vtk.hausdorffMm as number)),
    row('vertex → true surface, mm (mean/p95/max)', '', ''),
    row('  (vertices ≥ 2 mm inside the volume)', '', ''),
    ...(['extracted', 'smoothed', 'decimated'] as const).map((stage) =>
      row(`  ${stage}`, `${f(trueSurface.ours[stage].mean)} / ${f(trueSurface.ours[stage].p95)} / ${f(trueSurface.ours[stage].max)}`, `${f(trueSurface.vtk[stage].mean)} / ${f(trueSurface.vtk[stage].p95)} / ${f(trueSurface.vtk[stage].max)}`),
    ),
  ];
  if (ours.closedManifold !== undefined) lines.push(row('ours closed manifold (extracted, decimated)', JSON.stringify(ours.closedManifold), ''), row('ours decimation repair', String(ours.decimationRepair), ''));
  lines.push(row('load average (1 min) at start / end', `${f(loadAtStart[0], 2)} / ${f(loadavg()[0], 2)}`, ''));
  process.stdout.write(lines.join('\n') + '\n');

  const outDir = join(root, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  const result = {
    command: `node --import tsx bench/mesh/run.ts --runs ${runs} --vtk-decimation-runs ${vtkDecimationRuns} --iterations ${iterations} --pass-band ${passBand} --ratio ${ratio}`,
    date: new Date().toISOString(),
    node: process.version,
    loadAverage: { start: loadAtStart, end: loadavg() },
    geometry: BONE_GEOMETRY,
    voxelsInside: inside,
    ours,
    vtk,
    decimationError,
    trueSurfaceDistanceMm: trueSurface,
  };
  writeFileSync(join(outDir, 'mesh.json'), JSON.stringify(result, null, 2) + '\n');
  process.stderr.write(`wrote ${join('bench', 'out', 'mesh.json')}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
