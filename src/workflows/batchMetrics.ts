/**
 * A batch's metrics, emitted from workflow code through Temporal's workflow metric meter (sent to the worker's
 * Prometheus endpoint after each activation, never during replay; not a command: no patch needed). Gauges per
 * migration and batch: lag (records, seconds), records/bytes copied, throughput, the write pause of its cutover
 * and the verification verdict. Workflow-safe.
 */
import { metricMeter } from '@temporalio/workflow';
import type { BatchStatus } from '../types';

export const BATCH_METRICS = {
  lagRecords: 'km_batch_lag_records',
  lagSeconds: 'km_batch_lag_seconds',
  recordsCopied: 'km_batch_records_copied',
  bytesCopied: 'km_batch_bytes_copied',
  recordsPerSecond: 'km_batch_records_per_second',
  writePauseMs: 'km_batch_write_pause_ms',
  verificationOk: 'km_batch_verification_ok',
  verificationMismatches: 'km_batch_verification_mismatches',
  verifications: 'km_batch_verifications',
} as const;

function tags(status: BatchStatus): Record<string, string> {
  return { migration: status.migration, batch: String(status.number), batch_name: status.name };
}

/** Copy progress after a round. */
export function recordProgressMetrics(status: BatchStatus): void {
  const m = metricMeter.withTags(tags(status));
  const t = status.totals;
  m.createGauge(BATCH_METRICS.lagRecords, 'int', 'records', 'Records the target is behind the source, over the batch').set(t.lagRecords);
  m.createGauge(BATCH_METRICS.lagSeconds, 'float', 's', 'Largest lag of a partition of the batch').set(t.maxLagSeconds);
  m.createGauge(BATCH_METRICS.recordsCopied, 'int', 'records', 'Records copied by the batch so far').set(t.recordsCopied);
  m.createGauge(BATCH_METRICS.bytesCopied, 'int', 'bytes', 'Bytes copied by the batch so far').set(t.bytesCopied);
  m.createGauge(BATCH_METRICS.recordsPerSecond, 'int', 'records/s', 'Copy throughput of the last round').set(t.recordsPerSecond);
}

/** The write pause of the cutover (producers stopped → clients may move), once known. */
export function recordWritePauseMetric(status: BatchStatus): void {
  if (status.writePauseMs === undefined) return;
  metricMeter.withTags(tags(status)).createGauge(BATCH_METRICS.writePauseMs, 'int', 'ms', 'Write pause of the batch cutover').set(status.writePauseMs);
}

/** A verification's verdict. */
export function recordVerificationMetrics(status: BatchStatus, ok: boolean, mismatchCount: number): void {
  const m = metricMeter.withTags(tags(status));
  m.createGauge(BATCH_METRICS.verificationOk, 'int', '', '1 when the latest verification found no mismatch, else 0').set(ok ? 1 : 0);
  m.createGauge(BATCH_METRICS.verificationMismatches, 'int', '', 'Mismatches of the latest verification').set(mismatchCount);
  m.createCounter(BATCH_METRICS.verifications, '', 'Verifications run').add(1, { result: ok ? 'ok' : 'mismatch' });
}
