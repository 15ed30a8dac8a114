/**
 * The edge's metrics, defined once so every receiver and the ingest code record the same
 * series. Names and labels are part of the operators' contract (dashboards, alerts).
 */
import type { IngestFailureCode } from '../ingest/types.js';
import type { ReceiveMemory } from '../ingest/receive-memory.js';
import type { Counter, Histogram, MetricsRegistry } from './registry.js';

/** Per-instance store latency buckets (seconds): de-identify, seal, encrypt, fsync, commit. */
export const STORE_LATENCY_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The values of the `reason` label of `limen_instances_failed_total` that the edge itself gives. */
export const FAILURE_REASONS: readonly IngestFailureCode[] = [
  'out-of-resources',
  'sop-class-mismatch',
  'sop-class-not-supported',
  'cannot-understand',
  'transfer-syntax-not-supported',
];

/**
 * The other values of that `reason` label: an instance a receiver failed without the edge's
 * verdict. Named as the receiver's own counter names them, so the two can be read together.
 */
export const REFUSAL_REASONS = [
  // DIMSE, refused before the edge (`limen_dimse_stores_refused_total`).
  'too-large',
  'no-memory',
  'no-data-set',
  'no-affected-sop-class',
  'no-affected-sop-instance',
  'sop-class-not-on-context',
  // STOW-RS, refused before the edge (`limen_stow_parts_rejected_total`; also too-large, no-memory).
  'not-dicom-media-type',
  'not-part10',
  'study-unreadable',
  'study-mismatch',
  // Either receiver: the edge threw instead of answering.
  'ingest-error',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export interface EdgeMetrics {
  /** `limen_instances_received_total`: every instance received, whatever its outcome (see `countRefusedInstances`). */
  instancesReceived: Counter;
  /** `limen_instances_failed_total{reason}`: instances not stored, by FAILURE_REASONS or REFUSAL_REASONS. */
  instancesFailed: Counter;
  /** `limen_received_bytes_total`: bytes of the instances as received. */
  receivedBytes: Counter;
  /** `limen_studies_completed_total`: studies that reached `complete`. */
  studiesCompleted: Counter;
  /** `limen_store_latency_seconds`: from receipt of an instance to its durable write. */
  storeLatency: Histogram;
}

/** Registers the edge's metrics in `registry` (idempotent for one registry). */
export function createEdgeMetrics(registry: MetricsRegistry): EdgeMetrics {
  const edge: EdgeMetrics = {
    instancesReceived: registry.counter({
      name: 'limen_instances_received_total',
      help: 'DICOM instances received by any receiver (DIMSE, STOW-RS, upload), stored or not.',
    }),
    instancesFailed: registry.counter({
      name: 'limen_instances_failed_total',
      help: 'DICOM instances that were received but not stored, by failure reason.',
      labelNames: ['reason'],
    }),
    receivedBytes: registry.counter({
      name: 'limen_received_bytes_total',
      help: 'Bytes of DICOM instances received, as sent.',
    }),
    studiesCompleted: registry.counter({
      name: 'limen_studies_completed_total',
      help: 'Studies that became complete (stable time elapsed) and were queued for processing.',
    }),
    storeLatency: registry.histogram({
      name: 'limen_store_latency_seconds',
      help: 'Time to make one received instance durable: de-identify, seal, encrypt, write, commit.',
      buckets: STORE_LATENCY_BUCKETS,
    }),
  };
  // Zero series for every reason, so a rate() over them exists before the first failure.
  for (const reason of [...FAILURE_REASONS, ...REFUSAL_REASONS]) edge.instancesFailed.inc({ reason }, 0);
  return edge;
}

/**
 * For a receiver: counts an instance it failed without the edge's verdict, so that
 * `limen_instances_received_total` and `limen_instances_failed_total` hold every instance sent,
 * whichever receiver refused it and why.
 */
export function countRefusedInstances(registry: MetricsRegistry): (reason: RefusalReason) => void {
  const edge = createEdgeMetrics(registry);
  return (reason) => {
    // An instance the edge threw on was counted as received there.
    if (reason !== 'ingest-error') edge.instancesReceived.inc();
    edge.instancesFailed.inc({ reason });
  };
}

/**
 * The receivers' shared memory, read at each scrape: `limen_receive_memory_bytes` held now
 * against `limen_receive_memory_limit_bytes`, and `limen_receive_memory_refused_total`, the
 * instances refused as out of resources for want of room (raise `ingest.receiveMemoryBytes` if
 * it grows).
 */
export function watchReceiveMemory(registry: MetricsRegistry, memory: ReceiveMemory): void {
  const held = registry.gauge({ name: 'limen_receive_memory_bytes', help: 'Bytes of received instances held in memory now, all receivers together.' });
  const limit = registry.gauge({ name: 'limen_receive_memory_limit_bytes', help: 'The most bytes of received instances held at once (ingest.receiveMemoryBytes).' });
  const refused = registry.counter({ name: 'limen_receive_memory_refused_total', help: 'Instances refused as out of resources because the receivers had no memory left for them.' });
  limit.set(memory.limitBytes);
  registry.beforeRender(() => {
    held.set(memory.held);
    refused.inc({}, memory.refused - refused.get());
  });
}
