/**
 * Orthanc's DICOMweb plugin as a client of Limen: Limen holds de-identified ct-fakephi, Orthanc
 * has Limen as a remote DICOMweb server, queries it (QIDO-RS), reads metadata through it, then
 * retrieves the study into its own store (WADO-RS). Prints one JSON line with what each side saw.
 *
 * Orthanc 1.10 binds every interface: run this only where loopback is the only network, e.g.
 *   unshare -n sh -c 'ip link set lo up && exec node --import tsx test/gateway/dicomweb/orthanc-scenario.ts'
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CT_FAKEPHI_FILES } from '../../support/fakephi.js';
import { freePort } from '../../support/ports.js';
import { makeReadHarness } from './read-harness.js';

const ORTHANC = '/usr/sbin/Orthanc';
const PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

const h = await makeReadHarness();
const dir = mkdtempSync(join(tmpdir(), 'limen-orthanc-dicomweb-'));
let orthanc: ReturnType<typeof spawn> | undefined;
try {
  const outcomes = await h.seed(CT_FAKEPHI_FILES);
  const study = outcomes[0].ok ? outcomes[0].studyInstanceUID : '';
  const limen = await h.listen();

  const httpPort = await freePort();
  writeFileSync(
    join(dir, 'orthanc.json'),
    JSON.stringify({
      Name: 'limen-dicomweb-peer',
      StorageDirectory: join(dir, 'storage'),
      IndexDirectory: join(dir, 'index'),
      HttpPort: httpPort,
      DicomPort: await freePort(),
      RemoteAccessAllowed: false,
      AuthenticationEnabled: false,
      Plugins: [PLUGIN],
      DicomWeb: {
        Enable: true,
        Root: '/dicom-web/',
        Servers: { limen: { Url: `${limen}/dicomweb/`, HttpHeaders: { Authorization: `Bearer ${h.tokens.reviewer}` } } },
      },
    }),
  );
  orthanc = spawn(ORTHANC, [`--logfile=${join(dir, 'orthanc.log')}`, join(dir, 'orthanc.json')], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' });
  const base = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const up = await fetch(`${base}/system`).then((r) => r.ok, () => false);
    if (up) break;
    if (Date.now() > deadline || orthanc.exitCode !== null) throw new Error('Orthanc did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body) });
    const text = await r.text();
    if (!r.ok) throw new Error(`Orthanc ${path}: ${r.status} ${text}`);
    return JSON.parse(text) as any;
  };
  const get = async (path: string) => (await fetch(`${base}${path}`)).json() as Promise<any>;

  // Orthanc answers /qido in its own shape: each attribute's Value is the value itself, not a list.
  const qido = (await post('/dicom-web/servers/limen/qido', { Uri: '/studies', Arguments: { ModalitiesInStudy: 'CT' } })) as Array<Record<string, { Value?: unknown }>>;
  const series = (await post('/dicom-web/servers/limen/get', { Uri: `/studies/${study}/series` })) as Array<Record<string, { Value?: string[] }>>;
  const seriesUID = series[0]?.['0020000E']?.Value?.[0];
  const metadata = (await post('/dicom-web/servers/limen/get', { Uri: `/studies/${study}/series/${seriesUID}/metadata` })) as unknown[];
  const retrieve = await post('/dicom-web/servers/limen/retrieve', { Resources: [{ Study: study }] });

  const studies = (await get('/studies?expand')) as Array<{ ID: string; MainDicomTags: Record<string, string> }>;
  const received = studies.find((s) => s.MainDicomTags.StudyInstanceUID === study);
  const instances = received ? ((await get(`/studies/${received.ID}/instances`)) as Array<{ ID: string; MainDicomTags: Record<string, string> }>) : [];
  let identical = 0;
  for (const i of instances) {
    const file = new Uint8Array(await (await fetch(`${base}/instances/${i.ID}/file`)).arrayBuffer());
    const stored = await h.storage.getInstanceBlob(i.MainDicomTags.SOPInstanceUID);
    if (stored && md5(stored.bytes) === md5(file)) identical++;
  }
  process.stdout.write(
    JSON.stringify({
      study,
      qidoStudies: qido.map((s) => s['0020000D']?.Value),
      qidoPatientIDs: qido.map((s) => s['00100020']?.Value),
      seriesCount: series.length,
      metadataCount: metadata.length,
      retrieve,
      receivedStudy: received?.MainDicomTags.StudyInstanceUID ?? null,
      receivedInstances: instances.length,
      identical,
      limenInstances: (await h.storage.listInstances(study)).length,
    }) + '\n',
  );
} finally {
  if (orthanc && orthanc.exitCode === null) {
    const exited = new Promise((r) => orthanc!.once('exit', r));
    orthanc.kill('SIGTERM');
    await exited;
  }
  await h.dispose();
  rmSync(dir, { recursive: true, force: true });
}
