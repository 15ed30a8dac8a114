/**
 * QIDO-RS study search with 1,000 studies in the database (issue 5, target p95 ≤ 50 ms).
 * Seeds studies through `storage.storeInstance` with tiny instances and the de-identified index
 * attributes the edge writes (pseudonymous patients, dates over two years, descriptions, one or
 * two series, a SEG in one study of five), then times study searches a viewer makes (OHIF's
 * study list query among them), over HTTP on loopback, round-robin across the kinds below. The
 * first request (cold caches) is reported apart, and so are searches made right after a new
 * instance was stored, when the study listing must be read again.
 *
 *   npm run bench -- dicomweb-qido [--studies 1000] [--requests 200] [--work bench/out/dicomweb-qido] [--database-url postgres://…]
 *   node --import tsx bench/dicomweb/qido.ts  (the same, run directly)
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dicom } from '../../anonymizer/index.js';
import { BENCH_OUT } from '../ct-series.js';
import { machine } from '../measure.js';
import { percentile, startBenchServer } from './server.js';
import { rng } from '../../test/support/random.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const SEG = '1.2.840.10008.5.1.4.1.1.66.4';
const EVRLE = '1.2.840.10008.1.2.1';
const DESCRIPTIONS = ['CT ABDOMEN', 'CT CHEST', 'CT CHEST LOW DOSE', 'CT PELVIS', 'CT HEAD', 'CT ANGIO'];

const uidOf = (n: number, kind: number, i = 0) => `2.25.${1_000_000_000 + n}${kind}${String(i).padStart(3, '0')}`;

/** A small Part 10 file (no pixel data): what the index is built from is passed beside it. */
function tinyInstance(classUID: string, sop: string, study: string, series: string, modality: string): Uint8Array {
  const t = (tag: number, vr: dicom.VR, v: string) => dicom.textElement(tag, vr, v);
  return dicom.writePart10(
    { mediaStorageSOPClassUID: classUID, mediaStorageSOPInstanceUID: sop, transferSyntaxUID: EVRLE, implementationClassUID: '2.25.1', implementationVersionName: 'LIMEN_BENCH' },
    [t(dicom.T.SOPClassUID, 'UI', classUID), t(dicom.T.SOPInstanceUID, 'UI', sop), t(dicom.T.Modality, 'CS', modality), t(dicom.T.StudyInstanceUID, 'UI', study), t(dicom.T.SeriesInstanceUID, 'UI', series)],
  );
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      studies: { type: 'string', default: '1000' },
      requests: { type: 'string', default: '200' },
      work: { type: 'string', default: join(BENCH_OUT, 'dicomweb-qido') },
      'database-url': { type: 'string' },
    },
  });
  const studies = Number(values.studies);
  const requests = Number(values.requests);
  const server = await startBenchServer(resolve(values.work!), values['database-url']);
  try {
    const rnd = rng(1);
    const patients: string[] = [];
    const t0 = performance.now();
    let instances = 0;
    for (let n = 0; n < studies; n++) {
      const study = uidOf(n, 1);
      const patient = `LIMEN-${(Math.floor(rnd() * studies * 0.3) + 100000).toString(36).toUpperCase().padStart(20, 'Q')}`;
      patients.push(patient);
      const day = new Date(Date.UTC(2023, 0, 1) + Math.floor(rnd() * 730) * 86_400_000);
      const attributes = {
        StudyDate: day.toISOString().slice(0, 10).replace(/-/g, ''),
        StudyTime: String(70000 + Math.floor(rnd() * 120000)).padStart(6, '0'),
        StudyDescription: DESCRIPTIONS[Math.floor(rnd() * DESCRIPTIONS.length)],
        PatientID: patient,
        PatientName: `${patient}^`,
      };
      const series = [{ uid: uidOf(n, 2), modality: 'CT', classUID: CT, count: 1 + Math.floor(rnd() * 3) }];
      if (n % 5 === 0) series.push({ uid: uidOf(n, 3), modality: 'SEG', classUID: SEG, count: 1 });
      for (const [s, se] of series.entries()) {
        for (let i = 0; i < se.count; i++) {
          const sop = uidOf(n, 4 + s, i);
          await server.storage.storeInstance({
            studyInstanceUID: study,
            seriesInstanceUID: se.uid,
            sopInstanceUID: sop,
            sopClassUID: se.classUID,
            transferSyntaxUID: EVRLE,
            bytes: tinyInstance(se.classUID, sop, study, se.uid, se.modality),
            route: 'default',
            stableSeconds: 10,
            retentionDays: 30,
            modality: se.modality,
            seriesNumber: s + 1,
            instanceNumber: i + 1,
            attributes,
            seriesAttributes: { SeriesDescription: se.modality === 'SEG' ? 'Segmentation' : attributes.StudyDescription },
            instanceAttributes: { Rows: 512, Columns: 512 },
            linkage: se.modality === 'SEG' ? undefined : { bench: true },
          });
          instances++;
        }
      }
    }
    const seedSeconds = (performance.now() - t0) / 1000;

    // What a viewer's study list asks: the first page, a patient, a date range, a name prefix, a modality, a later page.
    const kinds: Record<string, (i: number) => string> = {
      "OHIF's study list (limit=101)": () => '/studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030%2C00080060',
      'PatientID (pseudonym)': (i) => `/studies?PatientID=${patients[(i * 37) % patients.length]}`,
      'StudyDate range, 3 months': (i) => `/studies?StudyDate=2023${String(1 + (i % 9)).padStart(2, '0')}01-2023${String(4 + (i % 9)).padStart(2, '0')}01&limit=25`,
      'PatientName prefix wildcard': (i) => `/studies?PatientName=${patients[(i * 53) % patients.length].slice(0, 24).toLowerCase()}*&limit=25`,
      'ModalitiesInStudy=SEG': () => '/studies?ModalitiesInStudy=SEG&limit=25',
      'description wildcard, page 5': () => '/studies?StudyDescription=*CHEST*&limit=25&offset=100',
    };
    const names = Object.keys(kinds);
    const get = async (path: string): Promise<{ ms: number; count: number }> => {
      const started = performance.now();
      const r = await fetch(`${server.root}${path}`, { headers: server.headers });
      const body = (await r.json()) as unknown[];
      if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
      return { ms: performance.now() - started, count: body.length };
    };
    const cold = await get('/studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030%2C00080060');
    for (let i = 0; i < 12; i++) await get(kinds[names[i % names.length]](i)); // warm-up: JIT, connections
    const byKind = new Map<string, number[]>(names.map((n) => [n, []]));
    const counts = new Map<string, number>();
    const all: number[] = [];
    for (let i = 0; i < requests; i++) {
      const name = names[i % names.length];
      const { ms, count } = await get(kinds[name](i));
      byKind.get(name)!.push(ms);
      counts.set(name, count);
      all.push(ms);
    }
    // The listing is reused while nothing arrives: time the other case too, a new instance before each search.
    const afterArrival: number[] = [];
    for (let i = 0; i < 30; i++) {
      const study = uidOf(studies + i, 1);
      const series = uidOf(studies + i, 2);
      const sop = uidOf(studies + i, 4);
      await server.storage.storeInstance({
        studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: sop, sopClassUID: CT, transferSyntaxUID: EVRLE,
        bytes: tinyInstance(CT, sop, study, series, 'CT'), route: 'default', stableSeconds: 10, retentionDays: 30, modality: 'CT',
        attributes: { StudyDate: '20240101', PatientID: patients[i], PatientName: `${patients[i]}^` }, linkage: { bench: true },
      });
      afterArrival.push((await get(kinds[names[0]](i))).ms);
    }
    const summary = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return { n: s.length, p50: round(percentile(s, 50)), p95: round(percentile(s, 95)), max: round(s[s.length - 1]) };
    };
    const result = {
      benchmark: 'dicomweb-qido',
      date: new Date().toISOString(),
      machine: machine(),
      database: server.storage.dialect,
      studies,
      instances,
      seedSeconds: round(seedSeconds),
      coldFirstRequestMs: round(cold.ms),
      overall: summary(all),
      byKind: Object.fromEntries(names.map((n) => [n, { ...summary(byKind.get(n)!), results: counts.get(n) }])),
      /** OHIF's study list right after a new instance was stored (the listing is read again). */
      afterNewInstance: summary(afterArrival),
      target: 'p95 <= 50 ms',
    };
    const out = join(BENCH_OUT, 'dicomweb-qido.json');
    writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return result.overall.p95 <= 50 ? 0 : 1;
  } finally {
    await server.stop();
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code), (err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = 1;
  });
}
