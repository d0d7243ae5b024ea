/**
 * The copier under test in its own Node process, so that the peak RSS is a worker's alone: a real Temporal
 * worker (workflows bundled, polling a private task queue) runs in the process while copyPartitionsUntil runs in
 * drain mode the way a worker runs a batch's copyRound activities (the partitions split into groups of
 * spec.copy.partitionsPerActivity, copied concurrently); the RSS is sampled every 100 ms from before the worker
 * starts, and reported to the parent over IPC. Started by ourCopy.ts; not a command of its own.
 */
import type { MigrationSpec } from '../config/spec';
import { copyPartitionsUntil } from '../copy/copyPartitions';
import { processCopyBudget } from '../copy/memoryBudget';
import { startBenchWorker } from './temporalWorker';
import { groupPartitions } from '../workflows/batchProgress';
import type { TopicPartitionRef } from '../types/copy';

export interface CopyChildInput {
  spec: MigrationSpec;
  partitions: TopicPartitionRef[];
  stopAt: Record<string, number>;
  /** The offset map's migration key (default spec.name; the reverse sync's is `<name>.reverse`). */
  migration?: string;
}

export interface CopyChildResult {
  ok: true;
  seconds: number;
  records: number;
  bytes: number;
  peakRssBytes: number;
  /** Where the memory was at the RSS peak's neighbourhood: the largest V8 heap and Buffer (ArrayBuffer) bytes seen. */
  peakHeapUsedBytes: number;
  peakArrayBufferBytes: number;
  /** The most the copy memory budget held at once. */
  peakBudgetBytes: number;
  activities: number;
}

async function copy(input: CopyChildInput): Promise<CopyChildResult> {
  const { spec } = input;
  const peak = { rss: 0, heapUsed: 0, arrayBuffers: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
  };
  sample();
  const sampler = setInterval(sample, 100);
  const temporal = await startBenchWorker(`kmbench-rss-${process.pid}`);
  const groups = groupPartitions(input.partitions, spec.copy.partitionsPerActivity);
  const started = Date.now();
  try {
    const progress = await Promise.all(
      groups.map((partitions) =>
        copyPartitionsUntil({
          source: spec.source,
          target: spec.target,
          migration: input.migration ?? spec.name,
          partitions,
          stopAt: Object.fromEntries(partitions.map((p) => [`${p.topic}:${p.partition}`, input.stopAt[`${p.topic}:${p.partition}`]])),
          maxBatchBytes: spec.copy.maxBatchBytes,
          storeReplicationFactor: spec.target.replicationFactor,
        }),
      ),
    );
    const all = progress.flat();
    sample();
    return {
      ok: true,
      seconds: (Date.now() - started) / 1000,
      records: all.reduce((n, p) => n + p.recordsCopied, 0),
      bytes: all.reduce((n, p) => n + p.bytesCopied, 0),
      peakRssBytes: peak.rss,
      peakHeapUsedBytes: peak.heapUsed,
      peakArrayBufferBytes: peak.arrayBuffers,
      peakBudgetBytes: processCopyBudget().peak,
      activities: groups.length,
    };
  } finally {
    clearInterval(sampler);
    await temporal.shutdown();
  }
}

process.once('message', (input: CopyChildInput) => {
  copy(input).then(
    (result) => process.send!(result, () => process.exit(0)),
    (e: Error) => process.send!({ ok: false, error: e.stack ?? e.message }, () => process.exit(1)),
  );
});
