/**
 * The copy engine against the real clusters: record fidelity (keys, values, binary headers in order,
 * timestamps, null keys, tombstones), read_committed (aborted transactions and markers not copied),
 * log-start above 0, compaction holes, many partitions, a producer writing during the copy, and the exact
 * offset map (checked record by record with translateOffset).
 */
import { Kafka, logLevel } from 'kafkajs';
import { copyPartitionsUntil } from '../src/copy/copyPartitions';
import { createTopicsOnTarget } from '../src/copy/targetTopics';
import { loadOffsetMap } from '../src/copy/loadOffsetMap';
import { translateOffset, OffsetTranslationError } from '../src/copy/translateOffset';
import { createInternalCluster } from '../src/copy/kafkaInternals';
import { IdempotentWriter } from '../src/copy/targetWriter';
import type { KafkaRecord } from '../src/copy/kafkaRecord';
import type { MigrationSpec } from '../src/config/spec';
import type { TopicPartitionRef } from '../src/types/copy';
import { SOURCE_ADMIN_BOOTSTRAP, sourceAdminKafka, stackSpec, targetKafka, uniqueSuffix } from './helpers/stack';
import { content, createSourceTopic, produceToSource, readPartition, sourceEndOffsets } from './helpers/copyFixtures';

function partitionsOf(topic: string, n: number): TopicPartitionRef[] {
  return Array.from({ length: n }, (_, partition) => ({ topic, partition }));
}

async function drain(spec: MigrationSpec, topic: string, partitions: number) {
  const stopAt = await sourceEndOffsets(topic);
  return copyPartitionsUntil({ source: spec.source, target: spec.target, migration: spec.name, partitions: partitionsOf(topic, partitions), stopAt });
}

/** Target holds exactly the source's committed records in order, and the map translates each one exactly. */
async function expectExactCopy(spec: MigrationSpec, topic: string, partition: number): Promise<{ source: KafkaRecord[]; target: KafkaRecord[] }> {
  const source = await readPartition('source', topic, partition);
  const target = await readPartition('target', topic, partition, { committed: false });
  expect(target.map(content)).toEqual(source.map(content));
  const map = await loadOffsetMap(spec.target, spec.name, topic, partition);
  source.forEach((rec, i) => expect(translateOffset(map, rec.offset)).toBe(target[i].offset));
  expect(map.checkpoint!.targetNext).toBe(target.length ? target[target.length - 1].offset + 1 : map.checkpoint!.targetNext);
  return { source, target };
}

/** Writes records with exact header order through the engine's writer (kafkajs cannot interleave header keys). */
async function writeRawToSource(topic: string, partition: number, records: KafkaRecord[]): Promise<void> {
  const kafka = new Kafka({ clientId: 'km-test-raw', brokers: [SOURCE_ADMIN_BOOTSTRAP], logLevel: logLevel.NOTHING });
  const cluster = createInternalCluster(kafka);
  await cluster.connect();
  try {
    const writer = new IdempotentWriter(cluster, 10000);
    await writer.init([topic]);
    await writer.write([{ topic, partition, records }]);
  } finally {
    await cluster.disconnect();
  }
}

function rawRecord(key: Buffer | null, value: Buffer | null, headers: [string, Buffer | null][], timestamp: number): KafkaRecord {
  return { offset: -1, timestamp, key, value, headers: headers.map(([k, v]) => ({ key: Buffer.from(k), value: v })), size: 0 };
}

