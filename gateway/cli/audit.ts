/** `limen audit verify`: checks the audit trail's hash chain; exits 1 when it is broken. */
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { configOrReport } from './load-config.js';
import { withStorage } from './with-storage.js';

export const auditCommand: Command = {
  summary: 'audit verify: check the audit trail hash chain',
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { config: { type: 'string' } } });
    if (positionals[0] !== 'verify') {
      process.stderr.write('usage: limen audit verify\n');
      return 2;
    }
    const config = configOrReport(values.config, 'audit');
    if (!config) return 2;
    const result = await withStorage(config, (storage) => storage.audit.verify());
    if (result.ok) {
      process.stdout.write(`audit trail intact: ${result.count} events, hash chain verified\n`);
      return 0;
    }
    process.stdout.write(`audit trail BROKEN at event ${result.brokenAtId}: ${result.reason}\n`);
    return 1;
  },
};
