/**
 * The quiet check after producersStopped: the source's end offsets must stand still for a whole quiet
 * period. It watches at most about twice the period, so writes that go on make it answer "not quiet"
 * (naming the partitions that moved) instead of waiting for ever.
 */
import type { PartitionOffsets, QuietCheckResult } from '../types/cutover';
import { heartbeatProgress, sleepUnlessCancelled } from './activityContext';
import { changedPartitions, comparePartitionKeys } from './endOffsets';

export interface QuietCheckOptions {
  quietSeconds: number;
  pollMs?: number;
  /** Upper bound on the watch, in seconds; default 2 × quietSeconds (at least one poll). */
  maxSeconds?: number;
}

export async function watchUntilQuiet(sample: () => Promise<PartitionOffsets>, options: QuietCheckOptions): Promise<QuietCheckResult> {
  const quietMs = Math.max(0, options.quietSeconds * 1000);
  // Four polls per quiet period (at most every 500 ms): a short period is not stretched by the polling.
  const pollMs = options.pollMs ?? Math.min(500, Math.max(100, quietMs / 4));
  const maxMs = Math.max(options.maxSeconds !== undefined ? options.maxSeconds * 1000 : 2 * quietMs, quietMs, pollMs);
  let previous = await sample();
  // Stillness is proven from the answer of the sample that last saw a change (the offsets were read before it)
  // until the moment the latest equal sample was asked for (they are read after it).
  const started = Date.now();
  let lastChange = started;
  /** Every partition whose end offset moved while watching. */
  const moved = new Set<string>();
  for (let poll = 1; ; poll++) {
    // Polls on a fixed schedule from the first answer, not a sleep after each one: the period is not stretched by
    // the samples' own time.
    await sleepUnlessCancelled(Math.max(0, started + poll * pollMs - Date.now()));
    const asked = Date.now();
    const current = await sample();
    const changed = changedPartitions(previous, current);
    const now = Date.now();
    if (changed.length) {
      lastChange = now;
      for (const k of changed) moved.add(k);
    }
    previous = current;
    heartbeatProgress({ phase: 'quiet-check', stillFor: Math.round((Math.max(asked, lastChange) - lastChange) / 1000), moved: moved.size });
    const quiet = !changed.length && asked - lastChange >= quietMs;
    if (quiet || now - started >= maxMs) {
      return {
        quiet,
        endOffsets: current,
        changed: [...moved].sort(comparePartitionKeys),
        observedSeconds: Math.round((now - started) / 100) / 10,
      };
    }
  }
}
