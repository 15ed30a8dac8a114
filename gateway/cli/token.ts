/**
 * `limen token create|list|revoke`: API tokens. A new token is shown once; the list shows every
 * token without its secret; a revoked token, and every browser session opened with it, stops
 * working at once.
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { isStorageError, MAX_TOKEN_TTL_SECONDS, ROLES, type Role, type TokenInfo } from '../../storage/index.js';
import type { Command } from './command.js';
import { configOrReport } from './load-config.js';
import { databaseExists, describeDatabase, withStorage } from './with-storage.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** The longest `--ttl`, as the help text and the errors write it. */
const MAX_TTL_TEXT = `${MAX_TOKEN_TTL_SECONDS / 86400}d`;

export const TOKEN_USAGE =
  'usage: limen token create --role <' + ROLES.join('|') + '> [--user <id>] [--ttl <dur>]\n' +
  '       limen token list [--json]\n' +
  '       limen token revoke <id>\n' +
  '\n' +
  '  create   issues an API token and prints it once; only its hash is stored.\n' +
  `           --ttl: 30d (the default), 12h, 45m, 3600s or plain seconds; at most ${MAX_TTL_TEXT} (2 years)\n` +
  '  list     every token: id, role, user, created, expires, revoked (never the secret)\n' +
  '  revoke   ends a token at once, and every browser session opened with it\n' +
  '\n' +
  'Every subcommand works on the gateway\'s data as limen start finds it: --config <file> (or\n' +
  'LIMEN_CONFIG) and the LIMEN_* environment (LIMEN_DATA_DIR, LIMEN_DATABASE_URL). create makes the\n' +
  'database when there is none yet (before a first start), and says so.\n';

/** "90d", "12h", "30m", "3600s" or plain seconds (Infinity for more digits than a number holds). */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  return m ? Number(m[1]) * UNITS[m[2] || 's'] : undefined;
}

/** A `--ttl` as seconds, or why it cannot be one. */
export function parseTtl(text: string): { ok: true; seconds: number } | { ok: false; reason: string } {
  const seconds = parseDuration(text);
  if (seconds === undefined) return { ok: false, reason: `--ttl: ${JSON.stringify(text)} is not a duration (30d, 12h, 45m, 3600s or plain seconds)` };
  if (seconds <= 0) return { ok: false, reason: `--ttl: ${text} is not a positive duration` };
  if (seconds > MAX_TOKEN_TTL_SECONDS) return { ok: false, reason: `--ttl: ${text} is more than the maximum of ${MAX_TTL_TEXT}` };
  return { ok: true, seconds };
}

export const tokenCommand: Command = {
  summary: 'token create --role <role> [--user <id>] [--ttl <dur>] | list [--json] | revoke <id>: API tokens',
  async run(argv) {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: { role: { type: 'string' }, user: { type: 'string' }, ttl: { type: 'string', default: '30d' }, json: { type: 'boolean', default: false }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      });
    } catch (e) {
      return usageError((e as Error).message);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      process.stdout.write(TOKEN_USAGE);
      return 0;
    }
    const [action, ...rest] = positionals;
    switch (action) {
      case 'create': {
        if (rest.length > 0) return usageError(`create takes no positional arguments (got ${rest.join(' ')})`);
        if (!values.role) return usageError(`--role is required: one of ${ROLES.join(', ')}`);
        if (!(ROLES as readonly string[]).includes(values.role)) return usageError(`--role: ${JSON.stringify(values.role)} is not one of ${ROLES.join(', ')}`);
        if (values.user !== undefined && (values.user.length === 0 || values.user.length > 256)) return usageError('--user: an id of 1 to 256 characters');
        const ttl = parseTtl(values.ttl ?? '');
        if (!ttl.ok) return usageError(ttl.reason);
        return create(values.config, values.role as Role, values.user, ttl.seconds);
      }
      case 'list':
        if (rest.length > 0) return usageError(`list takes no positional arguments (got ${rest.join(' ')})`);
        return list(values.config, values.json ?? false);
      case 'revoke':
        if (rest.length !== 1) return usageError('revoke takes exactly one token id (see limen token list)');
        return revoke(values.config, rest[0]);
      default:
        return usageError(action === undefined ? undefined : `unknown action ${JSON.stringify(action)}`);
    }
  },
};

