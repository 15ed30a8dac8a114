/**
 * The pipeline's metrics: each processing run and how it ended, so an operator can alert on
 * studies that fail (`outcome="dead"`: a study left `failed`, awaiting an admin).
 */
import type { Counter, MetricsRegistry } from './registry.js';

/** How a run ended: a result (or a run set aside for a newer one), to be tried again, or given up. */
export const PROCESS_OUTCOMES = ['done', 'retry', 'dead'] as const;
export type ProcessOutcome = (typeof PROCESS_OUTCOMES)[number];

export interface ProcessMetrics {
  /** `limen_process_runs_total{outcome}`. */
  runs: Counter;
}

export function createProcessMetrics(registry: MetricsRegistry): ProcessMetrics {
  const runs = registry.counter({
    name: 'limen_process_runs_total',
    help: 'Processing runs of complete studies, by outcome (done, retry, dead).',
    labelNames: ['outcome'],
  });
  for (const outcome of PROCESS_OUTCOMES) runs.inc({ outcome }, 0);
  return { runs };
}
