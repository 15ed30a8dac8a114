/**
 * The studies and series QIDO-RS searches, as storage lists them. Storage filters nothing but
 * pages, so the index holds every study row and searches match in memory. Storage lists the most
 * recently received study first, and storing an instance makes its study the most recent: so a
 * one-row probe (the count and the first study) tells whether anything arrived, and when it did,
 * reading from the top until the first unchanged study brings the listing up to date. New data
 * shows at once. What the probe cannot see (a study turning `expired` without losing its rows,
 * two arrivals in the same millisecond) shows after the next full read, at most
 * `LISTING_TTL_MS` later. A study's series are kept likewise, keyed by its counts and last arrival.
 */
import type { SeriesSummary, StudySummary } from '../../storage/index.js';
import type { DicomwebReadSource } from './read-source.js';

/** Storage's largest page. */
const PAGE = 1000;
/** Longest a listing is brought up to date rather than read again whole. */
export const LISTING_TTL_MS = 5000;
/** Rows read per step while bringing a listing up to date; past `MAX_CHANGED` it is read whole. */
const STEP = 50;
const MAX_CHANGED = 500;

interface CachedSeries {
  version: string;
  series: SeriesSummary[];
}

export class StudyIndex {
  private readonly seriesByStudy = new Map<string, CachedSeries>();
  /** Every row as storage listed it (expired ones too), and the ones searches see. */
  private listing: { version: string; at: number; rows: StudySummary[]; visible: StudySummary[] } | undefined;

  constructor(
    private readonly source: DicomwebReadSource,
    private readonly now: () => number = Date.now,
  ) {}

  /** Every study that holds instances and has not expired, most recently received first. */
  async studies(): Promise<StudySummary[]> {
    const probe = await this.source.listStudies({ limit: 1, offset: 0 });
    const first = probe.studies[0];
    const version = `${probe.total}:${first ? `${first.studyInstanceUID}:${versionOf(first)}:${first.status}` : ''}`;
    const t = this.now();
    const cached = this.listing;
    if (cached && t - cached.at < LISTING_TTL_MS) {
      if (cached.version === version) return cached.visible;
      const rows = await this.update(cached.rows, probe.total);
      if (rows) {
        this.listing = { version, at: cached.at, rows, visible: visible(rows) };
        return this.listing.visible;
      }
    }
    const rows = await this.readAll();
    this.listing = { version, at: t, rows, visible: visible(rows) };
    return this.listing.visible;
  }

  /** The studies that changed, read from the top, in front of the rest; null when that cannot be trusted. */
  private async update(rows: StudySummary[], total: number): Promise<StudySummary[] | null> {
    const known = new Map(rows.map((s) => [s.studyInstanceUID, versionOf(s)]));
    const changed: StudySummary[] = [];
    let settled = false;
    for (let offset = 0; !settled && offset < total; offset += STEP) {
      const page = await this.source.listStudies({ limit: STEP, offset });
      for (const s of page.studies) {
        if (known.get(s.studyInstanceUID) === versionOf(s)) {
          settled = true;
          break;
        }
        changed.push(s);
      }
      if (page.studies.length < STEP || changed.length > MAX_CHANGED) break;
    }
    if (!settled && changed.length < total) return null;
    const moved = new Set(changed.map((s) => s.studyInstanceUID));
    const merged = [...changed, ...rows.filter((s) => !moved.has(s.studyInstanceUID))];
    // A study gone (or counted twice while it moved) leaves the count wrong: read everything again.
    return merged.length === total && moved.size === changed.length ? merged : null;
  }

  private async readAll(): Promise<StudySummary[]> {
    const out: StudySummary[] = [];
    const seen = new Set<string>();
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.source.listStudies({ limit: PAGE, offset });
      for (const s of page.studies) {
        // A study that gains an instance between two pages moves to the front and may come twice.
        if (seen.has(s.studyInstanceUID)) continue;
        seen.add(s.studyInstanceUID);
        out.push(s);
      }
      if (page.studies.length < PAGE || offset + PAGE >= page.total) break;
    }
    // Entries of studies gone since (expired, erased) must not pile up.
    if (this.seriesByStudy.size > 2 * out.length + PAGE) {
      for (const uid of this.seriesByStudy.keys()) if (!seen.has(uid)) this.seriesByStudy.delete(uid);
    }
    return out;
  }

  /** One study, or null when unknown, empty or expired. */
  async study(studyInstanceUID: string): Promise<StudySummary | null> {
    const s = await this.source.getStudy(studyInstanceUID);
    if (!s || s.status === 'expired') return null;
    this.seriesByStudy.set(s.studyInstanceUID, { version: versionOf(s), series: s.series });
    return s;
  }

  /** The series of a study as listed by `studies()` or `study()`. */
  async seriesOf(study: StudySummary): Promise<SeriesSummary[]> {
    const version = versionOf(study);
    const hit = this.seriesByStudy.get(study.studyInstanceUID);
    if (hit && hit.version === version) return hit.series;
    const detail = await this.source.getStudy(study.studyInstanceUID);
    const series = detail?.series ?? [];
    // Keyed by the version of the listing: if the study changed meanwhile, the next search reloads it.
    this.seriesByStudy.set(study.studyInstanceUID, { version, series });
    return series;
  }
}

function visible(rows: StudySummary[]): StudySummary[] {
  return rows.filter((s) => s.status !== 'expired');
}

function versionOf(s: StudySummary): string {
  return `${s.instanceCount}:${s.seriesCount}:${s.lastReceivedAt?.getTime() ?? ''}`;
}
