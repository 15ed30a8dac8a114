import { expect } from 'chai';
import { configWarnings } from '../../config/index.js';
import { expectConfig, loadYaml } from './helpers.js';

describe('config: warnings (valid, but exposed)', () => {
  it('HTTP beyond loopback without TLS', () => {
    const warnings = configWarnings(expectConfig(loadYaml('http: { host: 0.0.0.0 }\n')));
    expect(warnings.map((w) => [w.code, w.path])).to.deep.equal([['plaintext_http', 'http.tls']]);
    expect(warnings[0].message).to.contain('0.0.0.0');
  });

  it('none on loopback, nor beyond it with TLS', () => {
    expect(configWarnings(expectConfig(loadYaml('')))).to.deep.equal([]);
    expect(configWarnings(expectConfig(loadYaml('http: { host: 0.0.0.0, tls: { certificateFile: a.crt, privateKeyFile: a.key } }\n')))).to.deep.equal([]);
  });
});
