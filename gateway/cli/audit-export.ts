/**
 * `limen audit export --out <dir> [--study <uid>] [--type <type>] [--after <seq>]`: writes the
 * audit trail as DICOM PS3.15 A.5 audit messages, one complete XML document per event named
 * `<seq>.xml`, for the hospital's Audit Record Repository (IHE ATNA). The files carry what the
 * trail carries, pseudonymous identifiers only, plus the configuration's AE titles and the study
 * rows' pseudonymous Patient IDs.
 */
import { mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDicomUID, type LimenConfig } from '../../config/index.js';
import type { AuditEvent, Storage } from '../../storage/index.js';
import { dicomAuditMessage, type AuditDestination, type AuditMessageContext, type AuditStudyFacts } from '../audit/dicom-audit-message.js';
import { CommandError, parseCommandArgs, surplusArguments } from './command.js';
import { configOrReport } from './load-config.js';
import { progressBar } from './progress.js';
import { withStorage } from './with-storage.js';

const PAGE = 1000;

export const AUDIT_EXPORT_USAGE = `usage: limen audit export --out <dir> [--study <uid>] [--type <type>] [--after <seq>]
                          [--source-id <id>] [--site <id>] [--config <file>]

Writes each audit event as a DICOM PS3.15 A.5 audit message (XML), one file per event named
<seq>.xml, into <dir> (made if missing; a file of the same name is replaced by the same message).
--study: only that (pseudonymous) Study Instance UID's events; --type: only events of that type
(e.g. instance.stored); --after: only events after that seq (the last one a repository has).
--source-id: the AuditSourceID (default: the gateway's AE title); --site: AuditEnterpriseSiteID.
Prints how many messages it wrote. Exit 2: usage, configuration, or no database to export.
`;

/** Runs `limen audit export` with the arguments after `export`. */
export async function runAuditExport(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    'audit export',
    argv,
    { config: { type: 'string' }, out: { type: 'string' }, study: { type: 'string' }, type: { type: 'string' }, after: { type: 'string' }, 'source-id': { type: 'string' }, site: { type: 'string' } },
    AUDIT_EXPORT_USAGE,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const problem = positionals.length ? surplusArguments('audit export', positionals) : argumentProblem(values);
  if (problem) {
    process.stderr.write(`${problem}\n${AUDIT_EXPORT_USAGE}`);
    return 2;
  }
  const out = resolve(values.out!);
  const outProblem = outDirProblem(out);
  if (outProblem) {
    process.stderr.write(`limen audit export: ${outProblem}\n`);
    return 2;
  }
  const config = configOrReport(values.config, 'audit export');
  if (!config) return 2;
  const context = messageContext(config, values['source-id'], values.site);
  const filter = { ...(values.study !== undefined && { studyInstanceUID: values.study }), ...(values.type !== undefined && { type: values.type }) };
  const after = values.after === undefined ? 0 : Number(values.after);
  return withStorage(
    config,
    async (storage) => {
      const written = await exportTrail(storage, out, context, filter, after);
      process.stdout.write(written.count === 0 ? `no audit events to export${after ? ` after seq ${after}` : ''}\n` : `wrote ${written.count} audit messages (seq ${written.first} to ${written.last}) to ${out}\n`);
      return 0;
    },
    { command: 'audit export', create: false },
  );
}

/** What is wrong with the options, in one line naming the command, or undefined. */
function argumentProblem(values: Record<string, string | boolean | undefined>): string | undefined {
  const s = (k: string) => values[k] as string | undefined;
  if (s('out') === undefined || s('out') === '') return 'limen audit export: --out <dir> is required: the directory the messages are written to';
  if (s('study') !== undefined && !isDicomUID(s('study')!)) return `limen audit export: --study takes a Study Instance UID (digits and dots, at most 64 characters), not '${s('study')}'`;
  if (s('type') !== undefined && !/^[a-z][a-z0-9.-]{0,63}$/.test(s('type')!)) return `limen audit export: --type takes an event type such as instance.stored, not '${s('type')}'`;
  if (s('after') !== undefined && !(/^\d{1,15}$/.test(s('after')!) && Number.isSafeInteger(Number(s('after'))))) return `limen audit export: --after takes a seq, a whole number from 0, not '${s('after')}'`;
  for (const k of ['source-id', 'site']) {
    const v = s(k);
    if (v !== undefined && (v.trim() === '' || v.length > 256 || /[\0-\x1f]/.test(v))) return `limen audit export: --${k} takes an identifier of 1 to 256 printable characters`;
  }
  return undefined;
}

/** Why the output directory cannot be used, or undefined (it is made later when missing). */
function outDirProblem(out: string): string | undefined {
  try {
    if (!statSync(out).isDirectory()) return `--out ${out} is not a directory`;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return `--out ${out}: ${(e as Error).message}`;
  }
  return undefined;
}

function messageContext(config: LimenConfig, sourceID: string | undefined, site: string | undefined): AuditMessageContext {
  const destinations: Record<string, AuditDestination> = {};
  for (const [name, d] of Object.entries(config.destinations)) destinations[name] = d.kind === 'dimse' ? { kind: 'dimse', aeTitle: d.aeTitle, host: d.host } : { kind: 'dicomweb', url: d.url };
  return { aeTitle: config.dimse.aeTitle, auditSourceID: sourceID ?? config.dimse.aeTitle, ...(site !== undefined && { auditEnterpriseSiteID: site }), destinations };
}

/** Writes every matching event after `after`, a page at a time, each file whole before it takes its name. */
async function exportTrail(
  storage: Storage,
  out: string,
  context: AuditMessageContext,
  filter: { studyInstanceUID?: string; type?: string },
  after: number,
): Promise<{ count: number; first?: number; last?: number }> {
  const head = await storage.audit.head();
  const progress = progressBar('exporting audit events', Math.max((head?.seq ?? 0) - after, 0));
  const studies = new Map<string, AuditStudyFacts | undefined>();
  let count = 0;
  let first: number | undefined;
  let cursor = after;
  try {
    makeDir(out);
    for (;;) {
      const page = await storage.audit.list({ afterSeq: cursor, limit: PAGE, ...filter });
      if (page.length === 0) break;
      for (const event of page) {
        const xml = dicomAuditMessage(event, context, await studyFacts(storage, studies, event));
        writeWhole(join(out, `${event.seq}.xml`), xml);
        first ??= event.seq;
        count += 1;
        progress.tick(event.seq - cursor);
        cursor = event.seq;
      }
    }
  } finally {
    progress.done();
  }
  return { count, first, last: count ? cursor : undefined };
}

/** The study row's pseudonymous Patient ID, read once per study; none once the study is gone (expired or erased). */
async function studyFacts(storage: Storage, cache: Map<string, AuditStudyFacts | undefined>, event: AuditEvent): Promise<AuditStudyFacts | undefined> {
  const uid = event.studyInstanceUID;
  if (uid === null) return undefined;
  if (!cache.has(uid)) {
    const study = await storage.getStudy(uid);
    const patientID = study?.attributes.PatientID;
    cache.set(uid, typeof patientID === 'string' && patientID.trim() !== '' ? { patientID } : undefined);
  }
  return cache.get(uid);
}

function makeDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new CommandError(`limen audit export: cannot make ${dir}: ${(e as Error).message}`, 1);
  }
}

/** A repository picking files up never reads half of one. */
function writeWhole(path: string, text: string): void {
  const partial = `${path}.partial`;
  try {
    writeFileSync(partial, text);
    renameSync(partial, path);
  } catch (e) {
    throw new CommandError(`limen audit export: cannot write ${path}: ${(e as Error).message}`, 1);
  }
}
