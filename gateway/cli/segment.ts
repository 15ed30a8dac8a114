/**
 * `limen segment <series-dir> --out <dir> [--model <id>]`: the pipeline on files. Writes
 * `seg.dcm`, `model.glb`, `model.stl` (every segment) and one STL per segment, and `report.json`
 * (timings per stage, segments with volumes, model id and version). Progress goes to stderr.
 */
import { readdirSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { findModelDir } from '../../pipeline/process/model-dirs.js';
import { runPipeline, type PipelineStage } from '../../pipeline/process/run-pipeline.js';
import { PipelineError } from '../../pipeline/process/errors.js';
import { randomUID } from '../../pipeline/process/uid.js';
import { parseCommandArgs, surplusArguments, type Command } from './command.js';
import { listFiles, writeFileAtomic } from './files.js';
import { progressBar, type Progress } from './progress.js';

const USAGE = `usage: limen segment <series-dir> --out <dir> [--model <id>] [--models-dir <dir>]

Runs the pipeline on one CT series: writes seg.dcm, model.glb, model.stl, one STL per segment and
report.json into --out. --out is a new or empty folder, or one holding only an earlier run's
outputs: those are replaced when the run succeeds (an earlier STL of a segment this run did not
find is removed, so the folder is always one run's) and left as they are when it fails. Any other
file in --out, or --out being a file, is refused before anything runs. --model names a model
(default: default) in --models-dir or among the shipped ones. Exit 0 written, 1 the series could
not be segmented (the reason is printed), 2 usage.
`;

// What a run writes (and the temp files of a write that was cut short), so that a second run into
// the same folder can tell an earlier run's outputs from a clinician's own files.
const RUN_OUTPUT = /^(seg\.dcm|model\.glb|model\.stl|report\.json|\d{2,}-[a-z0-9-]+\.stl|\.[0-9a-f]{12}\.tmp)$/;
// Written by file browsers into any folder they open; neither ours nor the clinician's work.
const BROWSER_FILES = new Set(['.DS_Store', 'Thumbs.db', 'desktop.ini']);

/**
 * The earlier run's outputs in --out, to be replaced; or why --out cannot take this run's outputs.
 * Checked before the pipeline runs (a usage error after a long run helps nobody) and again before
 * writing.
 */
function earlierOutputs(out: string): { ok: true; names: string[] } | { ok: false; reason: string } {
  const dir = resolve(out);
  let st;
  try {
    st = statSync(dir);
  } catch {
    // A new folder: its nearest existing parent must be a folder for mkdir to make it.
    let parent = dirname(dir);
    while (dirname(parent) !== parent) {
      try {
        if (!statSync(parent).isDirectory()) return { ok: false, reason: `--out ${out} cannot be made: ${parent} is a file, not a folder` };
        break;
      } catch {
        parent = dirname(parent);
      }
    }
    return { ok: true, names: [] };
  }
  if (!st.isDirectory()) return { ok: false, reason: `--out ${out} is a file, not a folder` };
  const entries = readdirSync(dir, { withFileTypes: true });
  const foreign = entries.filter((e) => !BROWSER_FILES.has(e.name) && !(e.isFile() && RUN_OUTPUT.test(e.name))).map((e) => e.name).sort();
  if (foreign.length) {
    const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? ` and ${foreign.length - 3} more` : '');
    return { ok: false, reason: `--out ${out} holds files that are not an earlier run's outputs (${shown}); give a new or empty folder` };
  }
  return { ok: true, names: entries.filter((e) => RUN_OUTPUT.test(e.name)).map((e) => e.name) };
}

export const segmentCommand: Command = {
  summary: 'segment a CT series into seg.dcm, model.glb, model.stl and report.json',
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommandArgs('segment', argv, { out: { type: 'string' }, model: { type: 'string', default: 'default' }, 'models-dir': { type: 'string' } }, USAGE);
    if (typeof parsed === 'number') return parsed;
    const { values, positionals } = parsed;
    if (!values.out || positionals.length === 0) {
      process.stderr.write(`limen segment: ${values.out ? 'no series directory' : '--out is required'}\n${USAGE}`);
      return 2;
    }
    if (positionals.length > 1) {
      process.stderr.write(`${surplusArguments('segment', positionals.slice(1))} (one series directory)\n${USAGE}`);
      return 2;
    }
    const before = earlierOutputs(values.out);
    if (!before.ok) {
      process.stderr.write(`limen segment: ${before.reason}\n${USAGE}`);
      return 2;
    }
    const modelDir = findModelDir(values.model ?? 'default', values['models-dir']);
    if (!modelDir) {
      process.stderr.write(`limen segment: no model "${values.model}"${values['models-dir'] ? ` in ${values['models-dir']}` : ''} or among the shipped models\n`);
      return 2;
    }
    const { files, missing } = listFiles(positionals);
    if (missing.length) {
      process.stderr.write(`limen segment: no such file or directory: ${missing.join(', ')}\n`);
      return 2;
    }
    const instances = files.map((f) => ({ bytes: new Uint8Array(readFileSync(f)) }));
    let bar: Progress | undefined;
    let current: PipelineStage | undefined;
    let last = 0;
    const onProgress = (stage: PipelineStage, percent: number) => {
      if (stage !== current) {
        bar?.done();
        current = stage;
        last = 0;
        bar = progressBar(stage.padEnd(9), 100);
        if (!process.stderr.isTTY) process.stderr.write(`${stage}...\n`);
      }
      bar?.tick(Math.max(0, percent - last));
      last = Math.max(last, percent);
    };
    let out;
    try {
      out = await runPipeline({ instances, modelDir, newUID: randomUID, onProgress });
    } catch (err) {
      bar?.done();
      if (err instanceof PipelineError) {
        process.stderr.write(`limen segment: ${err.message} [${err.code}]\n`);
        return 1;
      }
      throw err;
    }
    bar?.done();
    // The folder may have changed during the run; its earlier outputs are read again, just before they are replaced.
    const earlier = earlierOutputs(values.out);
    if (!earlier.ok) {
      process.stderr.write(`limen segment: ${earlier.reason}\n`);
      return 2;
    }
    const dir = resolve(values.out);
    mkdirSync(dir, { recursive: true });
    const written = ['seg.dcm', 'model.glb', 'model.stl', ...out.stls.map((s) => s.name), 'report.json'];
    writeFileAtomic(join(dir, 'seg.dcm'), out.seg);
    writeFileAtomic(join(dir, 'model.glb'), out.glb);
    writeFileAtomic(join(dir, 'model.stl'), out.combinedStl);
    for (const stl of out.stls) writeFileAtomic(join(dir, stl.name), stl.bytes);
    writeFileAtomic(join(dir, 'report.json'), Buffer.from(JSON.stringify(out.report, null, 2) + '\n'));
    // Whatever the earlier run wrote and this one did not (an STL of a segment not found now) would pass for this run's.
    const stale = earlier.names.filter((n) => !written.includes(n));
    for (const name of stale) rmSync(join(dir, name), { force: true });
    const r = out.report;
    const replaced = earlier.names.length ? ` (replacing an earlier run's outputs${stale.length ? `, ${stale.length} removed` : ''})` : '';
    process.stdout.write(
      `segmented ${r.series.slices} slices with ${r.model.id} ${r.model.version} in ${(r.timings.total / 1000).toFixed(1)} s: ` +
        `${r.segments.map((s) => `${s.label} ${s.meshVolumeMl.toFixed(0)} mL`).join(', ')}; wrote ${dir}${replaced}\n`,
    );
    return 0;
  },
};
