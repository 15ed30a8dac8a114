/**
 * A QIDO-RS query string (PS3.18 §8.3.4) read into matching keys, return keys and paging. Pure:
 * the search itself is elsewhere. Read leniently where the standard allows a server to: keys it
 * cannot match are ignored and said so (a `299` Warning), `fuzzymatching` is ignored likewise.
 * A value that cannot mean anything (a malformed date, a negative limit) is a 400.
 */
import { dicom } from '../../anonymizer/index.js';
import { attributesOf, levelsOf, type IndexedAttribute, type MatchKind, type QidoLevel } from './qido-attributes.js';

/** A matching key: tests the values an entity has for the attribute. */
export interface Matcher {
  attribute: IndexedAttribute;
  /** The key as given, for messages. */
  value: string;
  /** True for universal matching (an empty key, or `*`): everything matches, the attribute is returned. */
  universal: boolean;
  test(values: readonly string[]): boolean;
  /** For UID list matching: the UIDs asked for. */
  uids?: ReadonlySet<string>;
  /** Combined date-time matching: the date attribute's values tested with those of its time attribute. */
  combined?: { time: IndexedAttribute; test(dates: readonly string[], times: readonly string[]): boolean };
}

export interface QidoQuery {
  level: QidoLevel;
  matchers: Matcher[];
  /** Tags to return beyond the default set; `all` for every attribute Limen has at the level. */
  include: Set<number> | 'all';
  limit: number | undefined;
  offset: number;
  /** Why parts of the query were ignored (each becomes a Warning header). */
  warnings: string[];
}

/** A query that cannot be answered: 400 with this message. */
export class QidoQueryError extends Error {
  override readonly name = 'QidoQueryError';
  constructor(
    readonly code: 'invalid-parameter' | 'invalid-value',
    message: string,
    readonly parameter: string,
  ) {
    super(message);
  }
}

const HEX_TAG = /^[0-9A-Fa-f]{8}$/;
const DATE = /^\d{8}$/;
const TIME = /^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$/;

