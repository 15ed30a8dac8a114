/**
 * `limen start` and the signals an operator or a container engine sends: handled from before the
 * start (a SIGTERM then is neither ignored, as PID 1 would, nor a SIGHUP fatal), a second stop
 * signal stops at once with a failure status, and the exit status says whether the stop was clean.
 * The lifecycle alone with a stand-in gateway, then `limen start` itself as a child process.
 */
import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveUntilSignalled, type ServeDeps } from '../../../gateway/cli/start.js';
import { createLogger } from '../../../gateway/log/index.js';
import type { StopOutcome } from '../../../gateway/process/shutdown.js';
import { LimenProcess, limenEnv, PROJECT_ROOT } from '../../support/limen-cli.js';
import { requirePeers } from '../../support/peers.js';
import { freePort } from '../../support/ports.js';
import { createTestPki, type TestPki } from '../../support/tls-certificates.js';
import { until } from '../../support/wait.js';
import { holdStore } from '../stop-harness.js';

const CLEAN: StopOutcome = { ok: true, failures: [], cutOff: false };

/** A gateway stand-in whose start and stop end when the test says, and which counts what it is asked. */
function standIn(stopOutcome: StopOutcome = CLEAN) {
  const calls: string[] = [];
  let started!: () => void;
  let failStart!: (err: Error) => void;
  const gateway = {
    stop: async () => (calls.push('stop'), stopOutcome),
    abort: async () => (calls.push('abort'), { ...stopOutcome, cutOff: true }),
    reloadTls: async () => (calls.push('reloadTls'), {}),
  };
  const startPromise = new Promise<typeof gateway>((resolve, reject) => {
    started = () => resolve(gateway);
    failStart = reject;
  });
  const signals = new EventEmitter();
  const lines: string[] = [];
  const exits: number[] = [];
  const deps: ServeDeps = {
    start: () => startPromise,
    logger: createLogger({ write: (l) => lines.push(l) }),
    signals: signals as unknown as ServeDeps['signals'],
    exitNow: (code) => void exits.push(code),
  };
  const send = (signal: NodeJS.Signals) => signals.emit(signal, signal);
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { deps, calls, started, failStart, send, records, exits, listeners: () => signals.eventNames() };
}

const tick = () => new Promise((r) => setTimeout(r, 20));

describe('limen start: signals (lifecycle)', () => {
  it('a SIGTERM during the start stops the gateway once it has started, and exits 0', async () => {
    const s = standIn();
    const serving = serveUntilSignalled(s.deps);
    await tick();
    s.send('SIGTERM');
    await tick();
    expect(s.calls, 'nothing to stop yet').to.deep.equal([]);
    s.started();
    expect(await serving).to.equal(0);
    expect(s.calls).to.deep.equal(['stop']);
    expect(s.listeners(), 'handlers removed once stopped').to.deep.equal([]);
  });

  it('a SIGHUP during the start is logged and ignored; once running it reloads the TLS files', async () => {
    const s = standIn();
    const serving = serveUntilSignalled(s.deps);
    await tick();
    s.send('SIGHUP');
    expect(s.records().find((r) => r.id === 'gateway.signal.ignored')).to.include({ signal: 'SIGHUP' });
    s.started();
    await tick();
    s.send('SIGHUP');
    await tick();
    expect(s.calls).to.deep.equal(['reloadTls']);
    s.send('SIGINT');
    expect(await serving).to.equal(0);
  });

  it('a second SIGTERM while stopping is logged at warn, aborts the stop and exits 1 at once', async () => {
    const s = standIn();
    // A stop that would drain for a long while.
    s.deps.start = async () => ({ stop: () => new Promise<StopOutcome>(() => s.calls.push('stop')), abort: async () => (s.calls.push('abort'), { ...CLEAN, cutOff: true }), reloadTls: async () => ({}) });
    const serving = serveUntilSignalled(s.deps);
    await tick();
    s.send('SIGTERM');
    await tick();
    s.send('SIGTERM');
    expect(await serving).to.equal(1);
    expect(s.exits).to.deep.equal([1]);
    expect(s.calls).to.deep.equal(['stop', 'abort']);
    expect(s.records().find((r) => r.id === 'gateway.signal.repeated')).to.include({ level: 'warn', signal: 'SIGTERM' });
  });

  it('a second signal during the start exits 1 at once, without waiting for the start', async () => {
    const s = standIn();
    const serving = serveUntilSignalled(s.deps);
    await tick();
    s.send('SIGTERM');
    s.send('SIGINT');
    expect(await serving).to.equal(1);
    expect(s.exits).to.deep.equal([1]);
  });

  it('exits 1 when the stop failed (a service or the storage)', async () => {
    const s = standIn({ ok: false, failures: [{ name: 'storage', message: 'the disk went away' }], cutOff: false });
    const serving = serveUntilSignalled(s.deps);
    s.started();
    await tick();
    s.send('SIGTERM');
    expect(await serving).to.equal(1);
  });

  it('exits 1 when the start failed, a SIGTERM having come during it', async () => {
    const s = standIn();
    const serving = serveUntilSignalled(s.deps);
    await tick();
    s.send('SIGTERM');
    s.failStart(new Error('cannot listen'));
    expect(await serving).to.equal(1);
    expect(s.records().find((r) => r.id === 'gateway.start.failed')).to.include({ level: 'error' });
  });
});

