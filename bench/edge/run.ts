/**
 * Edge speed (issue 3): the same 300-slice 512×512 CT series pushed to Limen, DCMTK storescp and
 * Orthanc 1.10, side by side in one run:
 *   dimse-1  storescu (TCP_NODELAY=1), one association
 *   dimse-4  four storescu processes in parallel, a quarter of the series each
 *   stow-1   STOW-RS, batches of 50 instances, one request in flight (Limen and Orthanc's DICOMweb)
 *   stow-2   the same, two requests in flight
 *   dimse-4-tls  dimse-4 over DICOM TLS (storescu +tls, each side's certificate checked against a
 *            throwaway CA made with openssl): what the BCP 195 profile costs each receiver
 * Every timed run gets a freshly started receiver with an empty store; the targets take turns in
 * a rotating order; medians of several runs (5 by default). With `--warm-up <n>` each receiver
 * first gets n instances of another study (seed 2), untimed and sent the same way, as a receiver
 * that has been running would have: the steady state rather than a process's first instances.
 * Reported: instances/s, the receiver's CPU time, and its peak RSS over the transfer (VmHWM after
 * resetting it through clear_refs once the receiver is up).
 *
 * `--baseline-storage <rev>` adds `limen-baseline`: the same gateway over `storage/` as it was at
 * that revision, interleaved with the current code, so a before/after shares load and disk.
 *
 * storescp and Orthanc bind every interface, so the driver runs inside a network namespace that
 * has nothing but loopback; started outside one (as root), it re-runs itself with `unshare -n`.
 *
 *   npm run bench -- edge [--runs 5] [--slices 300] [--targets limen,storescp,orthanc]
 *                         [--scenarios dimse-1,dimse-4,dimse-each,stow-1,stow-2,dimse-4-tls] [--limen bundle|dist]
 *                         [--database sqlite|postgres] [--label edge] [--no-figure] [--replot] [--warm-up 0]
 *                         [--baseline-storage <git rev> | --baseline <source tree>]
 *   unshare -n sh -c 'ip link set lo up && exec node --import tsx bench/edge/run.ts'   (the same)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCH_OUT, generateCtSeries, type CtSeries } from '../ct-series.js';
import { barChartSvg, svgToPng, type Panel } from '../figure.js';
import { cpuSecondsOf, flushDisks, machine, median, peakRssOf, resetPeakRss, versionOf, type Machine } from '../measure.js';
import { baselineTree } from './baseline.js';
import { loopbackOnly, namespaceProblem, rerunInLoopbackNamespace } from '../netns.js';
import { createTestPki } from '../../test/support/tls-certificates.js';
import { buildStowBodies, sendDimse, sendStow, storescuArgs, type SenderTls, type StowBody } from './senders.js';
import { ORTHANC, STORESCP, TARGET_NAMES, clean, limenTarget, retire, orthancTarget, storescpTarget, type BenchTls, type RunningTarget, type Target, type TargetName } from './targets.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIGURES = join(ROOT, 'bench/figures');
const WORK = join(BENCH_OUT, 'edge');
/** Finished runs' emptied files, removed at the end (see `retire`). */
const RETIRED = join(WORK, 'retired');
const STOW_BATCH = 50;

export const SCENARIOS = {
  'dimse-1': { kind: 'dimse', streams: 1, summary: 'storescu, 1 association' },
  'dimse-4': { kind: 'dimse', streams: 4, summary: 'storescu, 4 associations in parallel' },
  // Many modalities and some PACS open an association per instance: what an association costs.
  'dimse-each': { kind: 'dimse', streams: 2, perInstance: true, summary: 'storescu, one association per instance, 2 at a time' },
  'stow-1': { kind: 'stow', streams: 1, summary: `STOW-RS, batches of ${STOW_BATCH}, 1 request in flight` },
  'stow-2': { kind: 'stow', streams: 2, summary: `STOW-RS, batches of ${STOW_BATCH}, 2 requests in flight` },
  'dimse-4-tls': { kind: 'dimse', streams: 4, tls: true, summary: 'storescu over DICOM TLS, 4 associations in parallel' },
} as const;
export type ScenarioName = keyof typeof SCENARIOS;

