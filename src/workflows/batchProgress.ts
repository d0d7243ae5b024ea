/** Pure progress arithmetic of a batch: totals, the readiness gate and the split of partitions over activities. */
import type { BatchTotals, PartitionProgressView } from '../types';

export interface PartitionRef {
  topic: string;
  partition: number;
}

export function summarizeProgress(partitions: PartitionProgressView[], roundSeconds: number, recordsBefore: number): BatchTotals {
  let lagRecords = 0;
  let maxLagSeconds = 0;
  let recordsCopied = 0;
  let bytesCopied = 0;
  for (const p of partitions) {
    lagRecords += p.lagRecords;
    maxLagSeconds = Math.max(maxLagSeconds, p.lagSeconds);
    recordsCopied += p.recordsCopied;
    bytesCopied += p.bytesCopied;
  }
  const recordsPerSecond = roundSeconds > 0 ? Math.max(0, (recordsCopied - recordsBefore) / roundSeconds) : 0;
  const etaSeconds = lagRecords === 0 ? 0 : recordsPerSecond > 0 ? Math.ceil(lagRecords / recordsPerSecond) : null;
  return { partitions: partitions.length, lagRecords, maxLagSeconds, recordsCopied, bytesCopied, recordsPerSecond: Math.round(recordsPerSecond), etaSeconds };
}

/** The lag gate: every partition under both thresholds. */
export function isReady(partitions: PartitionProgressView[], maxLagRecords: number, maxLagSeconds: number): boolean {
  return partitions.length > 0 && partitions.every((p) => p.lagRecords <= maxLagRecords && p.lagSeconds <= maxLagSeconds);
}

/**
 * Splits partitions into groups of at most `size` for parallel copy activities (which several workers can
 * share). Partitions of one topic are spread round-robin so that a hot topic does not load one activity.
 */
export function groupPartitions(partitions: PartitionRef[], size: number): PartitionRef[][] {
  if (partitions.length === 0) return [];
  const count = Math.ceil(partitions.length / Math.max(1, size));
  const groups: PartitionRef[][] = Array.from({ length: count }, () => []);
  partitions.forEach((p, i) => groups[i % count].push(p));
  return groups;
}
