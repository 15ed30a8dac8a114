import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isPair, isScalar, parseDocument, visit } from 'yaml';
import { configSchema, configWarnings, loadConfig, resolveCaller } from '../../config/index.js';
import { expectConfig } from './helpers.js';

const EXAMPLE = resolve(dirname(fileURLToPath(import.meta.url)), '../../config/limen.example.yaml');

/** Every key any object schema in the configuration accepts. */
function schemaKeys(schema: unknown, into = new Set<string>()): Set<string> {
  const def = (schema as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
  if (def === undefined) return into;
  switch (def.type) {
    case 'object':
      for (const [key, field] of Object.entries(def.shape as Record<string, unknown>)) {
        into.add(key);
        schemaKeys(field, into);
      }
      break;
    case 'default':
    case 'prefault':
    case 'optional':
      schemaKeys(def.innerType, into);
      break;
    case 'pipe':
      schemaKeys(def.in, into);
      break;
    case 'record':
      schemaKeys(def.valueType, into);
      break;
    case 'array':
      schemaKeys(def.element, into);
      break;
    case 'union':
      for (const option of def.options as unknown[]) schemaKeys(option, into);
      break;
  }
  return into;
}

describe('config: the example file', () => {
  it('passes validation', () => {
    const result = loadConfig({ file: EXAMPLE, env: {} });
    const config = expectConfig(result);
    expect(result.ok && result.file).to.equal(EXAMPLE);
    expect(Object.keys(config.routes)).to.have.members(['default', 'ct-chest']);
    expect(config.dataDir).to.equal(join(dirname(EXAMPLE), 'var'));
    // A hospital setup: DIMSE open to the network, so every caller is listed.
    expect(config.dimse.host).to.equal('0.0.0.0');
    // The CT sends over TLS only.
    const device = '3fa90c517e22b4d8601b9ec3457af0128d6eb104c9375ae2990f46bd7328e15c';
    expect(resolveCaller(config, { callingAETitle: 'CT_ROOM3', remoteAddress: '10.20.30.41', tls: true, peerCertificateSha256: device })).to.include({ ok: true, routeName: 'ct-chest' });
    expect(resolveCaller(config, { callingAETitle: 'CT_ROOM3', remoteAddress: '10.20.30.41', tls: true })).to.include({ ok: false, reason: 'certificate-not-allowed' });
    expect(resolveCaller(config, { callingAETitle: 'CT_ROOM3', remoteAddress: '10.20.30.41' })).to.include({ ok: false, reason: 'tls-required' });
    expect(config.dimse.tls?.port).to.equal(2762);
    // HTTP beyond loopback, over TLS: nothing to warn about but the reviewer groups and the retention it shows.
    expect(config.http.tls?.certificateFile).to.equal(join(dirname(EXAMPLE), 'secrets', 'https.crt'));
    expect(configWarnings(config).map((w) => w.code)).to.deep.equal([
      'reviewer_group_unenforced',
      'reviewer_group_unenforced',
      'retention_unenforced',
      'retention_unenforced',
      'retention_unenforced',
    ]);
    expect(resolveCaller(config, { callingAETitle: 'UNKNOWN', remoteAddress: '10.20.30.41' }).ok).to.equal(false);
  });

  it('keeps the database in the data dir wherever LIMEN_DATA_DIR moves it (a mounted copy)', () => {
    const config = expectConfig(loadConfig({ file: EXAMPLE, env: { LIMEN_DATA_DIR: '/var/lib/limen' } }));
    expect(config.database).to.deep.equal({ kind: 'sqlite', url: 'sqlite:/var/lib/limen/limen.sqlite', filename: '/var/lib/limen/limen.sqlite' });
  });

  it('shows every field the schema knows', () => {
    const doc = parseDocument(readFileSync(EXAMPLE, 'utf8'));
    const written = new Set<string>();
    visit(doc, {
      Pair(_, pair) {
        if (isPair(pair) && isScalar(pair.key)) written.add(String(pair.key.value));
      },
    });
    const missing = [...schemaKeys(configSchema)].filter((k) => !written.has(k));
    expect(missing, `fields not shown in the example: ${missing.join(', ')}`).to.deep.equal([]);
  });

  it('has a comment for every field, on the lines just above it or on its own line', () => {
    const text = readFileSync(EXAMPLE, 'utf8');
    const lines = text.split('\n');
    const doc = parseDocument(text);
    const keys = schemaKeys(configSchema);
    const documented = new Set<string>();
    visit(doc, {
      Pair(_, pair) {
        if (!isPair(pair) || !isScalar(pair.key) || pair.key.range === undefined || pair.key.range === null) return;
        const name = String(pair.key.value);
        const lineIndex = text.slice(0, pair.key.range[0]).split('\n').length - 1;
        const above = lines[lineIndex - 1]?.trim() ?? '';
        const own = lines[lineIndex];
        if (above.startsWith('#') || own.includes(' # ') || above.startsWith('- #')) documented.add(name);
      },
    });
    // A field repeated (a second route, a second remote AE) needs its comment once.
    const undocumented = [...keys].filter((k) => !documented.has(k));
    expect(undocumented, `fields without a comment: ${undocumented.join(', ')}`).to.deep.equal([]);
  });
});