const perInstance = (spec: (typeof SCENARIOS)[ScenarioName]): boolean => 'perInstance' in spec && spec.perInstance;
const overTls = (spec: (typeof SCENARIOS)[ScenarioName]): boolean => 'tls' in spec && spec.tls;

interface Sample {
  seconds: number;
  cpuSeconds: number;
  peakRssKiB: number;
}

export interface Result {
  scenario: ScenarioName;
  target: TargetName;
  runs: Sample[];
  medianSeconds: number;
  instancesPerSecond: number;
  minInstancesPerSecond: number;
  maxInstancesPerSecond: number;
  medianCpuSeconds: number;
  medianPeakRssMiB: number;
  maxPeakRssMiB: number;
}

export interface EdgeReport {
  benchmark: 'edge';
  label: string;
  date: string;
  machine: Machine & { loadAverageBefore: number[]; loadAverageAfter: number[] };
  command: string;
  series: { dir: string; instances: number; rows: number; columns: number; seed: number; bytes: number };
  runs: number;
  /** Instances of another study each receiver got, untimed, before the timed transfer. */
  warmUpInstances?: number;
  targets: Array<{ name: TargetName; version: string; command: string; does: string }>;
  scenarios: Array<{ name: ScenarioName; summary: string }>;
  results: Result[];
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '5' },
      slices: { type: 'string', default: '300' },
      targets: { type: 'string', default: 'limen,storescp,orthanc' },
      // Over TLS only when asked: the issue's paths are the plain ones.
      scenarios: { type: 'string', default: Object.keys(SCENARIOS).filter((s) => !overTls(SCENARIOS[s as ScenarioName])).join(',') },
      limen: { type: 'string', default: 'bundle' },
      baseline: { type: 'string' },
      'baseline-storage': { type: 'string' },
      database: { type: 'string', default: 'sqlite' },
      'postgres-url': { type: 'string', default: `postgres:///test?host=/var/run/postgresql&user=${userInfo().username}` },
      label: { type: 'string', default: 'edge' },
      'no-figure': { type: 'boolean', default: false },
      replot: { type: 'boolean', default: false },
      'warm-up': { type: 'string', default: '0' },
    },
  });
  if (values.replot) return replot(values.label);
  const runs = Number(values.runs);
  const targetNames = values.targets.split(',').map((s) => s.trim()) as TargetName[];
  if ((values.baseline || values['baseline-storage']) && !targetNames.includes('limen-baseline')) targetNames.splice(1, 0, 'limen-baseline');
  if (targetNames.includes('limen-baseline') && !values.baseline && !values['baseline-storage']) throw new Error('limen-baseline needs --baseline-storage <git rev> or --baseline <source tree>');
  const scenarioNames = values.scenarios.split(',').map((s) => s.trim()) as ScenarioName[];
  for (const t of targetNames) if (!TARGET_NAMES.includes(t)) throw new Error(`unknown target ${t}; known: ${TARGET_NAMES.join(', ')}`);
  for (const s of scenarioNames) if (!(s in SCENARIOS)) throw new Error(`unknown scenario ${s}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  if (!/^[a-z0-9-]+$/.test(values.label)) throw new Error('--label is lower-case letters, digits and dashes');

  const peers = targetNames.filter((t) => !t.startsWith('limen'));
  if (peers.length > 0 && !loopbackOnly()) {
    const problem = namespaceProblem();
    if (problem) {
      process.stderr.write(`edge: ${peers.join(' and ')} bind every interface; the loopback-only namespace ${problem}, or pass --targets limen\n`);
      return 2;
    }
    return rerunInLoopbackNamespace(fileURLToPath(import.meta.url), argv, peers.join(' and '));
  }

  const made = values['baseline-storage'] && !values.baseline ? baselineTree(values['baseline-storage']) : undefined;
  if (made) values.baseline = made;
  // Whatever happens, the receivers this run started are stopped (by PID) and the scratch tree removed.
  const live = new Set<RunningTarget>();
  const cleanUp = async (): Promise<void> => {
    for (const r of live) await r.stop().catch(() => {});
    if (made) rmSync(made, { recursive: true, force: true });
    rmSync(RETIRED, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`edge: ${signal}, stopping what this run started\n`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await measureAll(values, runs, targetNames, scenarioNames, live, argv);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanUp();
  }
}

async function measureAll(
  values: { slices: string; limen: string; database: string; 'postgres-url': string; baseline?: string; 'baseline-storage'?: string; label: string; 'no-figure': boolean; 'warm-up': string },
  runs: number,
  targetNames: TargetName[],
  scenarioNames: ScenarioName[],
  live: Set<RunningTarget>,
  argv: string[],
): Promise<number> {
  const series = generateCtSeries({ slices: Number(values.slices) });
  mkdirSync(WORK, { recursive: true });
  const targets: Target[] = [];
  const baselineLabel = values['baseline-storage'] ? `storage/ of ${values['baseline-storage']}` : values.baseline;
  for (const name of targetNames) targets.push(await makeTarget(name, values.limen, values.database === 'postgres' ? values['postgres-url'] : undefined, values.baseline, baselineLabel));
  const anyStow = scenarioNames.some((s) => SCENARIOS[s].kind === 'stow');
  const stowBodies = anyStow ? buildStowBodies(series.files, STOW_BATCH) : [];
  const warmUpCount = Number(values['warm-up']);
  if (!Number.isInteger(warmUpCount) || warmUpCount < 0 || warmUpCount > series.files.length) throw new Error(`--warm-up is a number of instances from 0 to ${series.files.length}`);
  const warmUpFiles = warmUpCount > 0 ? generateCtSeries({ slices: warmUpCount, seed: 2, dir: `${series.dir}-warm-up` }).files : [];
  const warmUp: WarmUp = { files: warmUpFiles, stowBodies: anyStow && warmUpFiles.length ? buildStowBodies(warmUpFiles, STOW_BATCH) : [] };

  // One throwaway PKI for the run: each receiver serves Limen's test certificate, storescu presents the modality's.
  const pki = scenarioNames.some((s) => overTls(SCENARIOS[s])) ? createTestPki() : undefined;
  const tls: Tls | undefined = pki && {
    receiver: { certificate: pki.server.certificate, privateKey: pki.server.privateKey, ca: pki.caCertificate },
    sender: { certificate: pki.modality.certificate, privateKey: pki.modality.privateKey, ca: pki.caCertificate },
  };

  const loadBefore = machine().loadAverage;
  const samples = new Map<string, Sample[]>();
  for (let round = 0; round < runs; round++) {
    for (const scenario of scenarioNames) {
      const spec = SCENARIOS[scenario];
      const eligible = targets.filter((t) => spec.kind === 'dimse' || t.supportsStow);
      // Rotate so no receiver always goes first (or always right after another's disk writes).
      const order = eligible.map((_, i) => eligible[(i + round) % eligible.length]);
      for (const target of order) {
        const sample = await timeOne(target, scenario, series, stowBodies, warmUp, live, overTls(spec) ? tls : undefined).catch((err: Error) => {
          pki?.remove();
          throw err;
        });
        const key = `${scenario}/${target.name}`;
        samples.set(key, [...(samples.get(key) ?? []), sample]);
        process.stdout.write(
          `round ${round + 1}/${runs} ${scenario.padEnd(7)} ${target.name.padEnd(8)} ${(series.files.length / sample.seconds).toFixed(1).padStart(7)}/s ` +
            `cpu ${sample.cpuSeconds.toFixed(2)} s, peak RSS ${(sample.peakRssKiB / 1024).toFixed(0)} MiB\n`,
        );
      }
    }
  }

  pki?.remove();

  const results: Result[] = [];
  for (const scenario of scenarioNames) {
    for (const target of targets) {
      const runsOf = samples.get(`${scenario}/${target.name}`);
      if (!runsOf) continue;
      const rates = runsOf.map((s) => series.files.length / s.seconds);
      results.push({
        scenario,
        target: target.name,
        runs: runsOf,
        medianSeconds: median(runsOf.map((s) => s.seconds)),
        instancesPerSecond: series.files.length / median(runsOf.map((s) => s.seconds)),
        minInstancesPerSecond: Math.min(...rates),
        maxInstancesPerSecond: Math.max(...rates),
        medianCpuSeconds: median(runsOf.map((s) => s.cpuSeconds)),
        medianPeakRssMiB: median(runsOf.map((s) => s.peakRssKiB)) / 1024,
        maxPeakRssMiB: Math.max(...runsOf.map((s) => s.peakRssKiB)) / 1024,
      });
    }
  }
  const m = machine();
  const report: EdgeReport = {
    benchmark: 'edge',
    label: values.label,
    date: new Date().toISOString(),
    machine: { ...m, loadAverageBefore: loadBefore, loadAverageAfter: m.loadAverage },
    command: `npm run bench -- edge ${argv.join(' ')}`.trim(),
    series: { dir: rel(series.dir), instances: series.files.length, rows: series.rows, columns: series.columns, seed: series.seed, bytes: series.bytes },
    runs,
    warmUpInstances: warmUpFiles.length,
    targets: targets.map((t) => ({ name: t.name, version: t.version, command: t.command, does: t.does })),
    scenarios: scenarioNames.map((name) => ({ name, summary: SCENARIOS[name].summary })),
    results,
  };
  const file = join(BENCH_OUT, `${values.label}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(`\n${table(report)}\nwrote ${rel(file)}\n`);
  if (!values['no-figure']) await writeFigure(report);
  return 0;
}

