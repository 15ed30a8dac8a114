/**
 * `limen deidentify <file|dir>... --out <dir> [--profile <name>] [--option <name>]... [--key-file <f>]`
 * De-identifies files with the same engine the gateway runs. Output files are named from the new
 * SOPInstanceUID, because input names can carry identifying data.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OPTION_NAMES, SECRET_BYTES, createProfile, deidentify, isProfileName, keyedIdentifiers, PROFILE_NAMES, unknownProfile } from '../../anonymizer/index.js';
import { DEFAULT_DATA_DIR } from '../../config/index.js';
import { parseCommandArgs, type Command } from './command.js';
import { listFiles, writeFileAtomic } from './files.js';
import { progressBar } from './progress.js';

const USAGE = `usage: limen deidentify <file|dir>... --out <dir> [--profile <name>] [--option <name>]... [--key-file <f>] [--allow-burned-in]

profiles: ${Object.keys(PROFILE_NAMES).join(', ')} (default basic)
options (PS3.15 Table E.1-1): ${OPTION_NAMES.join(', ')}
Without --key-file, the key in $LIMEN_DATA_DIR/deidentify.key (default ./var) is used, and made on first use.
exit codes: 0 all de-identified, 1 some rejected, 2 usage error
`;

/** Reads a de-identification key: 32+ raw bytes, or their hex or base64 text. */
export function parseKey(bytes: Buffer): Uint8Array | undefined {
  const text = bytes.toString('latin1').trim();
  if (/^[0-9a-fA-F]{64,}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/=]{43,}$/.test(text)) {
    const b = Buffer.from(text, 'base64');
    if (b.length >= SECRET_BYTES) return b;
  }
  return bytes.length >= SECRET_BYTES && bytes.length <= 64 ? bytes : undefined;
}

export const deidentifyCommand: Command = {
  summary: 'de-identify DICOM files (PS3.15 Basic Profile and options)',
  usage: USAGE,
  async run(argv) {
    const args = parseCommandArgs(
      'deidentify',
      argv,
      {
        out: { type: 'string' },
        profile: { type: 'string', default: 'basic' },
        option: { type: 'string', multiple: true, default: [] },
        'key-file': { type: 'string' },
        'allow-burned-in': { type: 'boolean', default: false },
      },
      USAGE,
    );
    if (typeof args === 'number') return args;
    const { values, positionals } = args;
    if (!values.out || positionals.length === 0) {
      process.stderr.write(`limen deidentify: ${!values.out ? '--out is required' : 'no input files or directories'}\n${USAGE}`);
      return 2;
    }
    // The profile's name keys the pseudonyms: a misspelt one would quietly start a new set.
    if (!isProfileName(values.profile)) {
      process.stderr.write(`limen deidentify: --profile: ${unknownProfile(values.profile)}\n`);
      return 2;
    }
    const profileResult = createProfile({ name: values.profile, options: values.option, allowBurnedIn: values['allow-burned-in'] });
    if (!profileResult.ok) {
      for (const i of profileResult.issues) process.stderr.write(`limen deidentify: ${i.path}: ${i.message}\n`);
      return 2;
    }
    // The inputs first: a mistyped path must not leave a new key behind.
    const { files, missing } = listFiles(positionals);
    for (const m of missing) process.stderr.write(`limen deidentify: no such file or directory: ${m}\n`);
    if (missing.length) return 2;
    const key = loadOrCreateKey(values['key-file']);
    if ('error' in key) {
      process.stderr.write(`limen deidentify: ${key.error}\n`);
      return 2;
    }
    if (key.note) process.stderr.write(`${key.note}\n`);
    const out = resolve(values.out);
    mkdirSync(out, { recursive: true });

    const ids = keyedIdentifiers(key.secret);
    const bar = progressBar('de-identifying', files.length);
    const rejected: string[] = [];
    const written = new Set<string>();
    let duplicates = 0;
    for (const file of files) {
      const result = deidentify({ bytes: readFileSync(file) }, profileResult.profile, ids);
      bar.tick();
      if (!result.ok) {
        rejected.push(`rejected ${file}: ${result.error.message} [${result.error.code}]`);
        continue;
      }
      const name = `${result.sopInstanceUID}.dcm`;
      if (written.has(name)) duplicates++;
      written.add(name);
      // Whole files only (rename), but no fsync per file: a batch is simply run again after a power loss.
      writeFileAtomic(join(out, name), result.bytes, 0o644, false);
    }
    bar.done();
    for (const line of rejected) process.stdout.write(`${line}\n`);
    process.stdout.write(
      `de-identified ${files.length - rejected.length} of ${files.length} files into ${out}` +
        `${rejected.length ? `; ${rejected.length} rejected` : ''}${duplicates ? `; ${duplicates} were the same instance again` : ''}\n`,
    );
    return rejected.length ? 1 : 0;
  },
};

function loadOrCreateKey(file: string | undefined): { secret: Uint8Array; note?: string } | { error: string } {
  if (file) {
    if (!existsSync(file)) return { error: `key file not found: ${file}` };
    const secret = parseKey(readFileSync(file));
    return secret ? { secret } : { error: `key file ${file} does not hold a key of at least ${SECRET_BYTES} bytes (raw, hex or base64)` };
  }
  // Empty counts as unset, as in the configuration.
  const dataDir = process.env.LIMEN_DATA_DIR || DEFAULT_DATA_DIR;
  const path = resolve(dataDir, 'deidentify.key');
  if (existsSync(path)) {
    const secret = parseKey(readFileSync(path));
    return secret ? { secret, note: `using the key in ${path}` } : { error: `${path} does not hold a valid key` };
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(SECRET_BYTES);
  writeFileSync(path, secret.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  return { secret, note: `generated a new de-identification key in ${path}; keep it: the same key gives the same UIDs and pseudonyms` };
}