describe('limen start: signals (the process)', function () {
  this.timeout(60_000);
  let work: string;
  let pki: TestPki;
  let gw: LimenProcess | undefined;

  before(function () {
    requirePeers(this, 'openssl');
    work = mkdtempSync(join(tmpdir(), 'limen-start-signals-'));
    pki = createTestPki();
  });
  afterEach(async () => {
    await gw?.dispose();
    gw = undefined;
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
    pki?.remove();
  });

  const env = async (name: string) => ({ LIMEN_DATA_DIR: join(work, name), LIMEN_HTTP_PORT: String(await freePort()), LIMEN_DIMSE_PORT: String(await freePort()) });

  it('SIGHUP and SIGTERM during the start (the certificate not readable yet) neither end it nor are lost: it starts, then stops with 0', async () => {
    // The start blocks reading the listener certificate from a FIFO until the test writes it.
    const fifo = join(work, 'server.crt');
    execFileSync('mkfifo', [fifo]);
    const config = join(work, 'fifo.yaml');
    writeFileSync(config, `dimse:\n  tls: { port: ${await freePort()}, certificateFile: ${fifo}, privateKeyFile: ${pki.server.privateKey} }\nworker:\n  enabled: false\n`);
    gw = LimenProcess.spawn(['start', '--config', config], { cwd: work, env: await env('var-fifo') });
    const writer = await open(fifo, 'w'); // resolves once the start opened it for reading

    process.kill(gw.pid, 'SIGHUP');
    await gw.waitForLog('gateway.signal.ignored');
    process.kill(gw.pid, 'SIGTERM');
    await gw.waitForLog('gateway.signal');
    expect(gw.running, 'neither signal ended the start').to.equal(true);
    expect(gw.logRecords().map((r) => r.id)).to.not.include('gateway.started');

    await writer.writeFile(pki.read(pki.server.certificate));
    await writer.close();
    const exit = await gw.exited;
    expect(exit, gw.stderr).to.deep.equal({ code: 0, signal: null });
    const ids = gw.logRecords().map((r) => r.id as string);
    const at = ['gateway.started', 'gateway.stopping', 'gateway.stopped'].map((id) => ids.indexOf(id));
    expect(at, ids.join(' ')).to.satisfy((a: number[]) => a[0] >= 0 && a[0] < a[1] && a[1] < a[2]);
  });

  it('a second SIGTERM while a C-STORE holds the stop logs a warning and exits 1 at once', async () => {
    gw = LimenProcess.spawn(['start'], { cwd: work, env: await env('var-twice') });
    const { dimsePort, httpPort } = await gw.started();
    const store = await holdStore(dimsePort);
    await until(async () => (/^limen_receive_memory_bytes [1-9]/m.test(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()) ? true : undefined), 10_000, 'the data set arriving');

    process.kill(gw.pid, 'SIGTERM');
    await gw.waitForLog('gateway.stopping');
    await new Promise((r) => setTimeout(r, 300));
    expect(gw.running, 'draining the C-STORE (up to the 25 s deadline)').to.equal(true);

    const t0 = Date.now();
    const exit = await gw.stop('SIGTERM', 10_000);
    expect(exit).to.deep.equal({ code: 1, signal: null });
    expect(Date.now() - t0).to.be.below(5_000);
    expect(gw.logRecords().find((r) => r.id === 'gateway.signal.repeated')).to.include({ level: 'warn' });
    // Stopped as far as it could: the association aborted, the database closed.
    await store.peer.closedPromise;
    expect(gw.logRecords().map((r) => r.id)).to.include('gateway.stopped');
  });
});

describe('limen start: signals (npm start)', function () {
  this.timeout(60_000);
  let work: string;
  let group: number | undefined;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'limen-npm-start-'));
  });
  after(() => {
    // npm and everything it started share one process group: an orphaned gateway too.
    if (group !== undefined) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // all gone already
      }
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const portFree = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });

  it('a SIGTERM to npm reaches the gateway (the script execs node): it stops gracefully and frees its port', async () => {
    const httpPort = await freePort();
    const env = limenEnv({ LIMEN_DATA_DIR: join(work, 'var'), LIMEN_HTTP_PORT: String(httpPort), LIMEN_DIMSE_PORT: String(await freePort()) });
    // Detached: a group of its own, so the test signals npm alone, as a process manager would.
    const npm = spawn('npm', ['start'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    group = npm.pid;
    let log = '';
    npm.stderr.setEncoding('utf8').on('data', (s: string) => (log += s));
    npm.stdout.resume();
    const exited = new Promise<number | null>((resolve) => npm.on('exit', (code) => resolve(code)));
    await until(async () => ((await fetch(`http://127.0.0.1:${httpPort}/healthz`).catch(() => undefined))?.ok ? true : undefined), 30_000, '/healthz');

    process.kill(npm.pid!, 'SIGTERM');
    await exited;
    await until(() => (/"id":"gateway.stopped"/.test(log) ? true : undefined), 10_000, `the gateway's gateway.stopped line; its log:\n${log}`);
    expect(await portFree(httpPort), 'the HTTP port is free: no gateway left behind').to.equal(true);
  });
});