function usageError(reason?: string): number {
  process.stderr.write(`${reason ? `limen token: ${reason}\n` : ''}${TOKEN_USAGE}`);
  return 2;
}

async function create(configFile: string | undefined, role: Role, user: string | undefined, ttlSeconds: number): Promise<number> {
  const config = configOrReport(configFile, 'token');
  if (!config) return 2;
  let token;
  try {
    const fresh = !(await databaseExists(config));
    token = await withStorage(config, (storage) => storage.createToken({ role, user, ttlSeconds, issuedBy: cliActor() }), { command: 'token create' });
    // A token in a database of its own is no use to a gateway serving another: say where it went.
    if (fresh) process.stderr.write(`limen token create: there was no Limen database at ${describeDatabase(config)}: created one (as a first limen start would, on that data dir); a gateway serving other data will not know this token: --config or LIMEN_DATA_DIR name the gateway's\n`);
  } catch (err) {
    // The checks above mirror storage's; should they ever differ, say which input, not a stack.
    if (isStorageError(err, 'invalid-input')) return usageError(`${err.path ? `--${err.path}: ` : ''}${err.message}`);
    throw err;
  }
  process.stdout.write(`${token.token}\n`);
  process.stderr.write(`token ${token.id} for role ${role}${user ? ` (user ${user})` : ''}, expires ${token.expiresAt.toISOString()}; it is shown only once\n`);
  return 0;
}

/** What `list --json` prints per token: no secret, no hash. */
export interface TokenListEntry {
  id: string;
  role: Role;
  user: string | null;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  /** `active`, `expired` or `revoked`, as of the listing. */
  state: 'active' | 'expired' | 'revoked';
}

async function list(configFile: string | undefined, json: boolean): Promise<number> {
  const config = configOrReport(configFile, 'token');
  if (!config) return 2;
  const tokens = await withStorage(config, (storage) => storage.tokens.list(), { command: 'token list', create: false });
  const now = Date.now();
  const entries = tokens.map((t) => listEntry(t, now));
  if (json) {
    process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    return 0;
  }
  if (entries.length === 0) {
    process.stdout.write('no tokens (limen token create --role <role> issues one)\n');
    return 0;
  }
  const rows = [
    ['ID', 'ROLE', 'USER', 'CREATED', 'EXPIRES', 'REVOKED', 'STATE'],
    ...entries.map((e) => [e.id, e.role, e.user ?? '-', minute(e.createdAt), minute(e.expiresAt), e.revokedAt ? minute(e.revokedAt) : '-', e.state]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) process.stdout.write(`${r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()}\n`);
  return 0;
}

function listEntry(t: TokenInfo, now: number): TokenListEntry {
  return {
    id: t.id,
    role: t.role,
    user: t.user,
    createdAt: t.createdAt.toISOString(),
    expiresAt: t.expiresAt.toISOString(),
    revokedAt: t.revokedAt?.toISOString() ?? null,
    state: t.revokedAt ? 'revoked' : t.expiresAt.getTime() <= now ? 'expired' : 'active',
  };
}

/** An ISO time to the minute, in UTC, for the table. */
const minute = (iso: string): string => `${iso.slice(0, 16).replace('T', ' ')}Z`;

async function revoke(configFile: string | undefined, id: string): Promise<number> {
  const config = configOrReport(configFile, 'token');
  if (!config) return 2;
  return withStorage(config, async (storage) => {
    const token = await storage.tokens.get(id);
    if (!token) {
      process.stderr.write(`limen token: no token has the id ${JSON.stringify(id)} (limen token list shows them)\n`);
      return 1;
    }
    if (token.revokedAt) {
      process.stdout.write(`token ${id} was already revoked at ${token.revokedAt.toISOString()}\n`);
      return 0;
    }
    if (!(await storage.tokens.revoke(id, cliActor()))) {
      // Revoked by someone else between the two statements.
      process.stdout.write(`token ${id} was already revoked\n`);
      return 0;
    }
    process.stdout.write(`token ${id} (role ${token.role}${token.user ? `, user ${token.user}` : ''}) revoked; its sessions end at once\n`);
    return 0;
  }, { command: 'token revoke', create: false });
}

/** Who issued or revoked a token at the command line, for the audit trail: the operating system's user. */
function cliActor(): string {
  let name = '';
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry for this uid (a container's arbitrary user).
  }
  return `cli:${name || `uid ${process.getuid?.() ?? 'unknown'}`}`;
}
