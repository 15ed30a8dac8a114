/** `limen token create --role <role> [--user <id>] [--ttl <dur>]`: an API token, shown once. */
import { parseArgs } from 'node:util';
import { ROLES, type Role } from '../../storage/index.js';
import type { Command } from './command.js';
import { configOrReport } from './load-config.js';
import { withStorage } from './with-storage.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90d", "12h", "30m", "3600s" or plain seconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  return m ? Number(m[1]) * UNITS[m[2] || 's'] : undefined;
}

export const tokenCommand: Command = {
  summary: 'token create --role <role> [--user <id>] [--ttl <dur>]: issue an API token',
  async run(argv) {
    const usage = `usage: limen token create --role <${ROLES.join('|')}> [--user <id>] [--ttl <30d|12h|...>]\n`;
    let parsed;
    try {
      parsed = parseArgs({ args: argv, allowPositionals: true, options: { role: { type: 'string' }, user: { type: 'string' }, ttl: { type: 'string', default: '30d' }, config: { type: 'string' } } });
    } catch (e) {
      process.stderr.write(`limen token: ${(e as Error).message}\n${usage}`);
      return 2;
    }
    const { values, positionals } = parsed;
    const ttlSeconds = parseDuration(values.ttl ?? '');
    if (positionals[0] !== 'create' || !values.role || !(ROLES as readonly string[]).includes(values.role) || !ttlSeconds) {
      process.stderr.write(usage);
      return 2;
    }
    const config = configOrReport(values.config, 'token');
    if (!config) return 2;
    const token = await withStorage(config, (storage) => storage.createToken({ role: values.role as Role, user: values.user, ttlSeconds, issuedBy: 'cli' }));
    process.stdout.write(`${token.token}\n`);
    process.stderr.write(`token ${token.id} for role ${values.role}${values.user ? ` (user ${values.user})` : ''}, expires ${token.expiresAt.toISOString()}; it is shown only once\n`);
    return 0;
  },
};
