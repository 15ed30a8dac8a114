/**
 * The exporter's metrics: each delivery attempt by destination and how it ended, so an operator
 * can alert on a destination that stopped taking results (`outcome="dead"`: a result no PACS got)
 * without reading every study's jobs.
 */
import type { Counter, MetricsRegistry } from './registry.js';

/** How an attempt ended: delivered, delivered with the destination's warning, to be tried again, or given up. */
export const EXPORT_OUTCOMES = ['delivered', 'warning', 'retry', 'dead'] as const;
export type ExportOutcome = (typeof EXPORT_OUTCOMES)[number];

export interface ExportMetrics {
  /** `limen_export_attempts_total{destination,outcome}`. */
  attempts: Counter;
}

/** Registers the exporter's metrics, with a zero series for each configured destination and outcome. */
export function createExportMetrics(registry: MetricsRegistry, destinations: readonly string[]): ExportMetrics {
  const attempts = registry.counter({
    name: 'limen_export_attempts_total',
    help: 'Attempts to deliver an approved result, by destination and outcome (delivered, warning, retry, dead).',
    labelNames: ['destination', 'outcome'],
  });
  for (const destination of destinations) for (const outcome of EXPORT_OUTCOMES) attempts.inc({ destination, outcome }, 0);
  return { attempts };
}
