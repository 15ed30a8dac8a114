/**
 * QIDO-RS searches (PS3.18 §10.6) over Limen's index: studies, series and instances, matched in
 * memory (see `study-index.ts`), paged, and answered in DICOM JSON with the default return keys
 * of each level, the keys that were matched, and what `includefield` asks for. Attributes the
 * index does not hold are read from a de-identified instance of the study or series: the only
 * data Limen has.
 */
import type { InstanceInfo, SeriesSummary, StudySummary } from '../../storage/index.js';
import { dicom } from '../../anonymizer/index.js';
import { elementToJson, tagKey, toDicomJson, type JsonAttribute, type JsonDataset } from './dicom-json.js';
import { ALL_FROM_INSTANCE, INDEXED_ATTRIBUTES, attributesOf, levelsOf, returnableAt, type IndexedAttribute, type QidoLevel } from './qido-attributes.js';
import type { Matcher, QidoQuery } from './qido-query.js';
import type { StudyIndex } from './study-index.js';
import type { DicomwebReadSource } from './read-source.js';
import { bulkPath } from './bulk-path.js';

/** Most results one search returns unless `limit` asks for fewer; the rest are counted in a Warning. */
export const MAX_RESULTS: Readonly<Record<QidoLevel, number>> = { study: 1000, series: 5000, instance: 20000 };

export interface SearchContext {
  source: DicomwebReadSource;
  index: StudyIndex;
  /** The absolute URL of the DICOMweb root, for RetrieveURL (`http://host/dicomweb`). */
  root: string;
  /** The de-identified dataset of an instance (for attributes the index does not hold). */
  dataset(sopInstanceUID: string): Promise<dicom.Dataset | null>;
}

export interface SearchResult {
  matches: JsonDataset[];
  /** Matches past this page (PS3.18 §8.3.4.4.1), which the client can ask for with `offset`. */
  remaining: number;
}

/** Where a search is scoped by its path. */
export interface SearchScope {
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
}

const UTF8 = dicom.textDecoding(['ISO_IR 192']);

interface Entity {
  study: StudySummary;
  series?: SeriesSummary;
  instance?: InstanceInfo;
}

/** Runs a search at the query's level within `scope`. */
export async function search(ctx: SearchContext, query: QidoQuery, scope: SearchScope = {}): Promise<SearchResult> {
  const max = MAX_RESULTS[query.level];
  const limit = Math.min(query.limit ?? max, max);
  const byLevel = (level: QidoLevel) => query.matchers.filter((m) => m.attribute.level === level);
  const studyMatchers = byLevel('study');
  const seriesMatchers = byLevel('series');
  const instanceMatchers = byLevel('instance');

  let studies: StudySummary[];
  if (scope.studyInstanceUID !== undefined) {
    const one = await ctx.index.study(scope.studyInstanceUID);
    studies = one ? [one] : [];
  } else studies = await ctx.index.studies();

  // Instances asked for by SOP Instance UID are found by their key: only the studies and series
  // holding them are searched, where listing every series of the archive would find the same.
  const bySop = query.level === 'instance' ? instanceMatchers.find((m) => m.uids && m.attribute.keyword === 'SOPInstanceUID') : undefined;
  const holding = bySop?.uids && (await holdersOf(ctx, bySop.uids));

  // The key that needs a study's series is matched last: studies already out cost no series query.
  const bySeries = studyMatchers.filter((m) => m.attribute.keyword === 'ModalitiesInStudy' && !m.universal);
  const byStudy = studyMatchers.filter((m) => !bySeries.includes(m));
  // Every match is counted, for the Warning that says how many remain; only the page is kept.
  const page: Entity[] = [];
  let matched = 0;
  const take = (e: Entity) => {
    if (matched >= query.offset && page.length < limit) page.push(e);
    matched += 1;
  };
  for (const study of studies) {
    if (holding && !holding.studies.has(study.studyInstanceUID)) continue;
    if (!matchesAll(byStudy, { study })) continue;
    const seriesList = bySeries.length > 0 || query.level !== 'study' ? await ctx.index.seriesOf(study) : undefined;
    if (!matchesAll(bySeries, { study }, seriesList)) continue;
    if (query.level === 'study') {
      take({ study });
      continue;
    }
    for (const series of seriesList!) {
      if (scope.seriesInstanceUID !== undefined && series.seriesInstanceUID !== scope.seriesInstanceUID) continue;
      if (holding && !holding.series.has(series.seriesInstanceUID)) continue;
      if (!matchesAll(seriesMatchers, { study, series })) continue;
      if (query.level === 'series') {
        take({ study, series });
        continue;
      }
      // Without instance keys a series outside the page is counted, not listed: a search across
      // the archive costs a query per series of its page, not one per series of the archive.
      const outsidePage = matched + series.instanceCount <= query.offset || page.length >= limit;
      if (instanceMatchers.every((m) => m.universal) && outsidePage) {
        matched += series.instanceCount;
        continue;
      }
      for (const instance of await ctx.source.listInstances(study.studyInstanceUID, series.seriesInstanceUID)) {
        if (matchesAll(instanceMatchers, { study, series, instance })) take({ study, series, instance });
      }
    }
  }

  const matches: JsonDataset[] = [];
  for (const e of page) matches.push(await respond(ctx, query, scope, e));
  return { matches, remaining: Math.max(0, matched - query.offset - page.length) };
}

