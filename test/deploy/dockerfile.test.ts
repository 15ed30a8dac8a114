/**
 * The Dockerfile, replayed where no container engine runs. Each stage gets its own root
 * directory standing in for the image's `/`: every COPY is carried out from the build context
 * (minus `.dockerignore`) or from the build stage's root, every RUN of the build stage runs as
 * written, and the runtime stage's CMD, USER and HEALTHCHECK start and probe the gateway from
 * the runtime root alone, as an unprivileged user. What cannot be replayed without an engine
 * (installing Debian packages, creating the system user) is checked instead: the packages are
 * on this machine, and the process runs under another uid that owns only the data directory.
 * So a file the image forgets to copy, a build step that no longer works, or a runtime that
 * needs something from the build stage shows up here.
 */
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { storeDirectory } from '../support/dcmtk.js';
import { commandVector, healthcheckCommand, parseCopy, parseDockerfile, parseEnv, type Stage } from '../support/dockerfile.js';
import { CT_FAKEPHI_DIR } from '../support/fakephi.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { LIMEN_MAIN, limenEnv, PROJECT_ROOT, TSX_LOADER } from '../support/limen-cli.js';
import { requirePeers } from '../support/peers.js';
import { freePort } from '../support/ports.js';
import { until } from '../support/wait.js';

const run = promisify(execFile);
const DOCKERFILE = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
/** The fixed UID and GID the Dockerfile gives its system user. */
const IMAGE_UID = Number(/\buseradd\b[^&]*--uid (\d+)/.exec(DOCKERFILE)?.[1]);
const IMAGE_GID = Number(/\bgroupadd\b[^&]*--gid (\d+)/.exec(DOCKERFILE)?.[1]);
/** Who the runtime stage's USER becomes here: the image's own UID, when the tests run as root. */
const UNPRIVILEGED = process.getuid?.() === 0 ? IMAGE_UID : undefined;

describe('Dockerfile and .dockerignore, as written', () => {
  it('gives the system user a fixed UID and GID, the ones README names as owning the data volume', () => {
    expect(IMAGE_UID, 'useradd --uid').to.be.above(999);
    expect(IMAGE_GID, 'groupadd --gid').to.equal(IMAGE_UID);
    expect(readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8').replace(/\s+/g, ' ')).to.contain(`\`/var/lib/limen\`, owned by the image's \`limen\` user, UID and GID ${IMAGE_UID}`);
  });

  it('.dockerignore leaves out what the build makes itself (modules, dist, the viewer) and local data', () => {
    expect(readDockerIgnore()).to.include.members(['node_modules', 'dist', 'viewer-dist', 'var', 'bench/out', '.git']);
  });
});

/** One stage's stand-in for the image's file system. */
class StageRoot {
  workdir = '/';
  readonly env: Record<string, string> = {};
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }
  /** A path in the image, on this machine. */
  host(path: string): string {
    return join(this.dir, isAbsolute(path) ? path : join(this.workdir, path));
  }
}

function readDockerIgnore(): string[] {
  const file = join(PROJECT_ROOT, '.dockerignore');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim().replace(/\/$/, ''))
    .filter((l) => l && !l.startsWith('#'));
}

/** COPY from the context or from an earlier stage's root, with Docker's file/directory rules. */
function copy(args: string, into: StageRoot, stages: Map<string, StageRoot>, ignored: string[]): void {
  const { from, sources, dest } = parseCopy(args);
  const source = from ? stages.get(from) : undefined;
  if (from && !source) throw new Error(`COPY --from=${from}: no such stage`);
  const target = into.host(dest);
  const many = sources.length > 1 || dest.endsWith('/');
  for (const src of sources) {
    const path = source ? source.host(src) : join(PROJECT_ROOT, src);
    if (!existsSync(path)) throw new Error(`COPY ${args}: ${src} does not exist${source ? ` in stage ${from}` : ' in the build context'}`);
    const to = many && !statSync(path).isDirectory() ? join(target, basename(src)) : target;
    cpSync(path, to, {
      recursive: true,
      filter: (p) => source !== undefined || !ignored.some((pattern) => relative(PROJECT_ROOT, p) === pattern || relative(PROJECT_ROOT, p).startsWith(`${pattern}/`)),
    });
  }
}