/** Redraws the figure of an earlier run from its JSON (`--replot --label <label>`). */
async function replot(label: string): Promise<number> {
  const report = JSON.parse(readFileSync(join(BENCH_OUT, `${label}.json`), 'utf8')) as EdgeReport;
  await writeFigure(report);
  return 0;
}

async function writeFigure(report: EdgeReport): Promise<void> {
  mkdirSync(FIGURES, { recursive: true });
  const svg = figure(report);
  const svgFile = join(FIGURES, `${report.label}.svg`);
  writeFileSync(svgFile, svg);
  const png = await svgToPng(svg, svgFile.replace(/\.svg$/, '.png')).catch(() => false);
  process.stdout.write(`wrote ${rel(svgFile)}${png ? ' (+ .png)' : ''}\n`);
}

/** The PEM files of both sides of a TLS scenario. */
interface Tls {
  receiver: BenchTls;
  sender: SenderTls;
}

/** What a receiver gets before the clock starts. */
interface WarmUp {
  files: readonly string[];
  stowBodies: readonly StowBody[];
}

/** One timed transfer to a freshly started receiver (after the warm-up, when there is one). */
async function timeOne(target: Target, scenario: ScenarioName, series: CtSeries, stowBodies: readonly StowBody[], warmUp: WarmUp, live: Set<RunningTarget>, tls?: Tls): Promise<Sample> {
  const work = join(WORK, target.name);
  clean(work);
  mkdirSync(work, { recursive: true });
  flushDisks();
  const running = await target.start(work, tls?.receiver);
  live.add(running);
  try {
    const spec = SCENARIOS[scenario];
    if (spec.kind === 'stow' && !running.stow) throw new Error(`${target.name} has no STOW-RS endpoint`);
    if (warmUp.files.length > 0) {
      if (spec.kind === 'dimse') await sendDimse(warmUp.files, spec.streams, running.dimse, perInstance(spec), tls?.sender);
      else await sendStow(warmUp.stowBodies, spec.streams, running.stow!);
      flushDisks();
    }
    resetPeakRss(running.pid);
    const cpuBefore = cpuSecondsOf(running.pid);
    let seconds: number;
    if (spec.kind === 'dimse') seconds = await sendDimse(series.files, spec.streams, running.dimse, perInstance(spec), tls?.sender);
    else seconds = await sendStow(stowBodies, spec.streams, running.stow!);
    const cpuSeconds = cpuSecondsOf(running.pid) - cpuBefore;
    const peakRssKiB = peakRssOf(running.pid);
    const stored = await running.count();
    const expected = series.files.length + warmUp.files.length;
    if (stored !== expected) throw new Error(`${target.name} ${scenario}: ${stored} of ${expected} instances stored`);
    return { seconds, cpuSeconds, peakRssKiB };
  } finally {
    await running.stop();
    live.delete(running);
    try {
      retire(work, RETIRED);
    } catch {
      clean(work); // the next run needs the directory out of its way more than the inodes kept
    }
  }
}

