/**
 * Building the exact offset mapping: runs of consecutive source offsets copied to consecutive target
 * offsets. Pure and workflow-safe.
 */
import type { OffsetRun, PartitionOffsetMap } from '../types/copy';

/** Appends one copied record (source offset -> target offset), extending the last run when both sides continue it. */
export function appendMapping(runs: OffsetRun[], sourceOffset: number, targetOffset: number): void {
  const last = runs[runs.length - 1];
  if (last && last.sourceStart + last.count === sourceOffset && last.targetStart + last.count === targetOffset) {
    last.count++;
    return;
  }
  if (last && (sourceOffset < last.sourceStart + last.count || targetOffset < last.targetStart + last.count)) {
    throw new Error(`offset map out of order: source ${sourceOffset} -> target ${targetOffset} after run ${JSON.stringify(last)}`);
  }
  runs.push({ sourceStart: sourceOffset, targetStart: targetOffset, count: 1 });
}

/** Offsets are identical on both sides: one run from 0 (or none) and nothing skipped at the end. */
export function hasIdenticalOffsets(map: Pick<PartitionOffsetMap, 'runs' | 'checkpoint'>): boolean {
  const cp = map.checkpoint;
  if (!cp || cp.sourceNext !== cp.targetNext) return false;
  if (map.runs.length === 0) return cp.sourceNext === 0;
  return map.runs.length === 1 && map.runs[0].sourceStart === 0 && map.runs[0].targetStart === 0;
}

/**
 * Keeps only what a checkpoint vouches for: runs (or parts of runs) below its sourceNext/targetNext.
 * Run chunks may be stored slightly ahead of their checkpoint; the checkpoint is the truth.
 */
export function clipRunsToCheckpoint(runs: OffsetRun[], sourceNext: number, targetNext: number): OffsetRun[] {
  const out: OffsetRun[] = [];
  for (const run of runs) {
    const count = Math.min(run.count, sourceNext - run.sourceStart, targetNext - run.targetStart);
    if (count <= 0) break;
    out.push(count === run.count ? run : { ...run, count });
    if (count < run.count) break;
  }
  return out;
}
