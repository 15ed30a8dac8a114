/**
 * `npm run bench -- <name> [args]`: runs one benchmark. Each benchmark is a module exporting
 * `main(argv)`, loaded only when asked for, so one benchmark's dependencies never slow another.
 */
type Main = (argv: string[]) => Promise<number>;

const BENCHES: Record<string, { summary: string; load: () => Promise<{ main: Main }> }> = {
  'ct-series': { summary: 'generate the 300-slice 512x512 CT series other benchmarks use', load: () => import('./ct-series.js') },
  deidentify: { summary: 'limen deidentify vs gdcmanon, dcmodify and Orthanc on the CT series (issue 2)', load: () => import('./deidentify.js') },
  edge: { summary: 'receiving the CT series: storescu (1 and 4 associations) and STOW-RS into Limen, storescp and Orthanc (issue 3)', load: () => import('./edge/run.js') },
  'edge-store': { summary: 'the durable store path alone (storeInstance + audit), SQLite and PostgreSQL (issue 3)', load: () => import('./edge/store.js') },
  'flush-floor': { summary: 'what one fdatasync of a blob and of a WAL commit cost on this disk (issue 3)', load: () => import('./edge/flush-floor.js') },
  'dicomweb-qido': { summary: 'QIDO-RS study search with 1,000 studies (issue 5, p95 <= 50 ms)', load: () => import('./dicomweb/qido.js') },
  'dicomweb-frames': { summary: 'WADO-RS frames/s on the 300-slice CT, Limen beside Orthanc (issue 5)', load: () => import('./dicomweb/frames.js') },
  export: { summary: 'approval to PACS: the SEG of a 300-slice study exported to Orthanc by C-STORE and STOW-RS, beside storescu and curl (issue 5)', load: () => import('./export/run.js') },
  segment: { summary: 'the default model end to end on a 512x512x300 phantom (issue 4)', load: () => import('./segment/segment.js') },
  pipeline: { summary: 'limen segment end to end on the 300-slice CT series: per-stage times and peak RSS (issue 4)', load: () => import('./pipeline/run.js') },
};

function usage(): string {
  const width = Math.max(...Object.keys(BENCHES).map((n) => n.length));
  return `usage: npm run bench -- <name> [args]\n\n${Object.entries(BENCHES)
    .map(([name, b]) => `  ${name.padEnd(width)}  ${b.summary}`)
    .join('\n')}\n`;
}

async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return 0;
  }
  const bench = BENCHES[name];
  if (!bench) {
    process.stderr.write(`bench: unknown benchmark '${name}'\n\n${usage()}`);
    return 2;
  }
  return (await bench.load()).main(rest);
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