/** The packages an `apt-get install` names, which must already be on this machine. */
function aptPackages(command: string): string[] {
  const install = /apt-get install ([^&;]+)/.exec(command);
  return install ? install[1]!.split(/\s+/).filter((w) => w && !w.startsWith('-')) : [];
}

async function shell(command: string, root: StageRoot): Promise<void> {
  try {
    await run('sh', ['-c', command], { cwd: root.host('.'), env: { ...process.env, ...root.env }, maxBuffer: 256 << 20 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`RUN ${command} failed: ${e.message}\n${(e.stderr ?? '').slice(-4000)}`);
  }
}

function makeReadable(dir: string): void {
  // mkdtemp makes 0700 directories; the unprivileged user must be able to reach the runtime root.
  for (let d = dir; d !== tmpdir() && d !== '/'; d = join(d, '..')) chmodSync(d, 0o755);
}

describe('Dockerfile, replayed without a container engine', function () {
  this.timeout(20 * 60_000);
  const stages: Stage[] = parseDockerfile(DOCKERFILE);
  const runtime = stages.at(-1)!;
  let work: string;
  let build: StageRoot;
  let image: StageRoot;
  let entrypoint: string;
  let cmd: string[];
  let ports: { http: number; dimse: number };
  let server: ChildProcess | undefined;
  let serverLog = '';

  /** The runtime stage's environment, bound to loopback and free ports for the test. */
  const env = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    ...Object.fromEntries(Object.entries(image.env).map(([k, v]) => [k, k === 'LIMEN_DATA_DIR' ? image.host(v) : v])),
    // The image listens on all interfaces of its own network namespace; here that would be the host's.
    LIMEN_HTTP_HOST: '127.0.0.1',
    LIMEN_HTTP_PORT: String(ports.http),
    LIMEN_DIMSE_HOST: '127.0.0.1',
    LIMEN_DIMSE_PORT: String(ports.dimse),
  });
  const asUser = UNPRIVILEGED === undefined ? {} : { uid: UNPRIVILEGED, gid: UNPRIVILEGED };

  before(async function () {
    requirePeers(this, 'dcmtk');
    work = mkdtempSync(join(tmpdir(), 'limen-docker-'));
    const roots = new Map<string, StageRoot>();
    const ignored = readDockerIgnore();
    for (const [i, stage] of stages.entries()) {
      const root = new StageRoot(join(work, `stage-${i}`));
      if (stage.name) roots.set(stage.name, root);
      const last = stage === runtime;
      for (const { op, args, line } of stage.instructions) {
        if (op === 'WORKDIR') {
          root.workdir = args;
          mkdirSync(root.host('.'), { recursive: true });
        } else if (op === 'ENV') Object.assign(root.env, parseEnv(args));
        else if (op === 'COPY') copy(args, root, roots, ignored);
        else if (op === 'RUN' && args.startsWith('apt-get')) {
          for (const pkg of aptPackages(args)) {
            const { stdout } = await run('dpkg-query', ['-W', '-f=${Status}', pkg]).catch(() => ({ stdout: 'not installed' }));
            expect(stdout, `Dockerfile line ${line} installs ${pkg}; the replay needs it on this machine`).to.equal('install ok installed');
          }
        } else if (op === 'RUN' && !last) await shell(args, root);
        else if (op === 'RUN' && /\buseradd\b/.test(args)) {
          // The system user and its data directory: a directory owned by the unprivileged uid.
          const dataDir = /chown \S+ (\S+)/.exec(args)?.[1];
          expect(dataDir, `Dockerfile line ${line}: the data directory the user owns`).to.equal(root.env.LIMEN_DATA_DIR);
          mkdirSync(root.host(dataDir!), { recursive: true, mode: 0o755 });
          chmodSync(root.host(dataDir!), 0o700);
          if (UNPRIVILEGED !== undefined) chownSync(root.host(dataDir!), UNPRIVILEGED, UNPRIVILEGED);
        } else if (op === 'RUN' && /^ln -s /.test(args)) {
          const link = /^ln -s (\S+) (\S+) && chmod \+x (\S+)$/.exec(args);
          expect(link, `Dockerfile line ${line}: the replay knows \`ln -s <target> <link> && chmod +x <target>\``).to.not.equal(null);
          chmodSync(root.host(link![3]!), 0o755);
          expect(basename(link![2]!)).to.equal('limen');
          entrypoint = root.host(link![1]!);
        } else if (op === 'RUN') throw new Error(`Dockerfile line ${line}: the replay does not know how to run this runtime step: ${args}`);
        else if (op === 'CMD') cmd = commandVector(args);
        else if (!['USER', 'VOLUME', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'ARG'].includes(op)) throw new Error(`Dockerfile line ${line}: ${op} is not replayed`);
      }
      if (last) image = root;
      else build = root;
    }
    makeReadable(image.dir);
    ports = { http: await freePort(), dimse: await freePort() };
  });

  after(async () => {
    if (server?.pid !== undefined && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGKILL');
      await exited;
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('has a build stage and a runtime stage that copies only what the build made', () => {
    expect(stages.length).to.be.at.least(2);
    const copies = runtime.instructions.filter((i) => i.op === 'COPY').map((i) => parseCopy(i.args));
    expect(copies).to.not.be.empty;
    for (const c of copies) expect(c.from, `COPY ${c.sources.join(' ')} in the runtime stage`).to.equal(stages[0]!.name);
    // Compilers and dev dependencies stay behind.
    expect(readdirSync(image.host('node_modules'))).to.not.include('typescript');
    expect(existsSync(join(build.host('node_modules'), 'typescript'))).to.equal(false, 'npm prune --omit=dev ran in the build stage');
  });

  it('runs `limen start` as a non-root user, from the runtime stage alone', async () => {
    const user = runtime.instructions.filter((i) => i.op === 'USER').at(-1)?.args;
    expect(user, 'USER of the runtime stage').to.be.a('string').and.not.match(/^(root|0)(:|$)/);
    expect(cmd).to.deep.equal(['limen', 'start']);
    const volume = runtime.instructions.find((i) => i.op === 'VOLUME')?.args;
    expect(volume && commandVector(volume)).to.deep.equal([image.env.LIMEN_DATA_DIR]);
    server = spawn(entrypoint, cmd.slice(1), { cwd: image.host('.'), env: env(), stdio: ['ignore', 'pipe', 'pipe'], ...asUser });
    server.stdout!.setEncoding('utf8').on('data', (s: string) => (serverLog += s));
    server.stderr!.setEncoding('utf8').on('data', (s: string) => (serverLog += s));
    server.on('error', (err) => (serverLog += `\n${String(err)}`));
    await until(
      () => {
        if (serverLog.includes('"gateway.started"')) return true;
        if (server!.exitCode !== null || server!.pid === undefined) throw new Error(`limen start did not start:\n${serverLog}`);
        return undefined;
      },
      60_000,
      'limen start',
      200,
    );
  });

  it('passes its own HEALTHCHECK', async () => {
    const check = runtime.instructions.find((i) => i.op === 'HEALTHCHECK');
    expect(check, 'HEALTHCHECK in the runtime stage').to.not.equal(undefined);
    const command = healthcheckCommand(check!.args);
    // The CLI reads the configuration as `limen start` does: a port, host or TLS in a mounted file is probed where it listens.
    expect(command).to.deep.equal(['limen', 'healthcheck']);
    // Run as written (`limen` is the image's link): it must follow LIMEN_HTTP_PORT, on which the gateway listens here.
    const [file, ...args] = command[0] === 'limen' ? [entrypoint, ...command.slice(1)] : command;
    await run(file!, args, { env: env(), cwd: image.host('.'), timeout: 10_000, ...asUser });
  });

  it('receives a study by C-STORE, processes it and serves the viewer', async () => {
    const token = await run(entrypoint, ['token', 'create', '--role', 'reviewer', '--user', 'dr-docker'], { env: env(), cwd: image.host('.'), ...asUser });
    await storeDirectory(ports.dimse, CT_FAKEPHI_DIR);
    const headers = { authorization: `Bearer ${token.stdout.trim()}` };
    const reviews = await until(
      async () => {
        const r = await fetch(`http://127.0.0.1:${ports.http}/api/v1/reviews?status=pending`, { headers });
        const body = (await r.json()) as { reviews: unknown[] };
        return body.reviews.length > 0 ? body.reviews : undefined;
      },
      180_000,
      'the study to await review',
      500,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; the gateway's log ends:\n${serverLog.slice(-2000)}`);
    });
    expect(reviews).to.have.length(1);
    const viewer = await fetch(`http://127.0.0.1:${ports.http}/viewer/`);
    expect(viewer.status).to.equal(200);
    expect(await viewer.text()).to.match(/<html/i);
  });

  it('stops on SIGTERM', async () => {
    server!.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => server!.once('exit', (c) => r(c)));
    expect(code, serverLog.slice(-2000)).to.equal(0);
  });
});

