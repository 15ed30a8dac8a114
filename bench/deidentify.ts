/**
 * De-identification speed (issue 2): `limen deidentify` side by side with the peers hospitals
 * already run, in one run, on the same generated 300-slice 512×512 CT series:
 *   - limen       the built CLI (dist/gateway/cli/main.js), a fresh output directory per run
 *   - gdcmanon    GDCM's PS3.15 basic profile (`-e`, originals encrypted for a throwaway certificate)
 *   - dcmodify    DCMTK erasing 20 identifying tags in place (on a copy made before the clock starts)
 *   - orthanc     Orthanc 1.10 `POST /studies/{id}/anonymize` (synchronous), after an untimed upload
 * Medians of several runs (5 by default), instances/s and peak RSS. The tools run in a rotating
 * order so none always runs first; dirty pages are flushed before each timed run.
 *
 * Orthanc 1.10 binds every interface, so when Orthanc is included the whole benchmark re-runs
 * itself inside a network namespace that has nothing but loopback (`unshare -n`, root only).
 *
 *   npm run bench -- deidentify [--runs 5] [--slices 300] [--seed 1] [--only limen,gdcmanon,dcmodify,orthanc]
 *                               [--work bench/out/deidentify] [--build] [--no-figure]
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { scanResidualPhi } from '../anonymizer/index.js';
import { BENCH_OUT, CT_SERIES_PHI, DEFAULT_CT_DIR, generateCtSeries, type CtSeries } from './ct-series.js';
import { barChartSvg, svgToPng } from './figure.js';
import { GNU_TIME, cpuSecondsOf, flushDisks, machine, median, peakRssOf, resetPeakRss, timed, versionOf } from './measure.js';
import { ORTHANC_BIN as ORTHANC, OrthancPeer } from '../test/support/orthanc.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLI = join(ROOT, 'dist/gateway/cli/main.js');
const FIGURES = fileURLToPath(new URL('./figures/', import.meta.url));
const NETNS_ENV = 'LIMEN_BENCH_NETNS';
const TOOL_NAMES = ['limen', 'gdcmanon', 'dcmodify', 'orthanc'] as const;
type ToolName = (typeof TOOL_NAMES)[number];
/** How many outputs of each tool the residual-PHI scan reads. */
const SCAN_SAMPLE = 5;

/** The 20 identifying attributes dcmodify erases (everywhere, sequences included: `-ea`). */
export const DCMODIFY_ERASED = [
  'PatientName', 'PatientID', 'IssuerOfPatientID', 'PatientBirthDate', 'PatientSex', 'PatientAge',
  'OtherPatientNames', 'OtherPatientIDsSequence', 'PatientAddress', 'PatientTelephoneNumbers',
  'AccessionNumber', 'StudyID', 'InstitutionName', 'InstitutionAddress', 'ReferringPhysicianName',
  'PerformingPhysicianName', 'OperatorsName', 'RequestingPhysician', 'StationName', 'DeviceSerialNumber',
] as const;

interface Sample {
  seconds: number;
  cpuSeconds: number;
  peakRssKiB: number;
}

/** One peer under test: what is timed, what is prepared before the clock starts, and a check after. */
interface Tool {
  name: ToolName;
  version: string;
  /** The command as a person would type it (paths relative to the project root). */
  command: string;
  /** What it does to each instance, in a few words. */
  does: string;
  /** How its peak RSS is measured. */
  rss: string;
  prepare(): Promise<void>;
  measure(): Promise<Sample>;
  /** Throws when the run did not produce one de-identified output per input. */
  check(): Promise<void>;
  /** A few outputs, for the residual-PHI scan. */
  sample(n: number): Promise<Array<{ name: string; bytes: Uint8Array }>>;
  close?(): Promise<void>;
}

