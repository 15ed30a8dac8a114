/**
 * `limen healthcheck`, the container's HEALTHCHECK. The image probed 127.0.0.1 on
 * LIMEN_HTTP_PORT or 8080 over plain HTTP, so an `http.port`, `http.host` or `http.tls` in the
 * mounted configuration went unseen and the container turned unhealthy. The command reads the
 * configuration as `limen start` does and probes where the gateway listens.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeTarget } from '../../../gateway/cli/healthcheck.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { runLimen, type LimenResult } from '../../support/limen-cli.js';
import { requirePeers } from '../../support/peers.js';
import { freePort } from '../../support/ports.js';
import { createTestPki, type TestPki } from '../../support/tls-certificates.js';

/** Exit 0 and nothing said, or exit 1 and one line. */
function expectHealthy(r: LimenResult): void {
  expect(r.code, r.stderr).to.equal(0);
  expect(r.stderr).to.equal('');
  expect(r.stdout).to.equal('');
}
function expectUnhealthy(r: LimenResult, reason: RegExp): void {
  expect(r.code, r.stderr).to.equal(1);
  expect(r.stderr).to.match(/^limen healthcheck: [^\n]*\n$/);
  expect(r.stderr).to.match(reason);
}

describe('limen healthcheck', function () {
  this.timeout(120_000);
  let work: string;
  /** A data dir that must never come to exist: the healthcheck creates nothing. */
  let untouched: string;
  const env = () => ({ LIMEN_DATA_DIR: untouched });
  const writeConfig = (name: string, yaml: string) => {
    const file = join(work, name);
    writeFileSync(file, yaml);
    return file;
  };

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'limen-healthcheck-'));
    untouched = join(work, 'never-created');
  });
  after(() => rmSync(work, { recursive: true, force: true }));
  afterEach(() => expect(existsSync(untouched), 'a data dir was created').to.equal(false));

  describe('against a gateway on a port set only in its configuration file', () => {
    let gw: TestGateway;
    let port: number;
    before(async () => {
      port = await freePort();
      gw = await startTestGateway(`http:\n  port: ${port}\nworker:\n  enabled: false\n`, { http: port });
    });
    after(async () => gw?.dispose());

    it('exits 0 with the file from --config, and from LIMEN_CONFIG, without LIMEN_HTTP_PORT', async () => {
      const file = writeConfig('plain.yaml', `http:\n  host: 127.0.0.1\n  port: ${port}\n`);
      expectHealthy(await runLimen(['healthcheck', '--config', file], { env: env() }));
      expectHealthy(await runLimen(['healthcheck'], { env: { ...env(), LIMEN_CONFIG: file } }));
    });

    it('probes loopback when the configuration listens on every address', async () => {
      const file = writeConfig('wildcard.yaml', `http:\n  host: 0.0.0.0\n  port: ${port}\n`);
      expectHealthy(await runLimen(['healthcheck', '--config', file], { env: env() }));
    });

    it('follows the environment overrides as limen start does', async () => {
      const file = writeConfig('elsewhere.yaml', `http:\n  port: ${await freePort()}\n`);
      expectHealthy(await runLimen(['healthcheck', '--config', file], { env: { ...env(), LIMEN_HTTP_PORT: String(port) } }));
    });
  });

  describe('against a gateway over HTTPS (http.tls)', () => {
    let pki: TestPki;
    let gw: TestGateway;
    let port: number;
    before(async function () {
      requirePeers(this, 'openssl');
      pki = createTestPki();
      port = await freePort();
      const yaml = `http:\n  port: ${port}\n  tls:\n    certificateFile: ${pki.server.certificate}\n    privateKeyFile: ${pki.server.privateKey}\nworker:\n  enabled: false\n`;
      gw = await startTestGateway(yaml, { http: port });
    });
    after(async () => {
      await gw?.dispose();
      pki?.remove();
    });

    it('exits 0 over HTTPS, taking the server’s own certificate', async () => {
      const file = writeConfig('https.yaml', `http:\n  port: ${port}\n  tls:\n    certificateFile: ${pki.server.certificate}\n    privateKeyFile: ${pki.server.privateKey}\n`);
      expectHealthy(await runLimen(['healthcheck', '--config', file], { env: env() }));
    });
  });

  it('exits 1 with a one-line reason when nothing listens', async () => {
    const port = await freePort();
    const file = writeConfig('nothing.yaml', `http:\n  port: ${port}\n`);
    expectUnhealthy(await runLimen(['healthcheck', '--config', file], { env: env() }), new RegExp(`http://127\\.0\\.0\\.1:${port}/healthz: ECONNREFUSED`));
  });

  it('exits 1 (never 2, which Docker reserves) for a configuration that is not valid, or a usage error', async () => {
    const file = writeConfig('bad.yaml', 'http:\n  port: seventy\n');
    expectUnhealthy(await runLimen(['healthcheck', '--config', file], { env: env() }), /the configuration is not valid: http\.port/);
    expectUnhealthy(await runLimen(['healthcheck', 'now'], { env: env() }), /unexpected argument 'now'/);
    expect((await runLimen(['healthcheck', '--port', '1'], { env: env() })).code).to.equal(1);
  });

  it('answers --help with its usage, and is listed by limen help', async () => {
    const [help, list] = await Promise.all([runLimen(['healthcheck', '--help']), runLimen(['help'])]);
    expect(help.code, help.stderr).to.equal(0);
    expect(help.stdout).to.match(/^usage: limen healthcheck \[--config <file>\]/);
    expect(list.stdout).to.match(/^  healthcheck /m);
  });

  it('maps every-address hosts to loopback and http.tls to https', () => {
    expect(probeTarget({ host: '0.0.0.0', port: 8443, tls: undefined })).to.deep.equal({ scheme: 'http', hosts: ['127.0.0.1'], port: 8443 });
    expect(probeTarget({ host: '::', port: 80, tls: { certificateFile: 'c', privateKeyFile: 'k' } })).to.deep.equal({ scheme: 'https', hosts: ['::1', '127.0.0.1'], port: 80 });
    expect(probeTarget({ host: '[::]', port: 80, tls: undefined }).hosts).to.deep.equal(['::1', '127.0.0.1']);
    expect(probeTarget({ host: '10.1.2.3', port: 80, tls: undefined }).hosts).to.deep.equal(['10.1.2.3']);
  });
});
