/**
 * One run of `limen segment` in a process of its own, so its peak RSS is the command's alone:
 * runs the CLI's own command (the same code `limen segment` runs), then writes what it measured
 * (command wall and CPU time, the process's maximum resident set, and the command's report.json)
 * as JSON to `<result-file>`.
 *
 *   node --import tsx bench/pipeline/child.ts <series-dir> <out-dir> <result-file>
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { segmentCommand } from '../../gateway/cli/segment.js';

const [seriesDir, outDir, resultFile] = process.argv.slice(2);
if (!seriesDir || !outDir || !resultFile) {
  process.stderr.write('usage: node --import tsx bench/pipeline/child.ts <series-dir> <out-dir> <result-file>\n');
  process.exit(2);
}
const cpu = process.cpuUsage();
const started = performance.now();
const code = await segmentCommand.run([seriesDir, '--out', outDir]);
const commandMs = performance.now() - started;
const used = process.cpuUsage(cpu);
const result = {
  code,
  commandMs,
  cpuMs: (used.user + used.system) / 1000,
  /** getrusage(RUSAGE_SELF).ru_maxrss: main thread and worker threads (ONNX Runtime included). */
  maxRssMb: process.resourceUsage().maxRSS / 1024,
  report: code === 0 ? JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8')) : null,
};
writeFileSync(resultFile, JSON.stringify(result) + '\n');