export interface ToolResult {
  name: ToolName;
  version: string;
  command: string;
  does: string;
  rss: string;
  runs: Sample[];
  medianSeconds: number;
  instancesPerSecond: number;
  minInstancesPerSecond: number;
  maxInstancesPerSecond: number;
  medianPeakRssMiB: number;
  /** User + system CPU seconds (median): the cost with other load on the machine mostly taken out. */
  medianCpuSeconds: number;
  instancesPerCpuSecond: number;
  /** Identifying values of the series (and its original UIDs) still found in the sampled outputs. */
  residualValues: string[];
}

/** `npm run bench -- deidentify ...` */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '5' },
      slices: { type: 'string', default: '300' },
      seed: { type: 'string', default: '1' },
      only: { type: 'string', default: TOOL_NAMES.join(',') },
      work: { type: 'string' },
      build: { type: 'boolean', default: false },
      'no-figure': { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  const slices = Number(values.slices);
  const seed = Number(values.seed);
  const only = values.only.split(',').map((s) => s.trim()) as ToolName[];
  const unknown = only.filter((n) => !TOOL_NAMES.includes(n));
  if (unknown.length || !(runs >= 1) || !(slices >= 1)) {
    process.stderr.write(`bench deidentify: bad arguments${unknown.length ? ` (unknown tools: ${unknown.join(', ')}; known: ${TOOL_NAMES.join(', ')})` : ''}\n`);
    return 2;
  }

  if (values.build) {
    process.stdout.write('building: npm run build\n');
    const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (b.status !== 0) process.stdout.write('warning: the build reported errors; timing what it emitted\n');
  }
  // Orthanc binds every interface: run everything where only loopback exists.
  if (only.includes('orthanc') && process.env[NETNS_ENV] !== '1') {
    if (process.getuid?.() === 0 && existsSync('/usr/bin/unshare')) {
      return reexecInNetworkNamespace(argv.filter((a) => a !== '--build'));
    }
    process.stdout.write('orthanc: skipped (needs root for a loopback-only network namespace: unshare -n)\n');
    only.splice(only.indexOf('orthanc'), 1);
  }
  if (!existsSync(GNU_TIME)) {
    process.stderr.write(`bench deidentify: ${GNU_TIME} is missing (apt-get install time); it measures peak RSS\n`);
    return 2;
  }
  if (!existsSync(CLI)) {
    process.stderr.write(`bench deidentify: ${relative(ROOT, CLI)} is missing: run npm run build (or pass --build)\n`);
    return 2;
  }
  warnIfStale();

  const work = resolve(values.work ?? join(BENCH_OUT, 'deidentify'));
  mkdirSync(work, { recursive: true });
  const dir = slices === 300 && seed === 1 ? DEFAULT_CT_DIR : join(BENCH_OUT, `ct${slices}-seed${seed}`);
  const series = generateCtSeries({ dir, slices, seed });
  process.stdout.write(
    `series: ${series.files.length} x ${series.rows}x${series.columns} CT, ${(series.bytes / 2 ** 20).toFixed(1)} MiB in ${relative(ROOT, series.dir)} (${series.reused ? 'reused' : 'generated'})\n`,
  );

  const tools: Tool[] = [];
  try {
    for (const name of only) {
      const tool = await makeTool(name, series, work);
      if (tool) tools.push(tool);
    }
    const loadBefore = machine().loadAverage;
    const samples = new Map<ToolName, Sample[]>(tools.map((t) => [t.name, []]));
    for (let r = 0; r < runs; r++) {
      const order = tools.map((_, i) => tools[(i + r) % tools.length]);
      for (const tool of order) {
        await tool.prepare();
        flushDisks();
        const s = await tool.measure();
        await tool.check();
        samples.get(tool.name)!.push(s);
        process.stdout.write(
          `run ${r + 1}/${runs}  ${tool.name.padEnd(8)} ${s.seconds.toFixed(2).padStart(6)} s  ` +
            `${(series.files.length / s.seconds).toFixed(0).padStart(5)} instances/s  CPU ${s.cpuSeconds.toFixed(2).padStart(5)} s  ${(s.peakRssKiB / 1024).toFixed(0).padStart(5)} MiB\n`,
        );
      }
    }
    const needles = [...CT_SERIES_PHI, series.studyInstanceUID, series.seriesInstanceUID, series.frameOfReferenceUID];
    const results: ToolResult[] = [];
    for (const tool of tools) {
      const runsOf = samples.get(tool.name)!;
      const rates = runsOf.map((s) => series.files.length / s.seconds);
      const hits = scanResidualPhi(await tool.sample(SCAN_SAMPLE), needles);
      results.push({
        name: tool.name,
        version: tool.version,
        command: tool.command,
        does: tool.does,
        rss: tool.rss,
        runs: runsOf,
        medianSeconds: median(runsOf.map((s) => s.seconds)),
        instancesPerSecond: series.files.length / median(runsOf.map((s) => s.seconds)),
        minInstancesPerSecond: Math.min(...rates),
        maxInstancesPerSecond: Math.max(...rates),
        medianPeakRssMiB: median(runsOf.map((s) => s.peakRssKiB)) / 1024,
        medianCpuSeconds: median(runsOf.map((s) => s.cpuSeconds)),
        instancesPerCpuSecond: series.files.length / median(runsOf.map((s) => s.cpuSeconds)),
        residualValues: [...new Set(hits.map((h) => h.value))],
      });
    }
    report(results, series, runs, needles.length, work, loadBefore, !values['no-figure']);
    await writeFigure(results, series, runs, !values['no-figure']);
    return 0;
  } finally {
    for (const t of tools) await t.close?.();
  }
}