test('12 partitions: null keys, tombstones, binary and duplicate headers in order, timestamps, a producer writing during the copy', async () => {
  const s = uniqueSuffix();
  const spec = stackSpec({ name: `copy-many-${s}` });
  const topic = `copy-many-${s}`;
  await createSourceTopic(topic, 12);
  const base = Date.now() - 86_400_000; // a day old: CreateTime must be kept, not re-stamped
  await produceToSource(
    topic,
    Array.from({ length: 600 }, (_, i) => ({
      partition: i % 12,
      key: i % 4 === 0 ? null : `key-${i}`,
      value: i % 9 === 0 ? null : Buffer.from([i & 0xff, 0xfe, 0x00, 0xc3, 0x28]), // not UTF-8
      headers: i % 3 === 0 ? { trace: [Buffer.from([0xff, 0x00, 0x80]), Buffer.from('second')], empty: Buffer.alloc(0) } : undefined,
      timestamp: String(base + i),
    })),
  );
  // Interleaved duplicate keys and integer-like keys: order a kafkajs producer could not even express.
  await writeRawToSource(topic, 0, [
    rawRecord(
      Buffer.from('h1'),
      Buffer.from('v'),
      [
        ['a', Buffer.from([1])],
        ['b', Buffer.from([0xff])],
        ['a', Buffer.from([2])],
        ['2', null],
        ['1', Buffer.from('x')],
      ],
      base + 1000,
    ),
    rawRecord(null, null, [['z', null]], base + 1001),
  ]);
  await createTopicsOnTarget(spec, spec.name, [topic]);

  // Follow for a while with a producer writing at the same time, then drain to the end.
  let producing = true;
  const producer = (async () => {
    for (let round = 0; producing && round < 20; round++) {
      await produceToSource(
        topic,
        Array.from({ length: 24 }, (_, i) => ({ partition: i % 12, key: `live-${round}-${i}`, value: `v${i}` })),
      );
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const followed = await copyPartitionsUntil({
    source: spec.source,
    target: spec.target,
    migration: spec.name,
    partitions: partitionsOf(topic, 12),
    deadline: Date.now() + 3000,
  });
  producing = false;
  await producer;
  expect(followed.reduce((n, p) => n + p.recordsCopied, 0)).toBeGreaterThan(600);
  const progress = await drain(spec, topic, 12);
  const ends = await sourceEndOffsets(topic);
  for (const p of progress) {
    expect(p).toMatchObject({ sourceStart: 0, sourceNext: ends[`${topic}:${p.partition}`], lagRecords: 0, lagSeconds: 0, identicalOffsets: true });
    expect(p.targetNext).toBe(p.sourceNext);
  }
  for (let partition = 0; partition < 12; partition++) await expectExactCopy(spec, topic, partition);

  const { target } = await expectExactCopy(spec, topic, 0);
  const interleaved = target.find((r) => r.key?.toString() === 'h1')!;
  expect(interleaved.headers.map((h) => [h.key.toString(), h.value && [...h.value]])).toEqual([
    ['a', [1]],
    ['b', [0xff]],
    ['a', [2]],
    ['2', null],
    ['1', [...Buffer.from('x')]],
  ]);
  expect(target.some((r) => r.key === null && r.value === null)).toBe(true);
  expect(target.find((r) => r.headers.some((h) => h.key.toString() === 'trace'))!.headers.map((h) => h.key.toString())).toEqual(['trace', 'trace', 'empty']);

  // An independent reader (kafkajs' consumer) sees the same records on the target.
  const consumer = targetKafka().consumer({ groupId: `copy-check-${s}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: { key: string | null; ts: string; headers: string[] }[] = [];
  await consumer.run({
    eachMessage: async ({ partition, message }) =>
      void (partition === 3 && seen.push({ key: message.key?.toString() ?? null, ts: message.timestamp, headers: Object.keys(message.headers ?? {}) })),
  });
  const expected3 = (await readPartition('source', topic, 3)).map((r) => ({
    key: r.key?.toString() ?? null,
    ts: String(r.timestamp),
    headers: [...new Set(r.headers.map((h) => h.key.toString()))],
  }));
  for (let i = 0; i < 100 && seen.length < expected3.length; i++) await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  expect(seen).toEqual(expected3);
});

test('transactions: aborted records and control markers are not copied; the offset map jumps over them exactly', async () => {
  const s = uniqueSuffix();
  const spec = stackSpec({ name: `copy-txn-${s}` });
  const topic = `copy-txn-${s}`;
  await createSourceTopic(topic, 1);
  const producer = sourceAdminKafka().producer({ transactionalId: `copy-txn-${s}`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const txn = async (prefix: string, n: number, commit: boolean) => {
    const t = await producer.transaction();
    await t.send({ topic, messages: Array.from({ length: n }, (_, i) => ({ partition: 0, key: `${prefix}-${i}`, value: prefix })) });
    if (commit) await t.commit();
    else await t.abort();
  };
  await txn('c1', 3, true); // offsets 0-2, marker 3
  await txn('a1', 4, false); // 4-7 aborted, marker 8
  await txn('c2', 2, true); // 9-10, marker 11
  await producer.disconnect();
  await produceToSource(topic, [{ partition: 0, key: 'plain', value: 'p' }]); // 12
  const p2 = sourceAdminKafka().producer({ transactionalId: `copy-txn2-${s}`, idempotent: true, maxInFlightRequests: 1 });
  await p2.connect();
  const t2 = await p2.transaction();
  await t2.send({ topic, messages: [{ partition: 0, key: 'tail-aborted', value: 'x' }] }); // 13, marker 14
  await t2.abort();
  await p2.disconnect();

  await createTopicsOnTarget(spec, spec.name, [topic]);
  const [progress] = await drain(spec, topic, 1);
  const end = (await sourceEndOffsets(topic))[`${topic}:0`];
  expect(end).toBe(15);
  expect(progress).toMatchObject({ sourceNext: 15, targetNext: 6, recordsCopied: 6, identicalOffsets: false, lagRecords: 0 });
  const { target } = await expectExactCopy(spec, topic, 0);
  expect(target.map((r) => r.key!.toString())).toEqual(['c1-0', 'c1-1', 'c1-2', 'c2-0', 'c2-1', 'plain']);
  const map = await loadOffsetMap(spec.target, spec.name, topic, 0);
  expect(map.runs).toEqual([
    { sourceStart: 0, targetStart: 0, count: 3 },
    { sourceStart: 9, targetStart: 3, count: 2 },
    { sourceStart: 12, targetStart: 5, count: 1 },
  ]);
  expect(translateOffset(map, 3)).toBe(3); // commit marker -> next copied record
  expect(translateOffset(map, 5)).toBe(3); // inside the aborted transaction
  expect(translateOffset(map, 13)).toBe(6); // aborted tail -> end
  expect(translateOffset(map, 15)).toBe(6);
  expect(() => translateOffset(map, 16)).toThrow(OffsetTranslationError);
});

test('log-start offset above 0 (deleteRecords): the copy starts there and offsets below are refused', async () => {
  const s = uniqueSuffix();
  const spec = stackSpec({ name: `copy-ls-${s}` });
  const topic = `copy-ls-${s}`;
  await createSourceTopic(topic, 2);
  await produceToSource(
    topic,
    Array.from({ length: 40 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `v${i}` })),
  );
  const admin = sourceAdminKafka().admin();
  await admin.connect();
  await admin.fetchTopicMetadata({ topics: [topic] }); // kafkajs' deleteTopicRecords needs the metadata loaded
  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '7' }] });
  await admin.disconnect();
  await createTopicsOnTarget(spec, spec.name, [topic]);
  const progress = await drain(spec, topic, 2);
  expect(progress[0]).toMatchObject({ sourceStart: 7, sourceNext: 20, targetNext: 13, identicalOffsets: false });
  expect(progress[1]).toMatchObject({ sourceStart: 0, sourceNext: 20, targetNext: 20, identicalOffsets: true });
  await expectExactCopy(spec, topic, 0);
  await expectExactCopy(spec, topic, 1);
  const map = await loadOffsetMap(spec.target, spec.name, topic, 0);
  expect(translateOffset(map, 7)).toBe(0);
  expect(translateOffset(map, 19)).toBe(12);
  expect(() => translateOffset(map, 3)).toThrow(/below the first copied source offset 7/);
});

test('compacted topic with tombstones: holes left by compaction are mapped exactly, tombstones copied as tombstones', async () => {
  const s = uniqueSuffix();
  const spec = stackSpec({ name: `copy-cmp-${s}` });
  const topic = `copy-cmp-${s}`;
  // Tiny segments and an eager cleaner so that compaction runs within seconds on the stack.
  await createSourceTopic(topic, 1, {
    'cleanup.policy': 'compact',
    'segment.bytes': '4096',
    'segment.ms': '100',
    'min.cleanable.dirty.ratio': '0.01',
    'min.compaction.lag.ms': '0',
    'delete.retention.ms': '600000',
  });
  for (let round = 0; round < 4; round++) {
    await produceToSource(
      topic,
      Array.from({ length: 20 }, (_, i) => ({ partition: 0, key: `k${i % 5}`, value: i % 7 === 3 ? null : `r${round}-${i}-${'x'.repeat(40)}` })),
    );
  }
  // Compaction must really have run: offsets missing in the source log (the test fails otherwise). Each write
  // rolls the active segment (segment.ms 100) so that the cleaner (log.cleaner.backoff.ms 1 s) has work.
  const deadline = Date.now() + 60_000;
  for (let i = 0; ; i++) {
    await produceToSource(topic, [{ partition: 0, key: 'roll', value: String(i) }]);
    const recs = await readPartition('source', topic, 0);
    if (recs.some((r, j) => j > 0 && r.offset !== recs[j - 1].offset + 1)) break;
    if (Date.now() > deadline)
      throw new Error(
        `compaction opened no gap in ${topic}:0 within 60 s (${recs.length} records, offsets ${recs[0]?.offset}..${recs[recs.length - 1]?.offset})`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
  // The cleaner may still be working on the last roll records: copy what stays, so that the source read after
  // the copy is the one that was copied (two reads 1.5 s apart with the same offsets, at most 30 s).
  for (let i = 0, last = ''; i < 20; i++) {
    const offsets = (await readPartition('source', topic, 0)).map((r) => r.offset).join(',');
    if (offsets === last) break;
    last = offsets;
    await new Promise((r) => setTimeout(r, 1500));
  }
  await createTopicsOnTarget(spec, spec.name, [topic]);
  const [progress] = await drain(spec, topic, 1);
  const { source, target } = await expectExactCopy(spec, topic, 0);
  expect(source.some((r) => r.value === null)).toBe(true); // tombstones are there and copied as null values
  expect(target.filter((r) => r.value === null).length).toBe(source.filter((r) => r.value === null).length);
  const map = await loadOffsetMap(spec.target, spec.name, topic, 0);
  expect(map.runs.length).toBeGreaterThan(1);
  expect(progress.identicalOffsets).toBe(false);
  // An offset inside a hole translates to the next surviving record's copy.
  const hole = source.findIndex((r, j) => j > 0 && r.offset !== source[j - 1].offset + 1);
  expect(hole).toBeGreaterThan(0);
  expect(translateOffset(map, source[hole].offset - 1)).toBe(target[hole].offset);
  const cfg = await targetKafka().admin();
  await cfg.connect();
  const described = await cfg.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topic, configNames: ['cleanup.policy'] }] });
  await cfg.disconnect();
  expect(described.resources[0].configEntries[0].configValue).toBe('compact');
});
