/**
 * A seeded fuzz of the DICOMweb read side (QIDO-RS, WADO-RS metadata, instances, frames, bulk
 * data) over a real store: paths with UIDs that are real, near misses or bytes that are no UID;
 * frame lists and bulk paths of every shape; query strings of matching keys, return keys and
 * paging with values well and badly formed, percent-encodings of control bytes and of characters
 * beyond Latin-1; Accept headers and tokens right and wrong.
 *
 * Every answer must be complete within a bound, never a 5xx; an error is JSON `{ error: { code,
 * message } }`; a search's 200 is DICOM JSON, its 204 empty; without a valid token it is 401. No
 * answer may carry the fixture's PHI unless the request itself did, and no log line may carry it
 * (queries name patients). LIMEN_FUZZ_SEED picks another run, LIMEN_FUZZ_CASE replays one case.
 */
import { expect } from 'chai';
import { CT_FAKEPHI, CT_FAKEPHI_FILES, CT_FAKEPHI_VALUES } from '../../support/fakephi.js';
import { caseSeed, ODD_URL_PIECES, XorShift32 } from '../../support/fuzz.js';
import { makeReadHarness, type ReadHarness } from './read-harness.js';

const SEED = Number(process.env.LIMEN_FUZZ_SEED ?? 0x7eadf) >>> 0;
const CASES = Number(process.env.LIMEN_FUZZ_CASES ?? 400);
const ONLY = process.env.LIMEN_FUZZ_CASE === undefined ? undefined : Number(process.env.LIMEN_FUZZ_CASE);
const ANSWER_MS = 10_000;

interface Stored {
  study: string;
  series: string;
  sops: string[];
}


function uidLike(r: XorShift32, real: string): string {
  switch (r.int(9)) {
    case 0:
    case 1:
    case 2:
      return real;
    case 3:
      return `${real}.${r.range(0, 99)}`;
    case 4:
      return real.slice(0, r.range(1, real.length - 1));
    case 5:
      return r.pick(['1.2.3', '0', '1..2', '1.02', '.1', '1.', 'a.b', '2.25.' + '9'.repeat(r.range(40, 80))]);
    case 6:
      return `${real.slice(0, r.int(real.length))}${r.pick(ODD_URL_PIECES)}${real.slice(r.int(real.length))}`;
    case 7:
      return encodeURIComponent(CT_FAKEPHI.patientName);
    default:
      return Array.from({ length: r.range(1, 6) }, () => r.pick(ODD_URL_PIECES)).join('');
  }
}

function frameList(r: XorShift32): string {
  const n = () => String(r.pick([1, 1, 2, 0, 300, 2 ** 31, 2 ** 53 + 1]));
  switch (r.int(6)) {
    case 0:
      return n();
    case 1:
      return Array.from({ length: r.range(2, 5) }, n).join(',');
    case 2:
      return Array.from({ length: r.range(50, 400) }, () => '1').join(',');
    case 3:
      return r.pick(['', ',', '1,', ',1', '1,,2', '-1', '1.5', '1e3', ' 1', '0x1', '١']);
    case 4:
      return `1${r.pick(ODD_URL_PIECES)}`;
    default:
      return '9'.repeat(r.range(10, 400));
  }
}

function bulkPath(r: XorShift32): string {
  return r.pick(['7FE00010', '7fe00010', '00100010', '00081140/0/00081155', '00081140/1/00081155', 'FFFFFFFF', '7FE0001', 'zzzzzzzz', '7FE00010/', '00081140/x/00081155', '00081140/99999999999/00081155', `7FE00010${r.pick(ODD_URL_PIECES)}`]);
}

/** A path under /dicomweb: one of the read routes, with what fills it. */
function pathOf(r: XorShift32, s: Stored): string {
  const study = uidLike(r, s.study);
  const series = uidLike(r, s.series);
  const sop = uidLike(r, r.pick(s.sops));
  const instance = `studies/${study}/series/${series}/instances/${sop}`;
  return r.pick([
    'studies',
    'series',
    'instances',
    `studies/${study}/series`,
    `studies/${study}/instances`,
    `studies/${study}/series/${series}/instances`,
    `studies/${study}`,
    `studies/${study}/series/${series}`,
    instance,
    `studies/${study}/metadata`,
    `studies/${study}/series/${series}/metadata`,
    `${instance}/metadata`,
    `${instance}/frames/${frameList(r)}`,
    `${instance}/frames/${frameList(r)}`,
    `${instance}/bulk/${bulkPath(r)}`,
    `${instance}/rendered`,
    `studies/${study}/${r.pick(['', 'series/', 'instances/x', 'thumbnail'])}`,
  ]);
}

