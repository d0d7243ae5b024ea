/**
 * kafka-migrate's copy metrics, emitted from activities through Temporal's metric meter (exported on the
 * worker's Prometheus endpoint, src/metrics/runtimeMetrics.ts): records and bytes written to the target.
 * Labels: migration and topic (a batch's topics are few enough; partitions would not be).
 */
import { Context } from '@temporalio/activity';
import type { MetricCounter } from '@temporalio/common';

export const COPY_RECORDS_METRIC = 'km_copy_records';
export const COPY_BYTES_METRIC = 'km_copy_bytes';

export interface CopyCounters {
  /** Records (and their bytes) the target acknowledged for a partition of `topic`. */
  copied(topic: string, records: number, bytes: number): void;
}

/** Counters of the running activity (its meter adds the activity's own tags: namespace, task queue, type). */
export function copyCounters(migration: string, mode: string): CopyCounters {
  const meter = Context.current().metricMeter.withTags({ migration, mode });
  const records: MetricCounter = meter.createCounter(COPY_RECORDS_METRIC, 'records', 'Records copied to the target (acknowledged)');
  const bytes: MetricCounter = meter.createCounter(COPY_BYTES_METRIC, 'bytes', 'Bytes of records copied to the target (acknowledged)');
  return {
    copied(topic, n, b) {
      if (n > 0) records.add(n, { topic });
      if (b > 0) bytes.add(b, { topic });
    },
  };
}
