/**
 * `limen audit export ...` (see audit-export.ts), and
 * `limen audit verify [--expect-head <seq>:<hash>]`: checks the audit trail's hash chain and
 * prints its head; exits 1 when it is broken, or when an earlier head kept elsewhere is no
 * longer in it with that hash (the trail was truncated or rewritten from there on).
 */
import type { AuditLog } from '../../storage/index.js';
import { AUDIT_EXPORT_USAGE, runAuditExport } from './audit-export.js';
import { parseCommandArgs, surplusArguments, type Command } from './command.js';
import { configOrReport } from './load-config.js';
import { withStorage } from './with-storage.js';

const USAGE = `usage: limen audit verify [--expect-head <seq>:<hash>] [--config <file>]

Walks the audit trail's hash chain and checks each event's seal (an HMAC under a key derived from
the master key, so an event written into the database without it is told apart). Intact (exit 0):
prints the number of events and the chain's head as <seq>:<hash>; keep the head outside Limen
(the log's gateway.started and gateway.stopped lines carry it as auditHead). Broken (exit 1):
names the first event that is not as it was written. The chain alone cannot show that its newest
events were removed: --expect-head with a head printed earlier fails (exit 1) unless that event
is still in the chain with that hash. Exit 2: usage, configuration, or no database to verify.

${AUDIT_EXPORT_USAGE}`;

export const auditCommand: Command = {
  summary: 'audit verify [--expect-head <seq>:<hash>]: check the audit trail hash chain; audit export --out <dir>: write it as DICOM audit messages',
  usage: USAGE,
  async run(argv) {
    // Its own options: parsed by itself, before verify's are.
    if (argv[0] === 'export') return runAuditExport(argv.slice(1));
    const parsed = parseCommandArgs('audit', argv, { config: { type: 'string' }, 'expect-head': { type: 'string' } }, USAGE);
    if (typeof parsed === 'number') return parsed;
    const { values, positionals } = parsed;
    const [sub, ...surplus] = positionals;
    if (sub !== 'verify') {
      process.stderr.write(`${sub === undefined ? '' : `limen audit: unknown subcommand '${sub}'\n`}${USAGE}`);
      return 2;
    }
    if (surplus.length) {
      process.stderr.write(`${surplusArguments('audit verify', surplus)}\n${USAGE}`);
      return 2;
    }
    const expected = values['expect-head'] === undefined ? undefined : parseHead(values['expect-head']);
    if (expected === null) {
      process.stderr.write(`limen audit verify: --expect-head takes <seq>:<hash> as verify printed it (a seq from 1, a SHA-256 in 64 hex digits)\n`);
      return 2;
    }
    const config = configOrReport(values.config, 'audit');
    if (!config) return 2;
    return withStorage(
      config,
      async (storage) => {
        const result = await storage.audit.verify();
        if (!result.ok) {
          process.stdout.write(`audit trail BROKEN at event seq ${result.brokenAtSeq}: ${result.reason}\n`);
          return 1;
        }
        // Intact, the chain is seq 1..count, each linked to the one before.
        const head = result.count ? `head ${result.count}:${result.headHash}\n` : 'head: none (no events yet)\n';
        if (expected) {
          const broken = await expectedHeadProblem(storage.audit, expected, result);
          if (broken) {
            process.stdout.write(`audit trail BROKEN: ${broken}\n${head}`);
            return 1;
          }
        }
        const sealed = result.unsealed === 0 ? 'each sealed with the audit key' : `each from seq ${result.unsealed + 1} sealed with the audit key (the first ${result.unsealed} were written before events were sealed)`;
        process.stdout.write(`audit trail intact: ${result.count} events, hash chain verified, ${sealed}\n${head}`);
        if (expected) {
          process.stdout.write(`the expected head ${expected.seq}:${expected.hash} is in the chain${expected.seq < result.count ? `, ${result.count - expected.seq} events after it` : ''}\n`);
        }
        return 0;
      },
      { command: 'audit verify', create: false },
    );
  },
};

/** `<seq>:<hash>` as verify prints it, or null. */
function parseHead(text: string): { seq: number; hash: string } | null {
  const m = /^(\d{1,15}):([0-9a-fA-F]{64})$/.exec(text.trim());
  if (!m || Number(m[1]) < 1) return null;
  return { seq: Number(m[1]), hash: m[2].toLowerCase() };
}

/** Why a head kept earlier is no longer in the verified chain, or undefined when it is. */
async function expectedHeadProblem(audit: AuditLog, expected: { seq: number; hash: string }, chain: { count: number; headHash: string }): Promise<string | undefined> {
  if (expected.seq > chain.count) {
    return `the expected head ${expected.seq}:${expected.hash} is no longer in the chain, which ends at seq ${chain.count}: events were removed from its end`;
  }
  const hash = expected.seq === chain.count ? chain.headHash : await hashAt(audit, expected.seq);
  if (hash === expected.hash) return undefined;
  return `event seq ${expected.seq} ${hash === undefined ? 'was not found' : `has hash ${hash}`}, not the expected ${expected.hash}: the chain was rewritten at or before that event`;
}

/** The hash of the event with this seq, read in pages (the event whose id is its seq first). */
async function hashAt(audit: AuditLog, seq: number): Promise<string | undefined> {
  const [guess] = await audit.list({ afterId: seq - 1, limit: 1 });
  if (guess?.seq === seq) return guess.hash;
  let afterId: number | undefined;
  for (;;) {
    const page = await audit.list({ afterId, limit: 10_000 });
    if (page.length === 0) return undefined;
    const found = page.find((e) => e.seq === seq);
    if (found) return found.hash;
    afterId = Math.max(...page.map((e) => e.id));
  }
}
