/**
 * A small metrics registry without global state: each process (or test) makes its own and
 * renders it in the Prometheus text exposition format 0.0.4. Counters and gauges carry
 * labels; histograms have fixed cumulative buckets, as Prometheus' client libraries do.
 */
import { formatNumber, renderFamilies, type Family } from './exposition.js';

/** Label values by label name; every name declared for the metric must be given. */
export type Labels = Readonly<Record<string, string>>;

export interface MetricOptions {
  /** `[a-zA-Z_:][a-zA-Z0-9_:]*`; counters end in `_total` by convention. */
  name: string;
  help: string;
  labelNames?: readonly string[];
}

export interface HistogramOptions extends MetricOptions {
  /** Upper bounds, strictly increasing; `+Inf` is always added. */
  buckets?: readonly number[];
}

/** Prometheus' default buckets (seconds), suited to request latencies. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Thrown for a misuse of the registry (bad name, missing label...): a programming error. */
export class MetricsError extends Error {
  readonly code: 'invalid-name' | 'invalid-labels' | 'invalid-value' | 'conflict';
  constructor(code: MetricsError['code'], message: string) {
    super(message);
    this.name = 'MetricsError';
    this.code = code;
  }
}

/** A monotonically increasing count. */
export interface Counter {
  readonly name: string;
  inc(labels?: Labels, value?: number): void;
  /** The current value for these labels (0 if never incremented). */
  get(labels?: Labels): number;
}

/** A value that goes up and down. */
export interface Gauge {
  readonly name: string;
  set(value: number, labels?: Labels): void;
  inc(labels?: Labels, value?: number): void;
  dec(labels?: Labels, value?: number): void;
  get(labels?: Labels): number;
  /** Removes every labelled series, for a gauge that describes a set of things which can shrink. */
  clear(): void;
}

/** Observations counted into cumulative buckets, with their sum and count. */
export interface Histogram {
  readonly name: string;
  readonly buckets: readonly number[];
  observe(value: number, labels?: Labels): void;
  /** Starts a timer; calling the returned function observes the elapsed seconds. */
  startTimer(labels?: Labels): () => number;
  get(labels?: Labels): { count: number; sum: number; buckets: number[] };
}

interface Series<V> {
  labels: Labels;
  value: V;
}

interface HistogramValue {
  counts: number[];
  sum: number;
  count: number;
}

/** Holds the metrics of one process; `render()` gives the `/metrics` body. */
export class MetricsRegistry {
  private readonly families = new Map<string, RegisteredFamily>();
  private readonly collectors: Array<() => void> = [];

  /** Runs `collect` before every render: for values read when scraped rather than counted as they change. */
  beforeRender(collect: () => void): void {
    this.collectors.push(collect);
  }

  counter(options: MetricOptions): Counter {
    const fam = this.register('counter', options);
    const series = fam.series as Map<string, Series<number>>;
    if (fam.labelNames.length === 0) seriesFor(fam, series, {}, () => 0);
    return {
      name: options.name,
      inc: (labels = {}, value = 1) => {
        if (!Number.isFinite(value) || value < 0) {
          throw new MetricsError('invalid-value', `counter ${options.name} can only increase by a finite value ≥ 0`);
        }
        const s = seriesFor(fam, series, labels, () => 0);
        s.value += value;
      },
      get: (labels = {}) => series.get(labelKey(fam, labels))?.value ?? 0,
    };
  }

  gauge(options: MetricOptions): Gauge {
    const fam = this.register('gauge', options);
    const series = fam.series as Map<string, Series<number>>;
    if (fam.labelNames.length === 0) seriesFor(fam, series, {}, () => 0);
    const add = (labels: Labels, delta: number) => {
      if (!Number.isFinite(delta)) throw new MetricsError('invalid-value', `gauge ${options.name}: value must be finite`);
      seriesFor(fam, series, labels, () => 0).value += delta;
    };
    return {
      name: options.name,
      set: (value, labels = {}) => {
        if (!Number.isFinite(value)) throw new MetricsError('invalid-value', `gauge ${options.name}: value must be finite`);
        seriesFor(fam, series, labels, () => 0).value = value;
      },
      inc: (labels = {}, value = 1) => add(labels, value),
      dec: (labels = {}, value = 1) => add(labels, -value),
      get: (labels = {}) => series.get(labelKey(fam, labels))?.value ?? 0,
      clear: () => {
        if (fam.labelNames.length > 0) series.clear();
      },
    };
  }

