/**
 * Crash safety in-process: a copy dies after records were acknowledged by the target and before their
 * checkpoint was written; the next run reconciles the target tail with the source and continues, with
 * nothing lost and nothing duplicated. Foreign writes to the target are detected, not absorbed.
 */
import { copyPartitionsUntil } from '../src/copy/copyPartitions';
import { createTopicsOnTarget } from '../src/copy/targetTopics';
import { loadOffsetMap } from '../src/copy/loadOffsetMap';
import { translateOffset } from '../src/copy/translateOffset';
import { NonRetryableCopyError } from '../src/copy/copyErrors';
import type { MigrationSpec } from '../src/config/spec';
import { stackSpec, targetKafka, uniqueSuffix } from './helpers/stack';
import { content, createSourceTopic, produceToSource, readPartition, sourceEndOffsets } from './helpers/copyFixtures';

const PARTITIONS = 4;
const partitions = (topic: string) => Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition }));

async function targetEnd(topic: string, partition: number): Promise<number> {
  const admin = targetKafka().admin();
  await admin.connect();
  try {
    return Number((await admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition)!.high);
  } finally {
    await admin.disconnect();
  }
}

async function crashingRun(spec: MigrationSpec, topic: string, crashAfterWrites: number): Promise<void> {
  let writes = 0;
  const err = await copyPartitionsUntil({
    source: spec.source,
    target: spec.target,
    migration: spec.name,
    partitions: partitions(topic),
    stopAt: await sourceEndOffsets(topic),
    maxBatchBytes: 8 * 1024, // many small writes, so that the crash lands mid-copy
    afterWrite: () => {
      if (++writes === crashAfterWrites) throw new Error('injected crash: after produce, before checkpoint');
    },
  }).catch((e) => e);
  expect(String(err)).toMatch(/injected crash/);
}

test('a crash between produce and checkpoint leaves records past the checkpoint; the resumed copy maps them and continues exactly', async () => {
  const s = uniqueSuffix();
  const spec = stackSpec({ name: `copy-crash-${s}` });
  const topic = `copy-crash-${s}`;
  await createSourceTopic(topic, PARTITIONS);
  await produceToSource(
    topic,
    Array.from({ length: 2000 }, (_, i) => ({
      partition: i % PARTITIONS,
      key: i % 10 ? `k${i}` : null,
      value: `value-${i}-${'y'.repeat(100)}`,
      headers: { n: String(i) },
    })),
  );
  await createTopicsOnTarget(spec, spec.name, [topic]);

  await crashingRun(spec, topic, 6);
  // The crash left the target ahead of the durable checkpoint on at least one partition.
  let ahead = 0;
  for (let p = 0; p < PARTITIONS; p++) {
    const map = await loadOffsetMap(spec.target, spec.name, topic, p);
    const end = await targetEnd(topic, p);
    expect(end).toBeGreaterThanOrEqual(map.checkpoint?.targetNext ?? 0);
    ahead += end - (map.checkpoint?.targetNext ?? 0);
  }
  expect(ahead).toBeGreaterThan(0);

  // Crash again while more data arrives, then resume to the end.
  await produceToSource(
    topic,
    Array.from({ length: 400 }, (_, i) => ({ partition: i % PARTITIONS, key: `late-${i}`, value: 'late' })),
  );
  await crashingRun(spec, topic, 3);
  const progress = await copyPartitionsUntil({
    source: spec.source,
    target: spec.target,
    migration: spec.name,
    partitions: partitions(topic),
    stopAt: await sourceEndOffsets(topic),
  });
  expect(progress.reduce((n, p) => n + p.recordsCopied, 0)).toBe(2400);

  for (let p = 0; p < PARTITIONS; p++) {
    const source = await readPartition('source', topic, p);
    const target = await readPartition('target', topic, p, { committed: false });
    expect(target.map(content)).toEqual(source.map(content)); // nothing lost, nothing duplicated, same order
    expect(target.map((r) => r.offset)).toEqual(source.map((_, i) => i));
    const map = await loadOffsetMap(spec.target, spec.name, topic, p);
    source.forEach((r, i) => expect(translateOffset(map, r.offset)).toBe(i));
    expect(progress[p]).toMatchObject({ identicalOffsets: true, sourceNext: source.length, targetNext: source.length, lagRecords: 0 });
  }
});

test('a record on the target that the migration did not write stops the copy with a non-retryable error', async () => {
  const s = uniqueSuffix();
  const spec = stackSpec({ name: `copy-foreign-${s}` });
  const topic = `copy-foreign-${s}`;
  await createSourceTopic(topic, 1);
  await produceToSource(topic, [{ partition: 0, key: 'a', value: '1' }]);
  await createTopicsOnTarget(spec, spec.name, [topic]);
  await copyPartitionsUntil({
    source: spec.source,
    target: spec.target,
    migration: spec.name,
    partitions: partitions(topic).slice(0, 1),
    stopAt: await sourceEndOffsets(topic),
  });
  const producer = targetKafka().producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ partition: 0, key: 'intruder', value: 'x' }] });
  await producer.disconnect();
  await produceToSource(topic, [{ partition: 0, key: 'b', value: '2' }]);
  const err = await copyPartitionsUntil({
    source: spec.source,
    target: spec.target,
    migration: spec.name,
    partitions: partitions(topic).slice(0, 1),
    stopAt: await sourceEndOffsets(topic),
  }).catch((e) => e);
  expect(err).toBeInstanceOf(NonRetryableCopyError);
  expect(err.type).toBe('TargetWrittenByOthers');
  expect(err.message).toMatch(
    new RegExp(`target partition ${topic}:0 offset 1 is not a copy of source offset 1 \\((timestamp \\d+ vs \\d+, )?key, value differ\\)`),
  );
});
