import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigOrThrow } from '../../../config/index.js';
import { configurationRecord } from '../../../gateway/process/configuration-record.js';

describe('gateway: the configuration record of gateway.started', () => {
  it('names each route’s de-identification, destinations and callers, and nothing of their credentials', () => {
    const dir = mkdtempSync(join(tmpdir(), 'limen-config-record-'));
    try {
      const file = join(dir, 'limen.yaml');
      writeFileSync(
        file,
        `
remoteAEs:
  - { aeTitle: CT01, route: research, addresses: [10.1.2.0/24] }
routes:
  research:
    deidentification:
      options: [retainLongitudinalModifiedDates, cleanDescriptors, retainSafePrivate]
      safePrivateAllowlist: [{ creator: SIEMENS CT VA0  COAD, element: '(0019,xx23)' }]
    destinations: [web]
destinations:
  web:
    kind: dicomweb
    url: https://pacs.example/dicom-web
    auth: { bearerTokenFile: ${join(dir, 'token')} }
`,
      );
      const record = configurationRecord(loadConfigOrThrow({ file, env: { LIMEN_DATA_DIR: join(dir, 'var'), LIMEN_DIMSE_HOST: '10.0.0.5' } }));
      expect(record.routes).to.have.property('research').that.deep.include({
        deidentification: { profile: 'basic', options: ['retainLongitudinalModifiedDates', 'cleanDescriptors', 'retainSafePrivate'], allowBurnedIn: false, safePrivateAllowlist: ['SIEMENS CT VA0  COAD (0019,xx23)'] },
        destinations: ['web'],
        acceptAnyCaller: false,
      });
      expect(record.destinations).to.deep.equal({ web: { kind: 'dicomweb', url: 'https://pacs.example/dicom-web' } });
      expect(record.remoteAEs).to.deep.equal([{ aeTitle: 'CT01', route: 'research', tlsRequired: false, addresses: ['10.1.2.0/24'] }]);
      expect(JSON.stringify(record), 'not even the credential file').to.not.include(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