  histogram(options: HistogramOptions): Histogram {
    const buckets = [...(options.buckets ?? DEFAULT_BUCKETS)];
    if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]))) {
      throw new MetricsError('invalid-value', `histogram ${options.name}: buckets must be finite and strictly increasing`);
    }
    if (options.labelNames?.includes('le')) {
      throw new MetricsError('invalid-labels', `histogram ${options.name}: the label name "le" is reserved`);
    }
    const fam = this.register('histogram', options, buckets);
    const series = fam.series as Map<string, Series<HistogramValue>>;
    const empty = (): HistogramValue => ({ counts: buckets.map(() => 0), sum: 0, count: 0 });
    // An unlabelled metric exists from registration, so it renders as 0 before the first event.
    if (fam.labelNames.length === 0) seriesFor(fam, series, {}, empty);
    const observe = (value: number, labels: Labels = {}) => {
      if (Number.isNaN(value)) throw new MetricsError('invalid-value', `histogram ${options.name}: NaN observed`);
      const s = seriesFor(fam, series, labels, empty);
      // Buckets are stored non-cumulative and summed at render time: one increment per observation.
      const i = buckets.findIndex((b) => value <= b);
      if (i >= 0) s.value.counts[i] += 1;
      s.value.sum += value;
      s.value.count += 1;
    };
    return {
      name: options.name,
      buckets,
      observe,
      startTimer: (labels) => {
        const start = process.hrtime.bigint();
        return () => {
          const seconds = Number(process.hrtime.bigint() - start) / 1e9;
          observe(seconds, labels);
          return seconds;
        };
      },
      get: (labels = {}) => {
        const v = series.get(labelKey(fam, labels))?.value;
        if (!v) return { count: 0, sum: 0, buckets: buckets.map(() => 0) };
        return { count: v.count, sum: v.sum, buckets: cumulative(v.counts) };
      },
    };
  }

  /** The whole registry in the Prometheus text format 0.0.4, families in registration order. */
  render(): string {
    for (const collect of this.collectors) collect();
    const out: Family[] = [];
    for (const fam of this.families.values()) {
      if (fam.type === 'histogram') {
        const buckets = fam.buckets!;
        out.push({
          name: fam.name,
          help: fam.help,
          type: 'histogram',
          samples: [...(fam.series as Map<string, Series<HistogramValue>>).values()].flatMap((s) => {
            const cum = cumulative(s.value.counts);
            return [
              ...buckets.map((b, i) => ({ suffix: '_bucket', labels: { ...s.labels, le: formatNumber(b) }, value: cum[i] })),
              { suffix: '_bucket', labels: { ...s.labels, le: '+Inf' }, value: s.value.count },
              { suffix: '_sum', labels: s.labels, value: s.value.sum },
              { suffix: '_count', labels: s.labels, value: s.value.count },
            ];
          }),
        });
      } else {
        out.push({
          name: fam.name,
          help: fam.help,
          type: fam.type,
          samples: [...(fam.series as Map<string, Series<number>>).values()].map((s) => ({
            suffix: '',
            labels: s.labels,
            value: s.value,
          })),
        });
      }
    }
    return renderFamilies(out);
  }

  /**
   * Registering the same metric twice with the same shape returns the same series store, so two
   * parts of one process can share a registry; a different shape under one name is a conflict.
   */
  private register(type: FamilyType, options: MetricOptions, buckets?: number[]): RegisteredFamily {
    if (!METRIC_NAME.test(options.name)) {
      throw new MetricsError('invalid-name', `metric name "${options.name}" is not a valid Prometheus name`);
    }
    const labelNames = [...(options.labelNames ?? [])];
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith('__')) {
        throw new MetricsError('invalid-labels', `metric ${options.name}: label name "${l}" is not valid`);
      }
    }
    if (new Set(labelNames).size !== labelNames.length) {
      throw new MetricsError('invalid-labels', `metric ${options.name}: duplicate label names`);
    }
    const existing = this.families.get(options.name);
    if (existing) {
      const same =
        existing.type === type &&
        existing.help === options.help &&
        existing.labelNames.join(',') === labelNames.join(',') &&
        (existing.buckets ?? []).join(',') === (buckets ?? []).join(',');
      if (!same) throw new MetricsError('conflict', `metric ${options.name} is already registered with another shape`);
      return existing;
    }
    const fam: RegisteredFamily = { type, name: options.name, help: options.help, labelNames, buckets, series: new Map() };
    this.families.set(options.name, fam);
    return fam;
  }
}

type FamilyType = 'counter' | 'gauge' | 'histogram';

interface RegisteredFamily {
  type: FamilyType;
  name: string;
  help: string;
  labelNames: string[];
  buckets?: number[];
  series: Map<string, Series<unknown>>;
}

function labelKey(fam: RegisteredFamily, labels: Labels): string {
  const given = Object.keys(labels);
  const missing = fam.labelNames.filter((l) => !(l in labels));
  const extra = given.filter((l) => !fam.labelNames.includes(l));
  if (missing.length > 0 || extra.length > 0) {
    throw new MetricsError(
      'invalid-labels',
      `metric ${fam.name} takes labels [${fam.labelNames.join(', ')}]` +
        (missing.length ? `; missing ${missing.join(', ')}` : '') +
        (extra.length ? `; unknown ${extra.join(', ')}` : ''),
    );
  }
  // JSON of the values in declared order: unambiguous whatever the values contain.
  return JSON.stringify(fam.labelNames.map((l) => String(labels[l])));
}

function seriesFor<V>(fam: RegisteredFamily, series: Map<string, Series<V>>, labels: Labels, init: () => V): Series<V> {
  const key = labelKey(fam, labels);
  let s = series.get(key);
  if (!s) {
    const ordered: Record<string, string> = {};
    for (const l of fam.labelNames) ordered[l] = String(labels[l]);
    s = { labels: ordered, value: init() };
    series.set(key, s);
  }
  return s;
}

function cumulative(counts: number[]): number[] {
  let acc = 0;
  return counts.map((c) => (acc += c));
}
