/**
 * This tool's copy of one variant: fresh target topics (createTopicsOnTarget, as the batch workflow does),
 * then copyPartitionsUntil in drain mode up to the source's end offsets, in a child process (copyChild.ts),
 * reading the source as `migrator` over SASL. Timed by the same target end-offset watch as the others.
 */
import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import type { Kafka } from 'kafkajs';
import { createTopicsOnTarget } from '../copy/targetTopics';
import { benchSpec } from './settings';
import { watchCopy } from './copyWatch';
import { deleteTopics, withAdminOf } from './topics';
import { variantSlug, type VariantData } from './dataSet';
import { round, throughputOf, type ThroughputResult } from './throughput';
import type { CopyChildInput, CopyChildResult } from './copyChild';

/** `partitionsPerActivity` 1 runs one copy per partition at once: the worst case for the worker's memory. */
export async function measureOurCopy(source: Kafka, target: Kafka, id: string, data: VariantData, partitionsPerActivity?: number): Promise<ThroughputResult> {
  const wide = partitionsPerActivity === 1;
  const spec = benchSpec({
    name: `kmbench-${id}-${variantSlug(data.variant)}${wide ? '-wide' : ''}`,
    ...(partitionsPerActivity ? { copy: { partitionsPerActivity } } : {}),
  });
  await createTopicsOnTarget(spec, spec.name, data.topics);
  const stopAt: Record<string, number> = {};
  await withAdminOf(source, async (a) => {
    for (const topic of data.topics) for (const o of await a.fetchTopicOffsets(topic)) stopAt[`${topic}:${o.partition}`] = Number(o.high);
  });
  const partitions = Object.keys(stopAt).map((k) => ({ topic: k.slice(0, k.lastIndexOf(':')), partition: Number(k.slice(k.lastIndexOf(':') + 1)) }));

  const child = fork(resolve(__dirname, 'copyChild.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let failure: Error | undefined;
  const result = new Promise<CopyChildResult>((resolveResult, reject) => {
    child.once('message', (m: CopyChildResult | { ok: false; error: string }) => (m.ok ? resolveResult(m) : reject(new Error(`the copy failed: ${m.error}`))));
    child.once('exit', (code) => reject(new Error(`the copy process exited with ${code} before reporting`)));
  });
  result.catch((e: Error) => (failure = e));
  const input: CopyChildInput = { spec, partitions, stopAt };
  child.send(input);
  try {
    const timing = await withAdminOf(target, (admin) =>
      watchCopy({ admin, expected: data.records, timeoutMs: 30 * 60_000, failure: () => failure, what: 'kafka-migrate copy' }),
    );
    const done = await result;
    if (done.records !== data.totalRecords) throw new Error(`the copy reports ${done.records} records copied, the source holds ${data.totalRecords}`);
    return throughputOf(
      wide ? 'kafka-migrate-wide' : 'kafka-migrate',
      data,
      timing,
      {
        wallSecondsIncludingSetup: round(done.seconds),
        copyActivities: done.activities,
        partitionsPerActivity: spec.copy.partitionsPerActivity,
        maxBatchBytes: spec.copy.maxBatchBytes,
        peakHeapUsedMB: Math.round(done.peakHeapUsedBytes / 1e6),
        peakArrayBufferMB: Math.round(done.peakArrayBufferBytes / 1e6),
        peakCopyBudgetMB: Math.round(done.peakBudgetBytes / 1e6),
      },
      done.peakRssBytes / 1e6,
    );
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await withAdminOf(target, (a) => deleteTopics(a, data.topics));
  }
}
