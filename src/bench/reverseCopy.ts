/**
 * The rollback window's reverse sync (target -> source), measured like the forward copy: the same volume (same records
 * per topic, value size and 4 x 8 layout) written to target topics by ProducerPerformance (not timed), then copied back
 * to empty source topics by the engine with the roles swapped, exactly as the window's reverseCopyRound runs it
 * (read the target, write the source as `migrator` over SASL, the offset map in the source's store under the
 * `<name>.reverse` key), in the same child process as the forward copy. Timed by the source end-offset watch.
 */
import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import type { Kafka } from 'kafkajs';
import { reverseMigrationKey } from '../rollback/reverseSync';
import { rollbackWindowAcls } from '../rollback/windowAcls';
import type { CopyChildInput, CopyChildResult } from './copyChild';
import { watchCopy } from './copyWatch';
import { variantSlug, type VariantData } from './dataSet';
import { producePerTopic } from './producerPerformance';
import { benchSpec, endpoints } from './settings';
import { createTopics, deleteTopics, withAdminOf } from './topics';
import { round, throughputOf, type ThroughputResult } from './throughput';

export async function measureReverseCopy(sourceSetup: Kafka, target: Kafka, id: string, data: VariantData, partitions: number): Promise<ThroughputResult> {
  const topics = data.topics.map((_, i) => `kmbench-${id}-rev-${variantSlug(data.variant)}-t${i}`);
  const name = `kmbench-${id}-rev-${variantSlug(data.variant)}`;
  // The reverse copy reads the target and writes the source: the spec's roles swapped, as the window's activities do.
  const forward = benchSpec({ name });
  const spec = { ...forward, source: forward.target, target: { ...forward.target, ...forward.source } } as typeof forward;
  const acls = rollbackWindowAcls('User:migrator', topics);
  await withAdminOf(target, (a) => createTopics(a, topics, partitions));
  await withAdminOf(sourceSetup, async (a) => {
    await createTopics(a, topics, partitions);
    await a.createAcls({ acl: acls });
  });
  try {
    await producePerTopic(endpoints.target, topics, data.variant.recordsPerTopic, data.variant.valueBytes);
    const stopAt: Record<string, number> = {};
    await withAdminOf(target, async (a) => {
      for (const topic of topics) for (const o of await a.fetchTopicOffsets(topic)) stopAt[`${topic}:${o.partition}`] = Number(o.high);
    });
    const refs = Object.keys(stopAt).map((k) => ({ topic: k.slice(0, k.lastIndexOf(':')), partition: Number(k.slice(k.lastIndexOf(':') + 1)) }));
    const child = fork(resolve(__dirname, 'copyChild.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let failure: Error | undefined;
    const result = new Promise<CopyChildResult>((resolveResult, reject) => {
      child.once('message', (m: CopyChildResult | { ok: false; error: string }) =>
        m.ok ? resolveResult(m) : reject(new Error(`the reverse copy failed: ${m.error}`)),
      );
      child.once('exit', (code) => reject(new Error(`the reverse copy process exited with ${code} before reporting`)));
    });
    result.catch((e: Error) => (failure = e));
    const input: CopyChildInput = { spec, partitions: refs, stopAt, migration: reverseMigrationKey(name) };
    child.send(input);
    try {
      const expected = new Map(topics.map((t, i) => [t, data.records.get(data.topics[i])!]));
      const timing = await withAdminOf(sourceSetup, (admin) =>
        watchCopy({ admin, expected, timeoutMs: 30 * 60_000, failure: () => failure, what: 'kafka-migrate reverse sync' }),
      );
      const done = await result;
      if (done.records !== data.totalRecords) throw new Error(`the reverse copy reports ${done.records} records copied, the target holds ${data.totalRecords}`);
      return throughputOf(
        'kafka-migrate-reverse',
        data,
        timing,
        { wallSecondsIncludingSetup: round(done.seconds), copyActivities: done.activities, partitionsPerActivity: spec.copy.partitionsPerActivity },
        done.peakRssBytes / 1e6,
      );
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
    }
  } finally {
    await withAdminOf(target, (a) => deleteTopics(a, topics));
    await withAdminOf(sourceSetup, async (a) => {
      await deleteTopics(a, topics);
      await a.deleteAcls({ filters: acls.filter((x) => topics.includes(x.resourceName)) }).catch(() => undefined);
    });
  }
}