async function makeTarget(name: TargetName, limenFrom: string, postgresUrl: string | undefined, baseline: string | undefined, baselineLabel: string | undefined): Promise<Target> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const database = postgresUrl ? 'PostgreSQL' : 'SQLite';
  switch (name) {
    case 'limen': {
      let entry: string;
      let command: string;
      if (limenFrom === 'dist') {
        entry = join(ROOT, 'dist/gateway/cli/main.js');
        if (!existsSync(entry)) throw new Error('dist/ is not built: npm run build, or pass --limen bundle');
        command = `node ${rel(entry)} start`;
      } else if (limenFrom === 'bundle') {
        entry = await bundleLimen(ROOT, 'limen.mjs');
        command = `node ${rel(entry)} start   (esbuild bundle of gateway/cli/main.ts, packages external)`;
      } else throw new Error('--limen is bundle or dist');
      return limenTarget({ name, entry, command, postgresUrl, version: `limen ${pkg.version} (${gitRevision(ROOT)}, Node ${process.version}, ${database})` });
    }
    case 'limen-baseline': {
      const source = resolve(baseline!);
      const entry = await bundleLimen(source, 'limen-baseline.mjs');
      return limenTarget({ name, entry, postgresUrl, command: `node ${rel(entry)} start   (esbuild bundle of this tree with ${baselineLabel})`, version: `limen ${pkg.version}, this gateway over ${baselineLabel} (Node ${process.version}, ${database})` });
    }
    case 'storescp':
      return storescpTarget(versionOf(STORESCP, ['--version']) ?? 'storescp');
    case 'orthanc':
      return orthancTarget(`${versionOf(ORTHANC, ['--version']) ?? 'Orthanc'} + DICOMweb plugin (Debian)`);
  }
}