function reexecInNetworkNamespace(argv: string[]): Promise<number> {
  process.stdout.write('re-running inside a loopback-only network namespace (unshare -n), for Orthanc\n');
  const child = spawn(
    'unshare',
    ['-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, ...process.execArgv, join(ROOT, 'bench/run.ts'), 'deidentify', ...argv],
    { stdio: 'inherit', env: { ...process.env, [NETNS_ENV]: '1' }, cwd: ROOT },
  );
  return new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
}

/** The built CLI is what is timed: say so when it is older than the sources it comes from. */
function warnIfStale(): void {
  const built = statSync(join(ROOT, 'dist/anonymizer/deidentify.js'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  let newest = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(join(d, e.name)).mtimeMs);
    }
  };
  walk(join(ROOT, 'anonymizer'));
  walk(join(ROOT, 'gateway/cli'));
  if (newest > built) process.stdout.write('warning: dist/ is older than anonymizer/ or gateway/cli/ sources; run npm run build (or pass --build)\n');
}

const rel = (p: string): string => relative(ROOT, p) || '.';

async function makeTool(name: ToolName, series: CtSeries, work: string): Promise<Tool | undefined> {
  const count = (dir: string): number => (existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('.')).length : 0);
  const firstFiles = (dir: string, n: number) =>
    readdirSync(dir)
      .filter((f) => !f.startsWith('.'))
      .sort()
      .slice(0, n)
      .map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(dir, f))) }));
  const expectAll = (tool: string, dir: string, status: number, stderr: string): void => {
    const n = count(dir);
    if (status !== 0 || n !== series.files.length) {
      throw new Error(`${tool}: exit ${status}, ${n} of ${series.files.length} outputs in ${dir}\n${stderr.slice(0, 2000)}`);
    }
  };

  switch (name) {
    case 'limen': {
      const out = join(work, 'limen');
      const keyFile = join(work, 'limen.key');
      writeFileSync(keyFile, Buffer.alloc(32, 0x5a).toString('hex') + '\n', { mode: 0o600 });
      const args = [CLI, 'deidentify', series.dir, '--out', out, '--key-file', keyFile];
      let last = { status: 1, stderr: '' };
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
      return {
        name,
        version: `limen ${pkg.version} (Node ${process.version})`,
        command: `node ${rel(CLI)} deidentify ${rel(series.dir)} --out ${rel(out)} --key-file ${rel(keyFile)}`,
        does: 'PS3.15 Basic Profile from Table E.1-1 2024b (every row), keyed UIDs and pseudonym, marks and code sequence, each file written whole (temporary file renamed into place)',
        rss: 'GNU time %M (ru_maxrss)',
        async prepare() {
          rmSync(out, { recursive: true, force: true });
        },
        async measure() {
          const t = await timed(process.execPath, args, { scratch: work, env: { LIMEN_DATA_DIR: join(work, 'var') } });
          last = t;
          return t;
        },
        async check() {
          expectAll('limen', out, last.status, last.stderr);
        },
        async sample(n) {
          return firstFiles(out, n);
        },
      };
    }
    case 'gdcmanon': {
      const version = versionOf('gdcmanon', ['--version']);
      if (!version) return skip(name, 'libgdcm-tools');
      const out = join(work, 'gdcmanon');
      const certDir = join(work, 'gdcm-cert');
      mkdirSync(certDir, { recursive: true });
      const cert = join(certDir, 'cert.pem');
      // -e encrypts the original attributes for a recipient certificate: a throwaway self-signed one.
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(certDir, 'key.pem'), '-out', cert, '-days', '2', '-subj', '/CN=limen-bench'], {
        stdio: 'ignore',
      });
      const args = ['-e', '-c', cert, '-r', '-i', series.dir, '-o', out];
      let last = { status: 1, stderr: '' };
      return {
        name,
        version: version.replace(/\s*\$Date\$\s*$/, ''),
        command: `gdcmanon ${args.map((a) => (a.startsWith('/') ? rel(a) : a)).join(' ')}`,
        does: "GDCM's PS3.15 Basic Profile (its own attribute list), new UIDs, originals encrypted into EncryptedAttributesSequence (RSA + AES-256)",
        rss: 'GNU time %M (ru_maxrss)',
        async prepare() {
          rmSync(out, { recursive: true, force: true });
        },
        async measure() {
          const t = await timed('gdcmanon', args, { scratch: work });
          last = t;
          return t;
        },
        async check() {
          expectAll('gdcmanon', out, last.status, last.stderr);
        },
        async sample(n) {
          return firstFiles(out, n);
        },
      };
    }
    case 'dcmodify': {
      const version = versionOf('dcmodify', ['--version']);
      if (!version) return skip(name, 'dcmtk');
      const out = join(work, 'dcmodify');
      const erase = DCMODIFY_ERASED.flatMap((t) => ['-ea', t]);
      let last = { status: 1, stderr: '' };
      let args: string[] = [];
      return {
        name,
        version: version.replace(/^\$dcmtk:\s*/, '').replace(/\s*\$$/, ''),
        command: `dcmodify -nb -imt ${erase.join(' ')} ${rel(out)}/*.dcm   (on a copy made before timing)`,
        does: `erases ${DCMODIFY_ERASED.length} identifying attributes in place, nothing else (UIDs, dates, private data and text kept)`,
        rss: 'GNU time %M (ru_maxrss)',
        async prepare() {
          rmSync(out, { recursive: true, force: true });
          cpSync(series.dir, out, { recursive: true });
          args = ['-nb', '-imt', ...erase, ...readdirSync(out).sort().map((f) => join(out, f))];
        },
        async measure() {
          const t = await timed('dcmodify', args, { scratch: work, env: { TCP_NODELAY: '1' } });
          last = t;
          return t;
        },
        async check() {
          expectAll('dcmodify', out, last.status, last.stderr);
        },
        async sample(n) {
          return firstFiles(out, n);
        },
      };
    }
    case 'orthanc': {
      if (!existsSync(ORTHANC)) return skip(name, 'orthanc');
      rmSync(join(work, 'orthanc'), { recursive: true, force: true });
      const peer = await OrthancPeer.start({ dir: join(work, 'orthanc') });
      try {
        process.stdout.write(`orthanc: uploading ${series.files.length} instances (not timed)\n`);
        const studies = await peer.upload(series.files);
        if (studies.length !== 1) throw new Error(`orthanc: expected one study, got ${studies.length}`);
        const [study] = studies;
        let anonymized: { id: string; instancesCount: number; failedInstancesCount: number } | undefined;
        const version = `Orthanc ${((await peer.rest('GET', '/system')) as { Version: string }).Version}`;
        return {
          name,
          version,
          command: `curl -X POST -d '{}' ${peer.base.replace(/:\d+$/, ':<port>')}/studies/<id>/anonymize   (synchronous; upload not timed)`,
          does: "Orthanc's built-in anonymization (its 2021b table), new UIDs, stores the new study (SQLite index + files)",
          rss: 'VmHWM of the Orthanc server, reset before each run (clear_refs 5); CPU from /proc/<pid>/stat',
          async prepare() {
            if (anonymized) await peer.rest('DELETE', `/studies/${anonymized.id}`);
            anonymized = undefined;
          },
          async measure() {
            resetPeakRss(peer.pid);
            const cpu = cpuSecondsOf(peer.pid);
            const started = performance.now();
            const r = (await peer.rest('POST', `/studies/${study}/anonymize`, Buffer.from('{}'))) as { ID: string; InstancesCount: number; FailedInstancesCount: number };
            anonymized = { id: r.ID, instancesCount: r.InstancesCount, failedInstancesCount: r.FailedInstancesCount };
            const seconds = (performance.now() - started) / 1000;
            return { seconds, cpuSeconds: cpuSecondsOf(peer.pid) - cpu, peakRssKiB: peakRssOf(peer.pid) };
          },
          async check() {
            if (!anonymized || anonymized.instancesCount !== series.files.length || anonymized.failedInstancesCount !== 0) {
              throw new Error(`orthanc: anonymized ${anonymized?.instancesCount ?? 0} of ${series.files.length} (failed ${anonymized?.failedInstancesCount ?? '?'})`);
            }
          },
          async sample(n) {
            if (!anonymized) return [];
            const ids = ((await peer.rest('GET', `/studies/${anonymized.id}/instances`)) as Array<{ ID: string }>).map((i) => i.ID).slice(0, n);
            return Promise.all(ids.map(async (id) => ({ name: id, bytes: await peer.file(id) })));
          },
          close: () => peer.stop(),
        };
      } catch (e) {
        await peer.stop();
        throw e;
      }
    }
  }
}

