export { MetricsRegistry, MetricsError, DEFAULT_BUCKETS } from './registry.js';
export type { Counter, Gauge, Histogram, Labels, MetricOptions, HistogramOptions } from './registry.js';
export { EXPOSITION_CONTENT_TYPE, renderFamilies, formatNumber } from './exposition.js';
export type { Family, Sample } from './exposition.js';
export { createEdgeMetrics, countRefusedInstances, watchReceiveMemory, STORE_LATENCY_BUCKETS, FAILURE_REASONS, REFUSAL_REASONS } from './edge.js';
export type { EdgeMetrics, RefusalReason } from './edge.js';
export { createExportMetrics, EXPORT_OUTCOMES } from './export.js';
export type { ExportMetrics, ExportOutcome } from './export.js';
