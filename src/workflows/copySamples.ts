/**
 * Bounded copy samples of a batch, for the report's throughput and lag charts: one per copy round, at most
 * MAX_COPY_SAMPLES. When full, every other sample is dropped and only every `stride`-th round (doubled each time)
 * is kept from then on, so the samples always span the whole copy evenly and the status (queried, carried
 * across continue-as-new) stays small (~25 KB at most). Pure, workflow-safe.
 */
import type { BatchStatus, CopySample } from '../types';

export const MAX_COPY_SAMPLES = 200;

/** Adds the batch's totals after a round (round number `status.rounds`) as a sample when its stride says so. */
export function addCopySample(status: BatchStatus, at: string, mode: 'follow' | 'drain'): void {
  const stride = status.sampleStride ?? 1;
  // A drain is always kept: it is the cutover's last copy, the end of the charts.
  if (mode !== 'drain' && status.rounds % stride !== 0) return;
  const t = status.totals;
  const samples = (status.samples ??= []);
  samples.push({
    at,
    round: status.rounds,
    recordsCopied: t.recordsCopied,
    bytesCopied: t.bytesCopied,
    recordsPerSecond: t.recordsPerSecond,
    lagRecords: t.lagRecords,
    maxLagSeconds: t.maxLagSeconds,
    ...(mode === 'drain' ? { drain: true } : {}),
  });
  if (samples.length > MAX_COPY_SAMPLES) {
    // Keep the first, every other one after it, and the latest.
    const last = samples[samples.length - 1];
    status.samples = samples.filter((_, i) => i % 2 === 0);
    if (status.samples[status.samples.length - 1] !== last) status.samples.push(last);
    status.sampleStride = stride * 2;
  }
}

export type { CopySample };
