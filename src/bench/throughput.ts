/** One measured copy (or raw write) of one variant of the data set. */
import type { CopyTiming } from './copyWatch';
import type { VariantData } from './dataSet';

/**
 * kafka-migrate-wide: the same engine with one partition per activity, the most concurrent copies a batch can run;
 * kafka-migrate-reverse: the rollback window's reverse sync (target -> source).
 */
export type Copier = 'raw-limit' | 'mirrormaker2' | 'kafka-migrate' | 'kafka-migrate-wide' | 'kafka-migrate-reverse';

export interface ThroughputResult {
  copier: Copier;
  variant: string;
  valueBytes: number;
  records: number;
  /** Record values moved, MB (10^6 bytes). */
  megabytes: number;
  /** Timed from the first records seen on the target to the last (see copyWatch). */
  seconds: number;
  mbPerSec: number;
  recordsPerSec: number;
  /** Peak resident memory of the copier's process, MB. */
  peakRssMB?: number;
  /** Rate between 10 % and 90 % of the records (no ramp-up, no tail), MB/s; null when too short to tell. */
  steadyMbPerSec: number | null;
  /** Other figures worth keeping (tool-reported rates, wall time including start-up). */
  extra: Record<string, number | string>;
  /** [seconds, records on the target] every poll. */
  trace: [number, number][];
}

export function throughputOf(
  copier: Copier,
  data: VariantData,
  timing: CopyTiming,
  extra: ThroughputResult['extra'] = {},
  peakRssMB?: number,
): ThroughputResult {
  const counted = timing.records - timing.recordsAtFirstSight;
  const megabytes = data.valueBytes / 1e6;
  return {
    copier,
    variant: data.variant.label,
    valueBytes: data.variant.valueBytes,
    records: timing.records,
    megabytes: round(megabytes),
    seconds: round(timing.seconds),
    mbPerSec: round((counted * data.variant.valueBytes) / 1e6 / timing.seconds),
    recordsPerSec: Math.round(timing.recordsPerSec),
    ...(peakRssMB !== undefined ? { peakRssMB: Math.round(peakRssMB) } : {}),
    steadyMbPerSec: timing.steadyRecordsPerSec === null ? null : round((timing.steadyRecordsPerSec * data.variant.valueBytes) / 1e6),
    extra,
    trace: timing.trace,
  };
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