const NAMES = [
  'limit', 'offset', 'includefield', 'fuzzymatching', 'accept', 'charset',
  'PatientName', 'PatientID', '00100020', 'StudyDate', 'StudyTime', '00080020', 'AccessionNumber', 'ModalitiesInStudy',
  'StudyInstanceUID', '0020000D', 'SeriesInstanceUID', 'SOPInstanceUID', 'Modality', 'SeriesNumber', 'InstanceNumber',
  'StudyDescription', 'ReferringPhysicianName', 'SOPClassUID', 'PatientBirthDate', '7FE00010', 'PixelData',
  'ReferencedSeriesSequence.SeriesInstanceUID', 'zzzzzzzz', 'Ünknown', '',
];

function valueOf(r: XorShift32, s: Stored): string {
  switch (r.int(10)) {
    case 0:
      return r.pick(['', '*', '?', 'A*', '*A*', 'a?c', '**', '\\', 'A\\B', 'true', 'false', 'all', 'CT', 'CT\\MR']);
    case 1:
      return r.pick(['20230101', '20230101-', '-20230101', '20230101-20231231', '20231231-20230101', '2023', '20231301', '20230230', '-', '20230101--', '000000', '99999999']);
    case 2:
      return r.pick(['1200', '120000.5', '1200-1300', '-', '25', '1260', '120000.1234567']);
    case 3:
      return String(r.pick([0, 1, 10, -1, 2 ** 31, 2 ** 53 + 1, 1e21, 1.5, NaN]));
    case 4:
      return r.pick([s.study, s.series, r.pick(s.sops), `${s.study}\\${s.series}`, `${s.study},${s.series}`, '1.2.3\\']);
    case 5:
      return r.pick(['all', 'PatientName,StudyDate', '00100010', 'ReferencedSeriesSequence.SeriesInstanceUID', 'nope', ',', 'all,zzzz', '7FE00010']);
    case 6:
      return r.pick(CT_FAKEPHI_VALUES);
    case 7:
      return 'x'.repeat(r.range(65, 4000));
    default:
      return Array.from({ length: r.range(1, 4) }, () => r.pick(ODD_URL_PIECES)).join('');
  }
}

function queryOf(r: XorShift32, s: Stored): string {
  const n = r.pick([0, 0, 1, 1, 2, 3, 5]);
  const pairs: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = r.chance(0.1) ? r.pick(ODD_URL_PIECES) : encodeURIComponent(r.pick(NAMES));
    const value = valueOf(r, s);
    // Values from ODD_URL_PIECES are already percent-encoded; the rest are encoded here, or sent raw (a sloppy client).
    pairs.push(`${name}${r.chance(0.05) ? '' : '='}${/%/.test(value) || r.chance(0.2) ? value : encodeURIComponent(value)}`);
  }
  return pairs.length ? `?${pairs.join('&')}` : '';
}

const ACCEPTS = [
  undefined,
  '*/*',
  'application/dicom+json',
  'application/json',
  'application/dicom+xml',
  'multipart/related; type="application/dicom+xml"',
  'multipart/related; type="application/dicom"',
  'multipart/related; type="application/dicom"; transfer-syntax=*',
  'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1',
  'multipart/related; type="application/octet-stream"',
  'multipart/related; type="application/octet-stream"; transfer-syntax=*',
  'multipart/related; type="image/jls"; transfer-syntax=1.2.840.10008.1.2.4.80',
  'multipart/related; type="image/jp2"',
  'application/octet-stream',
  'image/jpeg',
  'text/html',
  'application/dicom+json;q=0',
  'application/dicom+json;q=2',
  'application/dicom+json;q=x, */*;q=0.1',
  'multipart/related',
  'multipart/related; type=',
  'multipart/related; type="',
  ';;;,,,',
  'application/dicom+json, multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50;q=0.5',
  `multipart/related; type="application/dicom"; transfer-syntax=${'1.2'.repeat(200)}`,
  'application/dicom+json; charset=latin1',
  'application/dicom+json; charset=utf-8',
  '\xe9\xff',
];