/** The studies and series that hold the instances of these SOP Instance UIDs (those stored). */
async function holdersOf(ctx: SearchContext, uids: ReadonlySet<string>): Promise<{ studies: Set<string>; series: Set<string> }> {
  const found = await Promise.all([...uids].map((uid) => ctx.source.getInstance(uid)));
  const stored = found.filter((i): i is InstanceInfo => i !== null);
  return { studies: new Set(stored.map((i) => i.studyInstanceUID)), series: new Set(stored.map((i) => i.seriesInstanceUID)) };
}

function matchesAll(matchers: Matcher[], e: Entity, seriesList?: SeriesSummary[]): boolean {
  return matchers.every((m) => {
    if (m.universal) return true;
    const values = valuesOf(m.attribute, e, seriesList);
    return m.combined ? m.combined.test(values, valuesOf(m.combined.time, e, seriesList)) : m.test(values);
  });
}

/** The values an entity has for an indexed attribute, as text. */
function valuesOf(attr: IndexedAttribute, e: Entity, seriesList?: SeriesSummary[]): string[] {
  const one = (v: unknown): string[] => {
    const t = indexText(v);
    return t === undefined || t === '' ? [] : [t];
  };
  const { study, series, instance } = e;
  switch (attr.level) {
    case 'study':
      switch (attr.keyword) {
        case 'StudyInstanceUID': return [study.studyInstanceUID];
        case 'ModalitiesInStudy': return modalities(seriesList ?? []);
        case 'NumberOfStudyRelatedSeries': return [String(study.seriesCount)];
        case 'NumberOfStudyRelatedInstances': return [String(study.instanceCount)];
        case 'InstanceAvailability': return ['ONLINE'];
        default: return one(study.attributes[attr.keyword]);
      }
    case 'series':
      if (!series) return [];
      switch (attr.keyword) {
        case 'SeriesInstanceUID': return [series.seriesInstanceUID];
        case 'Modality': return one(series.modality);
        case 'SeriesNumber': return one(series.seriesNumber);
        case 'NumberOfSeriesRelatedInstances': return [String(series.instanceCount)];
        default: return one(series.attributes[attr.keyword]);
      }
    case 'instance':
      if (!instance) return [];
      switch (attr.keyword) {
        case 'SOPInstanceUID': return [instance.sopInstanceUID];
        case 'SOPClassUID': return [instance.sopClassUID];
        case 'AvailableTransferSyntaxUID': return [instance.transferSyntaxUID];
        case 'InstanceAvailability': return ['ONLINE'];
        case 'InstanceNumber': return one(instance.instanceNumber);
        default: return one(instance.attributes[attr.keyword]);
      }
  }
}

function modalities(series: SeriesSummary[]): string[] {
  return [...new Set(series.map((s) => s.modality).filter((m): m is string => !!m))].sort();
}

/** Index values are Unicode already (decoded in the instance's character set when stored). */
function indexText(v: unknown): string | undefined {
  if (typeof v === 'number') return String(v);
  return typeof v === 'string' ? v : undefined;
}

