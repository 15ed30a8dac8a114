/**
 * `limen segment <series-dir> --out <dir> [--model <id>]`: the pipeline on files. Writes
 * `seg.dcm`, `model.glb`, `model.stl` (every segment) and one STL per segment, and `report.json`
 * (timings per stage, segments with volumes, model id and version). Progress goes to stderr.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findModelDir } from '../../pipeline/process/model-dirs.js';
import { runPipeline, type PipelineStage } from '../../pipeline/process/run-pipeline.js';
import { PipelineError } from '../../pipeline/process/errors.js';
import { randomUID } from '../../pipeline/process/uid.js';
import { parseCommandArgs, surplusArguments, type Command } from './command.js';
import { listFiles, writeFileAtomic } from './files.js';
import { progressBar, type Progress } from './progress.js';

const USAGE = `usage: limen segment <series-dir> --out <dir> [--model <id>] [--models-dir <dir>]

Runs the pipeline on one CT series: writes seg.dcm, model.glb, model.stl, one STL per segment and
report.json into --out. --model names a model (default: default) in --models-dir or among the
shipped ones. Exit 0 written, 1 the series could not be segmented (the reason is printed), 2 usage.
`;

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
    const dir = resolve(values.out);
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(join(dir, 'seg.dcm'), out.seg);
    writeFileAtomic(join(dir, 'model.glb'), out.glb);
    writeFileAtomic(join(dir, 'model.stl'), out.combinedStl);
    for (const stl of out.stls) writeFileAtomic(join(dir, stl.name), stl.bytes);
    writeFileAtomic(join(dir, 'report.json'), Buffer.from(JSON.stringify(out.report, null, 2) + '\n'));
    const r = out.report;
    process.stdout.write(
      `segmented ${r.series.slices} slices with ${r.model.id} ${r.model.version} in ${(r.timings.total / 1000).toFixed(1)} s: ` +
        `${r.segments.map((s) => `${s.label} ${s.meshVolumeMl.toFixed(0)} mL`).join(', ')}; wrote ${dir}\n`,
    );
    return 0;
  },
};
