/**
 * Defect 9: partitions added on the source while the copy runs. Several follow rounds (4 partitions each)
 * start at once and each syncs the partition counts of its topics; the partitions added must be created on
 * the target once, without an error logged by any round, and copied exactly from the next round on.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { copyRound, createTargetTopics, syncPartitionCounts } from '../src/activities/copy';
import { loadOffsetStore } from '../src/copy/loadOffsetMap';
import type { PartitionProgress, TopicPartitionRef } from '../src/types/copy';
import { sourceAdminKafka, stackSpec, targetKafka, uniqueSuffix } from './helpers/stack';
import { content, createSourceTopic, produceToSource, readPartition } from './helpers/copyFixtures';

const PER_ACTIVITY = 4;

async function addSourcePartitions(topic: string, count: number): Promise<void> {
  const admin = sourceAdminKafka().admin();
  await admin.connect();
  try {
    await admin.createPartitions({ topicPartitions: [{ topic, count }] });
    // Until every broker's metadata has the new partitions (with leaders), a producer can still be routed by
    // the old partition count: records aimed at the new partitions would land elsewhere.
    for (let i = 0; i < 100; i++) {
      const [t] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      if (t.partitions.length === count && t.partitions.every((p) => p.leader >= 0)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
}

async function targetPartitionCount(topic: string): Promise<number> {
  const admin = targetKafka().admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.length;
  } finally {
    await admin.disconnect();
  }
}

const refs = (topic: string, count: number): TopicPartitionRef[] => Array.from({ length: count }, (_, partition) => ({ topic, partition }));

/** Splits partitions over activities as the batch workflow does: PER_ACTIVITY each. */
function groupsOf(partitions: TopicPartitionRef[]): TopicPartitionRef[][] {
  const out: TopicPartitionRef[][] = [];
  for (let i = 0; i < partitions.length; i += PER_ACTIVITY) out.push(partitions.slice(i, i + PER_ACTIVITY));
  return out;
}

/** Error lines written while fn ran (kafkajs logs a failed response at ERROR through console.error). */
async function errorLines<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
    original(...args);
  };
  try {
    return { result: await fn(), lines };
  } finally {
    console.error = original;
  }
}

test('partitions added on the source mid-copy are created on the target once (no error from concurrent rounds) and copied exactly from the next round on', async () => {
  const s = uniqueSuffix();
  const spec = stackSpec({ name: `grow-${s}`, copy: { roundSeconds: 1.5 } });
  const topic = `grow-${s}`;
  await createSourceTopic(topic, 8);
  await produceToSource(
    topic,
    Array.from({ length: 80 }, (_, i) => ({ partition: i % 8, key: `k${i}`, value: `v${i}` })),
  );
  const created = await createTargetTopics({ spec, topics: [topic] });
  expect(created.topics).toEqual([expect.objectContaining({ topic, action: 'created', partitions: 8, partitionsAdded: 0 })]);

  const round = (partitions: TopicPartitionRef[]) =>
    Promise.all(
      groupsOf(partitions).map(
        (group) =>
          new MockActivityEnvironment().run(copyRound, {
            spec,
            migration: spec.name,
            partitions: group,
            mode: 'follow' as const,
            readyMaxLagRecords: 0,
          }) as Promise<PartitionProgress[]>,
      ),
    );
  await round(refs(topic, 8));

  // The source grows to 12 partitions; records land on the old and the new ones.
  await addSourcePartitions(topic, 12);
  await produceToSource(
    topic,
    Array.from({ length: 120 }, (_, i) => ({ partition: i % 12, key: `g${i}`, value: `w${i}` })),
  );

  // Rounds still on the old partition list (the workflow learns of the new ones at its next refresh): each
  // activity adds the missing partitions for its topic, concurrently with the others; none may log an error.
  const stale = await errorLines(() => round(refs(topic, 8)));
  expect(stale.lines.filter((l) => /CreatePartitions|INVALID_PARTITIONS|partitions/i.test(l))).toEqual([]);
  expect(await targetPartitionCount(topic)).toBe(12);

  // The workflow's refresh: the report lists the current count, nothing is written when nothing changed.
  const refreshed = await createTargetTopics({ spec, topics: [topic] });
  expect(refreshed.topics).toEqual([expect.objectContaining({ topic, action: 'owned', partitions: 12, partitionsAdded: 0 })]);
  expect(await syncPartitionCounts({ spec, topics: [topic] })).toEqual([]);

  // From the next round on every partition is copied, the new ones included, record for record.
  const next = await errorLines(() => round(refs(topic, 12)));
  expect(next.lines).toEqual([]);
  const progress = next.result.flat().sort((a, b) => a.partition - b.partition);
  const expected = (p: number) => (p < 8 ? 10 + 10 : 10);
  expect(progress.map((p) => [p.partition, p.sourceNext, p.targetNext, p.lagRecords])).toEqual(
    Array.from({ length: 12 }, (_, p) => [p, expected(p), expected(p), 0]),
  );
  const store = await loadOffsetStore(spec.target, spec.name);
  for (let p = 0; p < 12; p++) {
    expect(store.get(topic, p).runs).toEqual([{ sourceStart: 0, targetStart: 0, count: expected(p) }]);
    const [src, tgt] = await Promise.all([readPartition('source', topic, p), readPartition('target', topic, p)]);
    expect(tgt.map(content)).toEqual(src.map(content));
  }
});

test('a round given partitions the target does not have yet (added on the source just before) adds them before copying, in follow and drain mode', async () => {
  const s = uniqueSuffix();
  const spec = stackSpec({ name: `grow-drain-${s}`, copy: { roundSeconds: 1 } });
  const topic = `grow-drain-${s}`;
  await createSourceTopic(topic, 2);
  await createTargetTopics({ spec, topics: [topic] });
  await addSourcePartitions(topic, 4);
  await produceToSource(
    topic,
    Array.from({ length: 40 }, (_, i) => ({ partition: i % 4, key: `k${i}`, value: `v${i}` })),
  );

  const drained = await new MockActivityEnvironment().run(copyRound, {
    spec,
    migration: spec.name,
    partitions: [{ topic, partition: 3 }],
    mode: 'drain' as const,
    stopAt: { [`${topic}:3`]: 10 },
    readyMaxLagRecords: 0,
  });
  expect(drained).toEqual([expect.objectContaining({ topic, partition: 3, sourceNext: 10, targetNext: 10 })]);
  expect(await targetPartitionCount(topic)).toBe(4);
  const followed = (await new MockActivityEnvironment().run(copyRound, {
    spec,
    migration: spec.name,
    partitions: refs(topic, 3),
    mode: 'follow' as const,
    readyMaxLagRecords: 0,
  })) as PartitionProgress[];
  expect(followed.map((p) => [p.partition, p.sourceNext, p.targetNext])).toEqual([
    [0, 10, 10],
    [1, 10, 10],
    [2, 10, 10],
  ]);
});
