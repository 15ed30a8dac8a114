/**
 * Our side of the meshing benchmark, run in its own process so its peak RSS is its own:
 * reads the raw mask and its grid, times extraction, smoothing and decimation (several runs
 * each), writes the resulting meshes for the error comparison and prints one JSON line.
 *
 * Usage: node --import tsx bench/mesh/ours.ts <work-dir> <runs> <iterations> <passBand> <ratio>
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkManifold,
  decimateMesh,
  extractSurface,
  measureMesh,
  prepareDecimation,
  smoothMesh,
  type TriangleMesh,
  type VolumeGeometry,
} from '../../pipeline/mesh/index.js';

const [dir, runsArg, iterationsArg, passBandArg, ratioArg] = process.argv.slice(2);
const runs = Number(runsArg);
const iterations = Number(iterationsArg);
const passBand = Number(passBandArg);
const ratio = Number(ratioArg);

/** Wall-clock and CPU seconds (user + system, all threads) of one call. */
function timed<T>(f: () => T): [T, number, number] {
  const c = process.cpuUsage();
  const t = performance.now();
  const r = f();
  const d = process.cpuUsage(c);
  return [r, (performance.now() - t) / 1000, (d.user + d.system) / 1e6];
}

async function timedAsync<T>(f: () => Promise<T>): Promise<[T, number, number]> {
  const c = process.cpuUsage();
  const t = performance.now();
  const r = await f();
  const d = process.cpuUsage(c);
  return [r, (performance.now() - t) / 1000, (d.user + d.system) / 1e6];
}

function writeMesh(name: string, mesh: TriangleMesh): void {
  writeFileSync(join(dir, `${name}.pos.f32`), mesh.positions);
  writeFileSync(join(dir, `${name}.idx.u32`), mesh.indices);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// As `meshSegment` does before it extracts: the simplifier's worker thread is started and warmed
// up once per process (timed here, reported apart), so every run meshes as a running pipeline does.
const [, warmUpS] = await timedAsync(() => prepareDecimation());
const mask = new Uint8Array(readFileSync(join(dir, 'mask.raw')));
const geometry = JSON.parse(readFileSync(join(dir, 'geometry.json'), 'utf8')) as VolumeGeometry;
const extractS: number[] = [];
const smoothS: number[] = [];
const decimateS: number[] = [];
const cpu = { extract: [] as number[], smooth: [] as number[], decimate: [] as number[] };
let extracted: TriangleMesh | null = null;
let smoothed: TriangleMesh | null = null;
let decimated: TriangleMesh | null = null;
let repair = '';
for (let r = 0; r < runs; r++) {
  const [e, te, ce] = timed(() => extractSurface(mask, geometry, 1));
  extractS.push(te);
  cpu.extract.push(ce);
  const [s, ts, cs] = timed(() => smoothMesh(e, { method: 'windowed-sinc', iterations, passBand }));
  smoothS.push(ts);
  cpu.smooth.push(cs);
  const [d, td, cd] = await timedAsync(() => decimateMesh(s, { targetRatio: ratio }));
  decimateS.push(td);
  cpu.decimate.push(cd);
  extracted = e;
  smoothed = s;
  decimated = d.mesh;
  repair = `${d.repair} (fins ${d.finsRemoved}, pinches ${d.pinchesSplit}, attempts ${d.attempts})`;
}
const peakRssMb = process.resourceUsage().maxRSS / 1024;
writeMesh('ours-extracted', extracted!);
writeMesh('ours-smoothed', smoothed!);
writeMesh('ours-decimated', decimated!);
const manifold = {
  extracted: checkManifold(extracted!).closedManifold,
  decimated: checkManifold(decimated!).closedManifold,
};
process.stdout.write(
  JSON.stringify({
    extractS: { median: median(extractS), first: extractS[0], runs: extractS },
    smoothS: { median: median(smoothS), first: smoothS[0], runs: smoothS },
    decimateS: { median: median(decimateS), first: decimateS[0], runs: decimateS },
    cpuS: { extract: median(cpu.extract), smooth: median(cpu.smooth), decimate: median(cpu.decimate) },
    cpuRunsS: cpu,
    triangles: { extracted: extracted!.indices.length / 3, decimated: decimated!.indices.length / 3 },
    volumeMl: { extracted: measureMesh(extracted!).volumeMl, smoothed: measureMesh(smoothed!).volumeMl, decimated: measureMesh(decimated!).volumeMl },
    closedManifold: manifold,
    decimationRepair: repair,
    decimatorWarmUpS: warmUpS,
    peakRssMb,
  }) + '\n',
);