interface FuzzCase {
  path: string;
  headers: Record<string, string>;
  token: 'valid' | 'none' | 'wrong';
}

function makeCase(n: number, s: Stored): FuzzCase {
  const r = new XorShift32(caseSeed(SEED, n));
  const path = `/dicomweb/${pathOf(r, s)}${queryOf(r, s)}`;
  const headers: Record<string, string> = {};
  const accept = r.pick(ACCEPTS);
  if (accept !== undefined) headers.accept = accept;
  if (r.chance(0.1)) headers['accept-charset'] = r.pick(['utf-8', 'iso-8859-1', '*', 'utf-8;q=0', ',']);
  const token = r.chance(0.9) ? 'valid' : r.pick(['none', 'wrong'] as const);
  return { path, headers, token };
}

const phiIn = (text: string): string[] => CT_FAKEPHI_VALUES.filter((v) => text.toLowerCase().includes(v.toLowerCase()));

describe('DICOMweb read side: a seeded fuzz of paths, queries and headers', function () {
  this.timeout(240_000);
  let h: ReadHarness;
  let stored: Stored;

  before(async () => {
    h = await makeReadHarness();
    stored = await h.seedSeries(CT_FAKEPHI_FILES.slice(0, 3));
  });
  after(async () => {
    await h?.dispose();
  });

  it(`${CASES} requests (seed ${SEED}): never a 5xx nor a hang, errors as JSON, PHI only where the request brought it, none logged`, async () => {
    const statuses: Record<number, number> = {};
    const cases = ONLY === undefined ? Array.from({ length: CASES }, (_, i) => i) : [ONLY];
    for (const n of cases) {
      const c = makeCase(n, stored);
      const token = c.token === 'valid' ? undefined : c.token === 'none' ? null : 'lmn_wrong';
      const shown = c.path.length > 400 ? `${c.path.slice(0, 400)}… (${c.path.length} characters)` : c.path;
      const name = `case ${n} (LIMEN_FUZZ_SEED=${SEED} LIMEN_FUZZ_CASE=${n}): GET ${shown} ${JSON.stringify(c.headers)} token ${c.token}`;
      let timer: NodeJS.Timeout | undefined;
      const answered = (async () => {
        const res = await h.get(c.path, c.headers, token);
        return { res, body: Buffer.from(await res.arrayBuffer()) };
      })();
      const { res, body } = await Promise.race([
        answered,
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${name}: no complete answer within ${ANSWER_MS} ms`)), ANSWER_MS))),
      ]).finally(() => clearTimeout(timer));
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const text = body.toString('latin1');
      expect(res.status, `${name}: ${text.slice(0, 300)}`).to.be.lessThan(500);
      // A path no route serves is 404 before any token is looked at; every route asks for one.
      if (c.token !== 'valid') expect(res.status === 404 ? JSON.parse(text).error.message : res.status, name).to.satisfy((v: unknown) => v === 401 || /^no resource GET /.test(String(v)));
      else expect(res.status, name).to.not.be.oneOf([401, 403]);
      if (res.status >= 400) {
        const json = JSON.parse(body.toString('utf8')) as { error?: { code?: unknown; message?: unknown } };
        expect(json.error?.code, name).to.be.a('string');
        expect(json.error?.message, name).to.be.a('string').and.not.equal('');
      }
      if (res.status === 204) expect(body.length, name).to.equal(0);
      if (res.status === 200 && res.headers.get('content-type') === 'application/dicom+json') expect(() => JSON.parse(body.toString('utf8')), name).not.to.throw();
      const brought = phiIn(decodeURIComponentLoosely(c.path));
      const headerText = [...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n');
      for (const v of phiIn(`${headerText}\n${text}`)) expect(brought, `${name}: answered ${v}`).to.include(v);
    }
    const failed = h.logs.filter((l) => l.includes('"http.request.failed"'));
    expect(failed, failed.join('\n')).to.deep.equal([]);
    expect(phiIn(h.logs.join('\n')), 'PHI in the log').to.deep.equal([]);
    // The store still answers as before.
    const after = await h.get('/dicomweb/studies');
    expect(after.status).to.equal(200);
    console.log(`      statuses: ${JSON.stringify(statuses)}`);
  });
});

function decodeURIComponentLoosely(s: string): string {
  return s.replace(/(%[0-9A-Fa-f]{2})+/g, (m) => {
    try {
      return decodeURIComponent(m);
    } catch {
      return m;
    }
  });
}