/** One match in DICOM JSON. */
async function respond(ctx: SearchContext, query: QidoQuery, scope: SearchScope, e: Entity): Promise<JsonDataset> {
  const out: JsonDataset = {};
  const levels = levelsOf(query.level);
  // ModalitiesInStudy may be asked for at any level; a study's series are cached.
  const seriesList = await ctx.index.seriesOf(e.study);
  const matched = new Set(query.matchers.map((m) => m.attribute.tag));
  for (const level of levels) {
    // A search across studies (or across a study's series) returns the outer levels' attributes
    // too (PS3.18 §10.6.3.3); within one study or series only which study and series it is.
    const scopedOut = level !== query.level && (level === 'study' ? scope.studyInstanceUID !== undefined : scope.seriesInstanceUID !== undefined);
    for (const attr of attributesOf(level).values()) {
      if (attr.keyword === 'RetrieveURL' && level !== query.level) continue;
      const wanted = (!scopedOut && attr.returned) || matched.has(attr.tag) || (query.include !== 'all' && query.include.has(attr.tag)) || query.include === 'all';
      if (!wanted) continue;
      out[tagKey(attr.tag)] = attr.keyword === 'RetrieveURL' ? { vr: 'UR', Value: [retrieveURL(ctx.root, e)] } : jsonOf(attr, valuesOf(attr, e, seriesList));
    }
  }
  // Every match says which study and series it belongs to, whatever the level.
  out['0020000D'] ??= { vr: 'UI', Value: [e.study.studyInstanceUID] };
  if (e.series) out['0020000E'] ??= { vr: 'UI', Value: [e.series.seriesInstanceUID] };

  const fromInstance = instanceTags(query, out);
  if (fromInstance !== null) {
    const found = await representative(ctx, e);
    if (found) {
      // Small binary values inline; bulk data only by reference, and at the top level not at all.
      const base = `${ctx.root}/studies/${found.info.studyInstanceUID}/series/${found.info.seriesInstanceUID}/instances/${found.info.sopInstanceUID}/bulk/`;
      const extra = toDicomJson(found.dataset, { include: fromInstance, bulkDataURI: (path) => base + bulkPath(path) });
      for (const [key, value] of Object.entries(extra)) if (!(key in out) && value.BulkDataURI === undefined) out[key] = value;
    }
  }
  return sortKeys(out);
}

/** Which attributes to take from an instance: null when none are needed. */
function instanceTags(query: QidoQuery, have: JsonDataset): ((tag: number) => boolean) | null {
  if (query.include === 'all') {
    if (query.level === 'instance') return (tag) => !(tagKey(tag) in have) && !BULK.has(tag);
    const tags = new Set([...ALL_FROM_INSTANCE.study, ...(query.level === 'series' ? ALL_FROM_INSTANCE.series : [])]);
    return (tag) => tags.has(tag);
  }
  // An attribute of a deeper level (Modality or a slice's position asked of studies, as OHIF's
  // study list asks for Modality) has no single value at this level: it is not returned (PS3.18
  // §10.6.3.3.1, §10.6.3.3.2), nor read from an instance, which would give one instance's value.
  const missing = [...query.include].filter((t) => !(tagKey(t) in have) && !INDEXED_TAGS.has(t) && returnableAt(query.level, t));
  if (missing.length === 0) return null;
  const set = new Set(missing);
  return (tag) => set.has(tag);
}

const BULK = new Set([0x7fe00010, 0x7fe00008, 0x7fe00009]);
const INDEXED_TAGS = new Set(INDEXED_ATTRIBUTES.map((a) => a.tag));

/** The instance a study- or series-level attribute is read from: the first one of the study or series. */
async function representative(ctx: SearchContext, e: Entity): Promise<{ info: InstanceInfo; dataset: dicom.Dataset } | null> {
  const info = e.instance ?? (await ctx.source.listInstances(e.study.studyInstanceUID, e.series?.seriesInstanceUID))[0];
  const dataset = info ? await ctx.dataset(info.sopInstanceUID) : null;
  return info && dataset ? { info, dataset } : null;
}

function jsonOf(attr: IndexedAttribute, values: string[]): JsonAttribute {
  if (values.length === 0) return { vr: attr.vr };
  if (attr.vr === 'US') return { vr: 'US', Value: values.map(Number) };
  const el = dicom.valueElement(attr.tag, attr.vr as dicom.VR, new TextEncoder().encode(values.join('\\')));
  return elementToJson(el, UTF8);
}

function retrieveURL(root: string, e: Entity): string {
  let url = `${root}/studies/${e.study.studyInstanceUID}`;
  if (e.series) url += `/series/${e.series.seriesInstanceUID}`;
  if (e.instance) url += `/instances/${e.instance.sopInstanceUID}`;
  return url;
}

function sortKeys(ds: JsonDataset): JsonDataset {
  const out: JsonDataset = {};
  for (const k of Object.keys(ds).sort()) out[k] = ds[k];
  return out;
}
