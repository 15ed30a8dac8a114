/**
 * `limen config check <file>`: the same validation as start, plus the routes' de-identification
 * profiles; what only the machine Limen runs on can settle (its PEM and credential files) comes as warnings.
 */
import { configWarnings, credentialFileProblems, environmentWarnings, pemFileProblems } from '../../config/index.js';
import { certificateInFile, destinationCertificates, renewalWarnings } from '../services/certificate-watch.js';
import { loadConfiguredMasterKey } from '../../storage/index.js';
import { parseArgs } from 'node:util';
import { surplusArguments, type Command } from './command.js';
import { checkConfig, logLevelFromEnv } from './load-config.js';

const USAGE = `usage: limen config check <file>

Validates a configuration file as limen start does (with the LIMEN_* environment, LIMEN_LOG_LEVEL
too), plus the routes' de-identification profiles and models; every error with its path (exit 1).
Warns of PEM files and destinations' credential files it cannot read or use, of certificates due
for renewal, of what would cross the network in the clear, of settings not acted on yet, and of
LIMEN_* variables nothing reads. Exit 0 valid, 1 not, 2 usage.
`;

export const configCommand: Command = {
  summary: 'config check <file>: validate a configuration file',
  usage: USAGE,
  async run(argv) {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
    } catch (e) {
      process.stderr.write(`limen config: ${(e as Error).message}\n${USAGE}`);
      return 2;
    }
    if (parsed.values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    const [sub, file, ...surplus] = parsed.positionals;
    if (sub !== 'check' || !file) {
      const why = sub === undefined ? '' : sub === 'check' ? 'limen config check: no file given\n' : `limen config: unknown subcommand '${sub}'\n`;
      process.stderr.write(`${why}${USAGE}`);
      return 2;
    }
    if (surplus.length) {
      process.stderr.write(`${surplusArguments('config check', surplus)} (one file at a time)\n${USAGE}`);
      return 2;
    }
    // What start would refuse of the environment, and what it would ignore, with the file's errors.
    const r = checkConfig(file);
    const level = logLevelFromEnv();
    for (const w of environmentWarnings(process.env)) process.stderr.write(`warning: ${w.path}: ${w.message}\n`);
    if (!r.ok || !level.ok) {
      process.stderr.write([...(r.ok ? [] : [r.report]), ...(level.ok ? [] : [level.problem])].join('\n') + '\n');
      return 1;
    }
    for (const w of configWarnings(r.config)) process.stderr.write(`warning: ${w.path}: ${w.message}\n`);
    // The files may live only where Limen runs: said here, refused by \`limen start\` or failing each send.
    for (const { message, fails } of [...(await pemFileProblems(r.config)), ...(await credentialFileProblems(r.config))]) {
      process.stderr.write(`warning: ${message} (${fails === 'start' ? 'limen start refuses this' : 'every delivery there fails until it can be used'})\n`);
    }
    // A key file that cannot serve stops every start; said here, where the file is named.
    if (r.config.masterKey.source === 'file') {
      const problem = await loadConfiguredMasterKey(r.config.masterKey).then(() => undefined, (err: Error) => err.message);
      if (problem) process.stderr.write(`warning: masterKey.file: ${problem} (limen start refuses this)\n`);
    }
    const { dimse, http } = r.config;
    // The certificates due for renewal: what `limen start` logs.
    const listeners = [...certificateInFile('dimse.tls.certificateFile', dimse.tls?.certificateFile), ...certificateInFile('http.tls.certificateFile', http.tls?.certificateFile)];
    for (const w of renewalWarnings([...listeners, ...destinationCertificates(r.config)])) {
      process.stderr.write(`warning: ${w.message}\n`);
    }
    const dimseTls = dimse.tls ? ` (TLS :${dimse.tls.port})` : '';
    process.stdout.write(
      `${file}: valid (${Object.keys(r.config.routes).length} route(s), ${r.config.remoteAEs.length} remote AE(s), ` +
        `DIMSE ${dimse.aeTitle}@${dimse.host}:${dimse.port}${dimseTls}, ${http.tls ? 'HTTPS' : 'HTTP'} ${http.host}:${http.port})\n`,
    );
    return 0;
  },
};
