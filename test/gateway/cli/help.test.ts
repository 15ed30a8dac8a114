/**
 * `limen help`, `--help`/`-h` on every command and subcommand, `--version`, and positional
 * arguments a command has no place for: what an operator types to find their way.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { PROJECT_ROOT, runLimen, type LimenResult } from '../../support/limen-cli.js';

const VERSION = (JSON.parse(readFileSync(`${PROJECT_ROOT}/package.json`, 'utf8')) as { version: string }).version;

describe('limen help and usage', function () {
  this.timeout(120_000);

  const asks: Array<[string[], RegExp]> = [
    [['start', '--help'], /^usage: limen start/],
    [['start', '-h'], /^usage: limen start/],
    [['audit', '--help'], /^usage: limen audit verify/],
    [['audit', 'verify', '-h'], /^usage: limen audit verify/],
    [['config', '--help'], /^usage: limen config check <file>/],
    [['config', 'check', 'some.yaml', '--help'], /^usage: limen config check <file>/],
    [['segment', '-h'], /^usage: limen segment <series-dir>/],
    [['deidentify', '--help'], /^usage: limen deidentify/],
    [['token', 'create', '--help'], /^usage: limen token create/],
    [['help', 'audit'], /^usage: limen audit verify/],
    [['help', 'start'], /^usage: limen start/],
    [['help', 'token'], /^usage: limen token create/],
  ];
  let answers: LimenResult[];
  before(async () => {
    answers = await Promise.all(asks.map(([args]) => runLimen(args)));
  });

  it('every command and subcommand answers --help and -h (and limen help <command>) with its usage on stdout, exit 0', () => {
    asks.forEach(([args, usage], i) => {
      const r = answers[i];
      expect(r.code, `limen ${args.join(' ')}: ${r.stderr}`).to.equal(0);
      expect(r.stdout, `limen ${args.join(' ')}`).to.match(usage);
      expect(r.stderr, `limen ${args.join(' ')}`).to.equal('');
    });
  });

  it('limen help lists the commands (exit 0); limen help <unknown> is a usage error', async () => {
    const [help, unknown] = await Promise.all([runLimen(['help']), runLimen(['help', 'nosuch'])]);
    expect(help.code, help.stderr).to.equal(0);
    expect(help.stdout).to.match(/^usage: limen <command>/);
    for (const name of ['start', 'deidentify', 'segment', 'config', 'token', 'audit']) expect(help.stdout).to.match(new RegExp(`^  ${name} `, 'm'));
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.include("unknown command 'nosuch'");
  });

  it('limen --version prints the package version', async () => {
    const r = await runLimen(['--version']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(`limen ${VERSION}\n`);
  });

  it('a positional argument a command has no place for is a usage error naming it (exit 2)', async () => {
    const cases: Array<[string[], string]> = [
      [['config', 'check', 'config/limen.example.yaml', 'b.yaml'], "'b.yaml'"],
      [['start', 'now'], "'now'"],
      [['audit', 'verify', 'everything'], "'everything'"],
      [['segment', 'series-a', 'series-b', '--out', 'never-written'], "'series-b'"],
    ];
    const results = await Promise.all(cases.map(([args]) => runLimen(args)));
    cases.forEach(([args, named], i) => {
      const r = results[i];
      expect(r.code, `limen ${args.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(2);
      expect(r.stderr, `limen ${args.join(' ')}`).to.match(new RegExp(`^limen ${args[0]}.*unexpected argument ${named}`, 'm'));
      expect(r.stdout, `limen ${args.join(' ')}`).to.equal('');
    });
  });

  it('limen start refuses an unknown LIMEN_LOG_LEVEL (exit 2) rather than log at an undefined level', async () => {
    const r = await runLimen(['start'], { env: { LIMEN_LOG_LEVEL: 'loud' } });
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.equal('limen start: LIMEN_LOG_LEVEL is "loud"; it is one of debug, info, warn, error\n');
  });
});