function skip(name: ToolName, pkg: string): undefined {
  process.stdout.write(`${name}: skipped (apt-get install ${pkg})\n`);
  return undefined;
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function report(results: ToolResult[], series: CtSeries, runs: number, needleCount: number, work: string, loadBefore: number[], figure: boolean): void {
  const by = (n: ToolName): ToolResult | undefined => results.find((r) => r.name === n);
  const ratio = (r: ToolResult, base: ToolResult | undefined, of: (x: ToolResult) => number): string =>
    base ? `${(of(r) / of(base)).toFixed(2)}×` : 'n/a';
  const wall = (x: ToolResult): number => x.instancesPerSecond;
  const cpu = (x: ToolResult): number => x.instancesPerCpuSecond;
  const header =
    `| tool | median s | instances/s | range over ${runs} runs | vs Orthanc | vs gdcmanon | CPU s | instances/CPU-s | CPU vs Orthanc | CPU vs gdcmanon | peak RSS MiB | identifying values left (of ${needleCount}) |`;
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${r.medianSeconds.toFixed(2)} | ${fmt(r.instancesPerSecond)} | ${fmt(r.minInstancesPerSecond)}–${fmt(r.maxInstancesPerSecond)} | ` +
      `${ratio(r, by('orthanc'), wall)} | ${ratio(r, by('gdcmanon'), wall)} | ${r.medianCpuSeconds.toFixed(2)} | ${fmt(r.instancesPerCpuSecond)} | ` +
      `${ratio(r, by('orthanc'), cpu)} | ${ratio(r, by('gdcmanon'), cpu)} | ${fmt(r.medianPeakRssMiB)} | ${r.residualValues.length} |`,
  );
  const m = machine();
  process.stdout.write(
    `\n${series.files.length} instances, medians of ${runs} runs; ${m.nproc} CPUs (${m.cpuModel}), ${m.memGiB} GiB, Node ${m.node}; ` +
      `load average ${loadBefore.join(' ')} before, ${m.loadAverage.join(' ')} after\n\n`,
  );
  process.stdout.write([header, `|${'---|'.repeat(12)}`, ...rows].join('\n') + '\n\n');
  for (const r of results) {
    process.stdout.write(`${r.name}: ${r.version}\n  ${r.command}\n  ${r.does}\n  peak RSS: ${r.rss}\n`);
    if (r.residualValues.length) process.stdout.write(`  left in ${SCAN_SAMPLE} sampled outputs: ${r.residualValues.join(' | ')}\n`);
  }
  const json = {
    benchmark: 'deidentify',
    date: new Date().toISOString(),
    machine: { ...m, loadAverageBefore: loadBefore, loadAverageAfter: m.loadAverage },
    series: {
      dir: rel(series.dir),
      instances: series.files.length,
      rows: series.rows,
      columns: series.columns,
      seed: series.seed,
      bytes: series.bytes,
    },
    work: rel(work),
    runs,
    residualScan: { sampledOutputs: SCAN_SAMPLE, values: needleCount },
    dcmodifyErased: DCMODIFY_ERASED,
    results,
  };
  // The latest run under a fixed name, and every run under its date, so a quick run never loses a full one.
  const file = join(BENCH_OUT, 'deidentify.json');
  const dated = join(BENCH_OUT, `deidentify-${json.date.replace(/[:.]/g, '-')}.json`);
  for (const f of [file, dated]) writeFileSync(f, JSON.stringify(json, null, 2) + '\n');
  process.stdout.write(`\nwrote ${rel(file)} (and ${rel(dated)})${figure ? ` and ${rel(join(FIGURES, 'deidentify.svg'))} (+ .png)` : ''}\n`);
}

async function writeFigure(results: ToolResult[], series: CtSeries, runs: number, enabled: boolean): Promise<void> {
  if (!enabled || results.length === 0) return;
  mkdirSync(FIGURES, { recursive: true });
  const m = machine();
  const svg = barChartSvg({
    title: `De-identifying a ${series.files.length}-slice ${series.rows}×${series.columns} CT series`,
    subtitle: `medians of ${runs} runs, whiskers: min–max; ${m.nproc} vCPUs (${m.cpuModel}), load ${m.loadAverage[1]}, Node ${m.node}; ${new Date().toISOString().slice(0, 10)}`,
    panels: [
      {
        title: 'instances per second (higher is better)',
        format: (v) => `${fmt(v)}/s`,
        bars: results.map((r) => ({
          label: r.name,
          value: r.instancesPerSecond,
          min: r.minInstancesPerSecond,
          max: r.maxInstancesPerSecond,
          emphasis: r.name === 'limen',
        })),
      },
      {
        title: 'instances per CPU-second, user + system (higher is better; less sensitive to other load)',
        format: (v) => `${fmt(v)}/CPU-s`,
        bars: results.map((r) => ({ label: r.name, value: r.instancesPerCpuSecond, emphasis: r.name === 'limen' })),
      },
      {
        title: 'peak resident memory (lower is better)',
        format: (v) => `${fmt(v)} MiB`,
        bars: results.map((r) => ({ label: r.name, value: r.medianPeakRssMiB, emphasis: r.name === 'limen' })),
      },
    ],
  });
  writeFileSync(join(FIGURES, 'deidentify.svg'), svg);
  const png = await svgToPng(svg, join(FIGURES, 'deidentify.png')).catch((e: Error) => {
    process.stdout.write(`figure: no PNG (${e.message.split('\n')[0]})\n`);
    return false;
  });
  if (!png) process.stdout.write('figure: SVG only (Chromium not available for the PNG)\n');
}
