/**
 * The durable store path alone, without network or de-identification, for 300 instances the
 * size of the CT series' (random bytes), `concurrency` at a time, with the `instance.stored`
 * audit event appended the way the edge does it (`separate`: `audit.append` after the store),
 * in the instance's own transaction (`same`: `storeInstance({ audit })`), or not at all
 * (`none`). Shows what storage costs and how it scales with concurrent senders, on SQLite and
 * PostgreSQL; with `--baseline-storage <rev>` the storage of another revision runs interleaved.
 *
 *   node --import tsx bench/edge/store.ts [--instances 300] [--bytes 533000] [--concurrency 1,4]
 *        [--database sqlite,postgres] [--audit separate,same] [--runs 5]
 *        [--baseline-storage <git rev> | --baseline <source tree>]
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openStorage, type OpenStorageOptions, type Storage, type StoreInstanceInput } from '../../storage/index.js';
import { BENCH_OUT } from '../ct-series.js';
import { median } from '../measure.js';
import { baselineTree } from './baseline.js';

const uid = (): string => `2.25.${BigInt('0x' + randomBytes(16).toString('hex')).toString()}`;

export type AuditMode = 'separate' | 'same' | 'none';
type Open = (o: OpenStorageOptions) => Promise<Storage>;

/** One timed store run: instances/s, and this process's CPU (all threads, user + system) per instance. */
export interface StoreRun {
  rate: number;
  cpuMsPerInstance: number;
}