/** A DA key value that names a day of the calendar (PS3.5 Table 6.2-1): not 20230230, nor month 13. */
function isDate(v: string): boolean {
  if (!DATE.test(v)) return false;
  const [y, m, d] = [Number(v.slice(0, 4)), Number(v.slice(4, 6)), Number(v.slice(6, 8))];
  return m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** A TM key value that names a time of day (PS3.5 Table 6.2-1): hours to 23, minutes to 59, seconds to 60 (a leap second). */
function isTime(v: string): boolean {
  if (!TIME.test(v)) return false;
  return Number(v.slice(0, 2)) <= 23 && (v.length < 4 || Number(v.slice(2, 4)) <= 59) && (v.length < 6 || Number(v.slice(4, 6)) <= 60);
}

/** Reads the query of a search at `level`; throws `QidoQueryError` for values that mean nothing. */
export function parseQidoQuery(params: URLSearchParams, level: QidoLevel): QidoQuery {
  const known = new Map<number, IndexedAttribute>();
  for (const l of levelsOf(level)) for (const [tag, attr] of attributesOf(l)) known.set(tag, attr);
  const query: QidoQuery = { level, matchers: [], include: new Set(), limit: undefined, offset: 0, warnings: [] };
  const unsupported: string[] = [];
  const unknown: string[] = [];

  const combined = combinedDateTime(params, known);
  // The time is matched with the date; as a key it is still returned, as matched keys are.
  if (combined) query.matchers.push(combined, { attribute: combined.combined!.time, value: '', universal: true, test: () => true });

  for (const [name, value] of params) {
    if (combined && (tagOf(name) === combined.attribute.tag || tagOf(name) === combined.combined!.time.tag)) continue;
    if (name === 'limit') query.limit = nonNegative(name, value);
    else if (name === 'offset') query.offset = nonNegative(name, value);
    else if (name === 'fuzzymatching') {
      if (value === 'true') query.warnings.push('The fuzzymatching parameter is not supported. Only literal matching has been performed.');
      else if (value !== 'false') throw new QidoQueryError('invalid-parameter', 'fuzzymatching must be true or false', name);
    } else if (name === 'includefield') {
      for (const field of value.split(',').map((f) => f.trim()).filter(Boolean)) {
        if (field === 'all') query.include = 'all';
        else {
          // A path into a sequence (PS3.18 §8.3.4.1: attribute-id *("." attribute-id)) returns the
          // sequence it starts with, whole.
          const tags = field.split('.').map(tagOf);
          if (tags.some((t) => t === undefined)) throw new QidoQueryError('invalid-parameter', `includefield names an unknown attribute: ${JSON.stringify(field)}`, name);
          if (query.include !== 'all') query.include.add(tags[0]!);
        }
      }
    } else if (name === 'accept' || name === 'charset') {
      // Content negotiation (PS3.18 §8.3.3), which the route has done.
      continue;
    } else {
      const tag = tagOf(name);
      if (tag === undefined) {
        unknown.push(name);
        continue;
      }
      const attr = known.get(tag);
      if (!attr?.match) {
        unsupported.push(name);
        continue;
      }
      query.matchers.push(matcher(attr, value, name));
    }
  }
  if (unsupported.length) query.warnings.push(`The following attributes are not supported for matching and were ignored: ${unsupported.join(', ')}`);
  if (unknown.length) query.warnings.push(`The following parameters are not attributes and were ignored: ${unknown.join(', ')}`);
  return query;
}

/** A keyword or an 8-digit hex tag; undefined when it is neither (or a sequence path). */
export function tagOf(name: string): number | undefined {
  if (HEX_TAG.test(name)) return parseInt(name, 16) >>> 0;
  return dicom.tagOfKeyword(name);
}

function nonNegative(name: string, value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new QidoQueryError('invalid-parameter', `${name} must be a whole number, not ${JSON.stringify(value)}`, name);
  return Number(value);
}

function matcher(attribute: IndexedAttribute, value: string, parameter: string): Matcher {
  const kind = attribute.match as MatchKind;
  const universal = value === '' || value === '*';
  const base = { attribute, value, universal };
  if (universal) return { ...base, test: () => true };
  const bad = (why: string): never => {
    throw new QidoQueryError('invalid-value', `${parameter}=${JSON.stringify(value)}: ${why}`, parameter);
  };
  switch (kind) {
    case 'uid-list': {
      const uids = new Set(value.split(/[,\\]/).map((u) => u.trim()).filter(Boolean));
      return { ...base, uids, test: (vs) => vs.some((v) => uids.has(v)) };
    }
    case 'code-list': {
      const tests = value.split(/[,\\]/).map((v) => wildcard(v.trim(), false));
      return { ...base, test: (vs) => vs.some((v) => tests.some((t) => t(v))) };
    }
    case 'text': {
      const t = wildcard(value, attribute.vr === 'PN');
      return { ...base, test: (vs) => vs.some(t) };
    }
    case 'integer': {
      if (!/^[+-]?\d+$/.test(value.trim())) bad('an integer is expected');
      const n = Number(value);
      return { ...base, test: (vs) => vs.some((v) => v.trim() !== '' && Number(v) === n) };
    }
    case 'date-range': {
      const same = (v: string): string => v;
      return { ...base, test: rangeTest(value, isDate, (v) => DATE.test(v), { low: same, high: same, stored: same }, bad, 'a date YYYYMMDD or a range of them') };
    }
    case 'time-range':
      // Lexical order works once times are padded: a lower end and stored values with zeros, an
      // upper end with nines, so "1015" as an upper end takes in every time up to 10:15:59.999999.
      return {
        ...base,
        test: rangeTest(value, isTime, (v) => TIME.test(v), { low: (v) => pad(v, '0'), high: (v) => pad(v, '9'), stored: (v) => pad(v, '0') }, bad, 'a time HHMMSS[.FFFFFF] or a range of them'),
      };
  }
}

/**
 * Combined date-time matching (PS3.18 §8.3.4.1.1, PS3.4 §C.2.2.2.5): StudyDate given as a range
 * with a StudyTime makes one range of date-times, so that `StudyDate=20240101-20240102` and
 * `StudyTime=2300-0100` is the two hours around midnight, not two separate conditions that no
 * time satisfies. With a single date the two matched apart mean the same; undefined then.
 */
function combinedDateTime(params: URLSearchParams, known: Map<number, IndexedAttribute>): Matcher | undefined {
  const date = known.get(0x00080020);
  const time = known.get(0x00080030);
  const dateValue = params.get('StudyDate') ?? params.get('00080020');
  const timeValue = params.get('StudyTime') ?? params.get('00080030');
  if (!date || !time || !dateValue?.includes('-') || !timeValue || timeValue === '*') return undefined;
  const bad = (parameter: string, value: string, why: string): never => {
    throw new QidoQueryError('invalid-value', `${parameter}=${JSON.stringify(value)}: ${why}`, parameter);
  };
  const [fromDate, toDate] = rangeEnds(dateValue);
  const [fromTime, toTime] = rangeEnds(timeValue);
  if ((fromDate && !isDate(fromDate)) || (toDate && !isDate(toDate)) || (!fromDate && !toDate)) bad('StudyDate', dateValue, 'a date YYYYMMDD or a range of them is expected');
  if ((fromTime && !isTime(fromTime)) || (toTime && !isTime(toTime)) || (!fromTime && !toTime)) bad('StudyTime', timeValue, 'a time HHMMSS[.FFFFFF] or a range of them is expected');
  // A time bound without its date bound bounds nothing.
  const lo = fromDate ? fromDate + pad(fromTime, '0') : undefined;
  const hi = toDate ? toDate + pad(toTime, '9') : undefined;
  if (lo !== undefined && hi !== undefined && lo > hi) bad('StudyDate', dateValue, 'the date-time range ends before it starts');
  const at = (d: string, t: string | undefined) => d + pad(t !== undefined && TIME.test(t.trim()) ? t.trim() : '', '0');
  return {
    attribute: date,
    value: `${dateValue} ${timeValue}`,
    universal: false,
    test: () => false,
    combined: {
      time,
      test: (dates, times) =>
        dates.some((d) => {
          if (!DATE.test(d.trim())) return false;
          const v = at(d.trim(), times[0]);
          return (lo === undefined || v >= lo) && (hi === undefined || v <= hi);
        }),
    },
  };
}

function pad(v: string, digit: string): string {
  const [hms, frac = ''] = v.split('.');
  return `${hms.padEnd(6, digit)}.${frac.padEnd(6, digit)}`;
}

interface Normalize {
  low(v: string): string;
  high(v: string): string;
  stored(v: string): string;
}

/** The two ends of a range `a-b`, `-b` or `a-` (empty when open); a single value is both. */
function rangeEnds(value: string): [string, string] {
  const dash = value.indexOf('-');
  return dash < 0 ? [value.trim(), value.trim()] : [value.slice(0, dash).trim(), value.slice(dash + 1).trim()];
}

/**
 * Single value or range matching of DA/TM values, which compare as text once normalized: the
 * key's ends must be `validKey` (a real date or time), stored values only `valid` in form.
 */
function rangeTest(value: string, validKey: (v: string) => boolean, valid: (v: string) => boolean, n: Normalize, bad: (why: string) => never, expected: string): (values: readonly string[]) => boolean {
  const [from, to] = rangeEnds(value);
  if ((from && !validKey(from)) || (to && !validKey(to)) || (!from && !to)) bad(`${expected} is expected`);
  const lo = from ? n.low(from) : undefined;
  const hi = to ? n.high(to) : undefined;
  if (lo !== undefined && hi !== undefined && lo > hi) bad('the range ends before it starts');
  return (vs) =>
    vs.some((v) => {
      const t = v.trim();
      if (!valid(t)) return false;
      const s = n.stored(t);
      return (lo === undefined || s >= lo) && (hi === undefined || s <= hi);
    });
}

/** Exact match, or `*` (any run) and `?` (any one character); PN compares without case. */
function wildcard(pattern: string, ignoreCase: boolean): (v: string) => boolean {
  if (!/[*?]/.test(pattern)) {
    if (!ignoreCase) return (v) => v === pattern;
    const p = pattern.toLowerCase();
    // "DOE^JOHN" matches "DOE^JOHN^^^" too: trailing empty components are not part of the name.
    return (v) => v.toLowerCase() === p || v.toLowerCase().replace(/\^+$/, '') === p;
  }
  const source = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  const re = new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
  if (!ignoreCase) return (v) => re.test(v);
  // A name with its trailing empty components is the same name, as for an exact match.
  return (v) => re.test(v) || re.test(v.replace(/\^+$/, ''));
}
