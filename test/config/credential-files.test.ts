/**
 * A DICOMweb destination's credential files, read at each send: config check reads them as a send
 * would, so one that cannot be read, or holds nothing, is said before every delivery fails.
 */
import { expect } from 'chai';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { credentialFileProblems, loadConfig } from '../../config/index.js';
import { expectConfig, scratchDir } from './helpers.js';

describe('config: destination credential files', () => {
  it('names the setting and file of a token or password file that is missing, unreadable or empty; not one that serves', async () => {
    const scratch = scratchDir();
    try {
      scratch.write('good.token', 'abc\n');
      scratch.write('empty.password', ' \n');
      const locked = scratch.write('locked.token', 'abc\n');
      chmodSync(locked, 0);
      const file = scratch.write(
        'limen.yaml',
        [
          'destinations:',
          '  good: { kind: dicomweb, url: "https://a.example/dicomweb", auth: { bearerTokenFile: good.token } }',
          '  missing: { kind: dicomweb, url: "https://b.example/dicomweb", auth: { bearerTokenFile: missing.token } }',
          '  empty: { kind: dicomweb, url: "https://c.example/dicomweb", auth: { basic: { user: limen, passwordFile: empty.password } } }',
          '  locked: { kind: dicomweb, url: "https://d.example/dicomweb", auth: { bearerTokenFile: locked.token } }',
          '  open: { kind: dicomweb, url: "https://e.example/dicomweb" }',
          '',
        ].join('\n'),
      );
      const problems = await credentialFileProblems(expectConfig(loadConfig({ file, env: {} })));
      const expected = [
        { message: `destinations.missing.auth.bearerTokenFile: cannot read ${join(scratch.dir, 'missing.token')}: ENOENT`, fails: 'send' },
        { message: `destinations.empty.auth.basic.passwordFile: ${join(scratch.dir, 'empty.password')} is empty`, fails: 'send' },
      ];
      // root reads any file: the locked one is a problem only where permissions hold.
      if (process.getuid?.() !== 0) expected.push({ message: `destinations.locked.auth.bearerTokenFile: cannot read ${locked}: EACCES`, fails: 'send' });
      expect(problems).to.deep.equal(expected);
    } finally {
      scratch.cleanup();
    }
  });
});