/** Stores `instances` inputs `concurrency` at a time on a fresh storage. */
export async function timeStore(o: { open: Open; database: 'sqlite' | 'postgres'; postgresUrl: string; instances: number; bytes: number; concurrency: number; audit: AuditMode }): Promise<StoreRun> {
  // On the disk the edge writes to (bench/out), not a tmpfs: the flushes are what is measured.
  mkdirSync(BENCH_OUT, { recursive: true });
  const dataDir = mkdtempSync(join(BENCH_OUT, 'store-'));
  let schema: string | undefined;
  let databaseUrl: string | undefined;
  if (o.database === 'postgres') {
    schema = `limen_store_${process.pid}_${randomBytes(4).toString('hex')}`;
    await pgRun(o.postgresUrl, `CREATE SCHEMA ${schema}`);
    const u = new URL(o.postgresUrl);
    u.searchParams.set('options', `-c search_path=${schema}`);
    databaseUrl = u.toString();
  }
  const storage = await o.open({ dataDir, databaseUrl, masterKey: new Uint8Array(32).fill(0x5a) });
  try {
    const studyInstanceUID = uid();
    const seriesInstanceUID = uid();
    // One buffer for every instance: each is encrypted on its own anyway, and the run's CPU figure then holds no garbage of the inputs.
    const bytes = randomBytes(o.bytes);
    const inputs: StoreInstanceInput[] = Array.from({ length: o.instances }, (_, i) => ({
      studyInstanceUID,
      seriesInstanceUID,
      sopInstanceUID: uid(),
      sopClassUID: '1.2.840.10008.5.1.4.1.1.2',
      transferSyntaxUID: '1.2.840.10008.1.2.1',
      bytes,
      linkage: { PatientName: 'Doe^Jane', PatientID: 'ID-0001', originalSOPInstanceUID: `1.2.3.${i}` },
      route: 'default',
      stableSeconds: 10,
      retentionDays: 30,
      modality: 'CT',
      seriesNumber: 1,
      instanceNumber: i + 1,
      attributes: { StudyDate: '20240101', PatientID: 'PSEUDO-1' },
      seriesAttributes: { SeriesDescription: 'bench' },
      instanceAttributes: { Rows: 512, Columns: 512 },
    }));
    let next = 0;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (next < inputs.length) {
          const input = inputs[next++];
          const event = (r: { duplicate: boolean }) => ({ type: 'instance.stored', actor: 'BENCH', studyInstanceUID, detail: { sopInstanceUID: input.sopInstanceUID, route: 'default', source: 'bench', duplicate: r.duplicate } });
          if (o.audit === 'same') await storage.storeInstance({ ...input, audit: event });
          else {
            const stored = await storage.storeInstance(input);
            if (o.audit === 'separate') await storage.audit.append(event(stored));
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const count = (await storage.listInstances(studyInstanceUID)).length;
    if (count !== o.instances) throw new Error(`stored ${count} of ${o.instances}`);
    const audit = await storage.audit.verify();
    if (!audit.ok || audit.count !== (o.audit === 'none' ? 0 : o.instances)) throw new Error('audit chain broken or incomplete');
    return { rate: o.instances / seconds, cpuMsPerInstance: (cpu.user + cpu.system) / 1000 / o.instances };
  } finally {
    await storage.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (schema) await pgRun(o.postgresUrl, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}

async function pgRun(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      instances: { type: 'string', default: '300' },
      bytes: { type: 'string', default: '533000' },
      concurrency: { type: 'string', default: '1,4' },
      database: { type: 'string', default: 'sqlite,postgres' },
      'postgres-url': { type: 'string', default: `postgres:///test?host=/var/run/postgresql&user=${userInfo().username}` },
      audit: { type: 'string', default: 'separate,same' },
      runs: { type: 'string', default: '5' },
      baseline: { type: 'string' },
      'baseline-storage': { type: 'string' },
    },
  });
  const made = values['baseline-storage'] && !values.baseline ? baselineTree(values['baseline-storage']) : undefined;
  try {
    return await measure({ ...values, baseline: values.baseline ?? made });
  } finally {
    if (made) rmSync(made, { recursive: true, force: true });
  }
}

async function measure(values: { instances: string; bytes: string; concurrency: string; database: string; 'postgres-url': string; audit: string; runs: string; baseline?: string }): Promise<number> {
  const variants: Array<{ name: string; open: Open; audits: AuditMode[] }> = [];
  const audits = values.audit.split(',') as AuditMode[];
  variants.push({ name: 'limen', open: openStorage, audits });
  if (values.baseline) {
    const base = (await import(pathToFileURL(join(resolve(values.baseline), 'storage/index.ts')).href)) as { openStorage: Open };
    // A baseline from before `storeInstance({ audit })` would store without the event: it runs `separate` only.
    const knowsAudit = readFileSync(join(resolve(values.baseline), 'storage/instances.ts'), 'utf8').includes('audit?: (result');
    variants.push({ name: 'baseline', open: base.openStorage, audits: knowsAudit ? audits : audits.filter((a) => a !== 'same') });
  }
  for (const database of values.database.split(',') as Array<'sqlite' | 'postgres'>) {
    for (const concurrency of values.concurrency.split(',').map(Number)) {
      const runs = new Map<string, StoreRun[]>();
      for (let r = 0; r < Number(values.runs); r++) {
        // Every variant and audit mode in turn, so all of them see the same disk and load.
        for (const audit of audits) {
          for (const v of variants) {
            if (!v.audits.includes(audit)) continue;
            const run = await timeStore({ open: v.open, database, postgresUrl: values['postgres-url'], instances: Number(values.instances), bytes: Number(values.bytes), concurrency, audit });
            const key = `${v.name.padEnd(8)} ${database.padEnd(8)} concurrency ${concurrency} audit ${audit.padEnd(8)}`;
            runs.set(key, [...(runs.get(key) ?? []), run]);
          }
        }
      }
      for (const [key, rs] of runs) {
        const rates = rs.map((r) => r.rate);
        process.stdout.write(
          `${key} ${median(rates).toFixed(1).padStart(6)}/s (runs ${rates.map((x) => x.toFixed(0)).join(' ')}), ` +
            `CPU ${median(rs.map((r) => r.cpuMsPerInstance)).toFixed(2)} ms per instance\n`,
        );
      }
    }
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