describe('Dockerfile HEALTHCHECK, against a gateway configured by a mounted file', function () {
  this.timeout(60_000);
  const runtime = parseDockerfile(readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8')).at(-1)!;
  const imageEnv = Object.assign({}, ...runtime.instructions.filter((i) => i.op === 'ENV').map((i) => parseEnv(i.args))) as Record<string, string>;
  let work: string;
  let gw: TestGateway | undefined;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'limen-docker-health-'));
  });
  after(async () => {
    await gw?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  /** The HEALTHCHECK as written, with the image's ENV and LIMEN_CONFIG; `limen` is the CLI from the sources. */
  const healthcheck = (config: string) => {
    const check = runtime.instructions.find((i) => i.op === 'HEALTHCHECK');
    expect(check, 'HEALTHCHECK in the runtime stage').to.not.equal(undefined);
    const command = healthcheckCommand(check!.args);
    const [file, ...args] = command[0] === 'limen' ? [process.execPath, '--import', TSX_LOADER, LIMEN_MAIN, ...command.slice(1)] : command;
    // The image's data dir does not exist here, and the probe must not make it.
    const env = limenEnv({ ...imageEnv, LIMEN_DATA_DIR: join(work, 'var'), LIMEN_CONFIG: config });
    return run(file!, args, { env, cwd: work, timeout: 10_000 });
  };

  it('probes the port set in the mounted configuration (not LIMEN_HTTP_PORT or 8080), and fails when nothing listens there', async () => {
    const port = await freePort();
    gw = await startTestGateway(`http:\n  port: ${port}\nworker:\n  enabled: false\n`, { http: port });
    const config = join(work, 'limen.yaml');
    // As mounted into the image: the port in the file, the host from the image's ENV (every address).
    writeFileSync(config, `http:\n  port: ${port}\n`);
    expect(imageEnv.LIMEN_HTTP_PORT).to.equal(undefined);
    await healthcheck(config);

    const dead = join(work, 'dead.yaml');
    writeFileSync(dead, `http:\n  port: ${await freePort()}\n`);
    const failed = await healthcheck(dead).then(() => undefined, (err: { code?: number; stderr?: string }) => err);
    expect(failed?.code, 'the HEALTHCHECK passed with nothing listening').to.equal(1);
    expect(failed?.stderr).to.match(/ECONNREFUSED/);
    expect(existsSync(join(work, 'var'))).to.equal(false);
  });
});