/** Bundles a source tree's `limen` (not a possibly stale dist/) into one ES module; dependencies stay in this project's node_modules. */
async function bundleLimen(source: string, name: string): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(WORK, name);
  await build({
    entryPoints: [join(source, 'gateway/cli/main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: false,
    logLevel: 'warning',
  });
  return outfile;
}

function gitRevision(root: string): string {
  try {
    const head = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--', 'storage', 'gateway', 'anonymizer', 'config'], { encoding: 'utf8' }).trim() !== '';
    return `${head}${dirty ? '+local changes' : ''}`;
  } catch {
    return 'unknown revision';
  }
}

const rel = (p: string): string => relative(ROOT, p) || '.';
const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

/** The results as a Markdown table, with Limen's ratios to Orthanc and to storescp per scenario. */
export function table(report: EdgeReport): string {
  const lines = [
    `${report.series.instances} instances (${report.series.rows}×${report.series.columns}, ${(report.series.bytes / 2 ** 20).toFixed(0)} MiB), medians of ${report.runs} runs${report.warmUpInstances ? `, each after ${report.warmUpInstances} untimed instances of another study` : ''}; ` +
      `${report.machine.nproc} vCPUs (${report.machine.cpuModel}), ${report.machine.memGiB} GiB, Node ${report.machine.node}, ` +
      `load ${report.machine.loadAverageBefore.join(' ')} before, ${report.machine.loadAverageAfter.join(' ')} after`,
    '',
    '| scenario | receiver | instances/s | range | receiver CPU s | peak RSS MiB | ÷ Orthanc | ÷ storescp | ÷ limen-baseline |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of report.scenarios) {
    const of = (t: TargetName) => report.results.find((r) => r.scenario === s.name && r.target === t);
    for (const r of report.results.filter((x) => x.scenario === s.name)) {
      const ratio = (base: Result | undefined) => (r.target.startsWith('limen') && base && base !== r ? `${(r.instancesPerSecond / base.instancesPerSecond).toFixed(2)}×` : '');
      lines.push(
        `| ${s.name} | ${r.target} | ${fmt(r.instancesPerSecond)} | ${fmt(r.minInstancesPerSecond)}–${fmt(r.maxInstancesPerSecond)} | ` +
          `${r.medianCpuSeconds.toFixed(2)} | ${r.medianPeakRssMiB.toFixed(0)} | ${ratio(of('orthanc'))} | ${ratio(of('storescp'))} | ${r.target === 'limen' ? ratio(of('limen-baseline')) : ''} |`,
      );
    }
  }
  lines.push('');
  for (const t of report.targets) lines.push(`- ${t.name}: ${t.version}; \`${t.command}\`; ${t.does}`);
  lines.push(`- storescu: \`TCP_NODELAY=1 ${STORESCU_SHOWN}\``);
  if (report.scenarios.some((s) => overTls(SCENARIOS[s.name]))) {
    lines.push(
      '- over TLS: storescu and storescp `+tls <key> <certificate> +cf <CA>` (DCMTK\'s non-downgrading BCP 195 profile, ' +
        'the peer\'s certificate required), Orthanc `DicomTlsEnabled` with `DicomTlsCertificate`, `DicomTlsPrivateKey` and ' +
        '`DicomTlsTrustedCertificates`, Limen `dimse.tls` with `callerCaFile`; one throwaway CA (openssl, EC P-256 keys)',
    );
  }
  return lines.join('\n') + '\n';
}

const STORESCU_SHOWN = `storescu ${storescuArgs('<AE>', 0, ['<files of one group>']).join(' ').replace(' 0 ', ' <port> ')}`;

/** One panel per scenario, instances/s with min–max whiskers, Limen emphasized. */
export function figure(report: EdgeReport): string {
  const panels: Panel[] = report.scenarios.map((s) => ({
    title: `${s.name}: ${s.summary}`,
    format: (v) => `${fmt(v)}/s`,
    bars: report.results
      .filter((r) => r.scenario === s.name)
      .map((r) => ({ label: r.target, value: r.instancesPerSecond, min: r.minInstancesPerSecond, max: r.maxInstancesPerSecond, emphasis: r.target === 'limen' })),
  }));
  panels.push({
    title: 'peak RSS during dimse-4 / stow-2 (MiB, lower is better)',
    format: (v) => `${v.toFixed(0)} MiB`,
    bars: report.results
      .filter((r) => r.scenario === 'dimse-4' || r.scenario === 'stow-2')
      .map((r) => ({ label: `${r.target === 'limen-baseline' ? 'before' : r.target} ${r.scenario}`, value: r.medianPeakRssMiB, emphasis: r.target === 'limen' })),
  });
  const m = report.machine;
  return barChartSvg({
    title: `Receiving a ${report.series.instances}-slice ${report.series.rows}×${report.series.columns} CT series (instances/s, higher is better)`,
    subtitle: `medians of ${report.runs} runs${report.warmUpInstances ? ` after a warm-up of ${report.warmUpInstances}` : ''}, whiskers min–max; ${m.nproc} vCPUs, load ${m.loadAverageBefore[1]}, Node ${m.node}; ${report.date.slice(0, 10)}; ${report.label}`,
    panels,
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`edge: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
