/**
 * What verification reads with, in isolation:
 * - chunking (no broker): a chunk's reader limit covers every partition's worst-case hold, chunks respect the
 *   memory and count limits, and a partition too big for the budget still gets a chunk of its own;
 * - the range reader against the real source (as the migrator over SASL): ranges of several partitions read
 *   at once end exactly at `to`, a range that can never complete fails naming the partition and offset
 *   instead of hanging, and a range below the log start fails as out of range.
 */
import { openClusterClients, type ClusterClients } from '../src/copy/clusterClients';
import { READ_COMMITTED } from '../src/copy/fetchProtocol';
import type { KafkaRecord } from '../src/copy/kafkaRecord';
import { chunkByMemory, maxBatchBytes, partitionHoldBytes, SIDE_MEMORY_BYTES } from '../src/verify/readChunks';
import { RangeReader, type RecordRange } from '../src/verify/rangeReader';
import { createSourceTopic, produceToSource } from './helpers/copyFixtures';
import { sourceAdminKafka, stackSpec, uniqueSuffix } from './helpers/stack';

describe('read chunks', () => {
  const MiB = 1024 * 1024;

  test('a partition holds its fetch plus one whole batch; a batch larger than the fetch grows the fetch', () => {
    expect(partitionHoldBytes(256 * 1024, MiB)).toBe(MiB + 256 * 1024);
    expect(partitionHoldBytes(3 * MiB, MiB)).toBe(6 * MiB);
    expect(partitionHoldBytes(1.5 * MiB, MiB)).toBe(3.5 * MiB);
    expect(maxBatchBytes(new Map([['max.message.bytes', { configValue: '5242880' }]]) as never)).toBe(5 * MiB);
    expect(maxBatchBytes(undefined)).toBe(1048588);
  });

  test('chunks keep the order, stay within the budget and the count, and never leave an item out', () => {
    const items = Array.from({ length: 10 }, (_, i) => ({ id: i, hold: i === 4 ? 100 : 10 }));
    const chunks = chunkByMemory(items, (i) => i.hold, 35, 3);
    expect(chunks.map((c) => c.items.map((i) => i.id))).toEqual([[0, 1, 2], [3], [4], [5, 6, 7], [8, 9]]);
    expect(chunks.map((c) => c.holdBytes)).toEqual([30, 10, 100, 30, 20]);
    // With the defaults, topics with the broker's default batch limit (~1 MiB) are read many partitions at a time.
    const hold = partitionHoldBytes(1048588);
    const perChunk = Math.floor(SIDE_MEMORY_BYTES / hold);
    expect(perChunk).toBeGreaterThanOrEqual(12);
    const chunks100 = chunkByMemory(
      Array.from({ length: 100 }, () => hold),
      (h) => h,
    );
    expect(chunks100.map((c) => c.items.length)).toEqual(
      [...Array.from({ length: Math.floor(100 / perChunk) }, () => perChunk), 100 % perChunk].filter((n) => n > 0),
    );
    expect(chunks100.every((c) => c.holdBytes <= SIDE_MEMORY_BYTES)).toBe(true);
  });
});

describe('range reader', () => {
  const suffix = uniqueSuffix();
  const topic = `ver-range-${suffix}`;
  let clients: ClusterClients;
  const readers: RangeReader[] = [];
  const open = (ranges: RecordRange[], stallTimeoutMs?: number) => {
    const r = new RangeReader(clients.cluster, ranges, {
      role: 'source',
      isolationLevel: READ_COMMITTED,
      partitionFetchBytes: 64 * 1024,
      maxBufferedBytes: 4 * 1024 * 1024,
      stallTimeoutMs,
    });
    readers.push(r);
    return r;
  };
  const drain = async (reader: RangeReader, partition: number) => {
    const out: KafkaRecord[] = [];
    for await (const r of reader.records(topic, partition)) out.push(r);
    return out.map((r) => [r.offset, r.value?.toString()]);
  };

  beforeAll(async () => {
    await createSourceTopic(topic, 3);
    await produceToSource(
      topic,
      [0, 1, 2].flatMap((partition) => Array.from({ length: 20 }, (_, i) => ({ partition, key: null, value: `p${partition}-${i}` }))),
    );
    // Log start 5 on partition 2.
    const admin = sourceAdminKafka().admin();
    await admin.connect();
    await admin.fetchTopicOffsets(topic);
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 2, offset: '5' }] });
    await admin.disconnect();
    clients = await openClusterClients(stackSpec({ name: `ver-range-${suffix}` }).source, 'source', 'range-test');
    await clients.cluster.addMultipleTargetTopics([topic]);
  });
  afterEach(async () => {
    await Promise.all(readers.splice(0).map((r) => r.close()));
  });
  afterAll(async () => {
    await clients?.close();
    const admin = sourceAdminKafka().admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  test('several ranges read at once, each exactly [from, to), an empty range yields nothing', async () => {
    const reader = open([
      { topic, partition: 0, from: 3, to: 7 },
      { topic, partition: 1, from: 0, to: 20 },
      { topic, partition: 2, from: 9, to: 9 },
    ]);
    const [p0, p1, p2] = await Promise.all([drain(reader, 0), drain(reader, 1), drain(reader, 2)]);
    expect(p0).toEqual([3, 4, 5, 6].map((i) => [i, `p0-${i}`]));
    expect(p1).toEqual(Array.from({ length: 20 }, (_, i) => [i, `p1-${i}`]));
    expect(p2).toEqual([]);
  });

  test('a range past the end fails naming the partition and offset instead of waiting forever', async () => {
    const reader = open([{ topic, partition: 0, from: 15, to: 25 }], 1500);
    await expect(drain(reader, 0)).rejects.toThrow(`reading source partition ${topic}:0 stalled at offset 20 (range end 25): no records for 2s`);
  });

  test('a range below the log start fails as out of range', async () => {
    const reader = open([{ topic, partition: 2, from: 0, to: 20 }]);
    await expect(drain(reader, 2)).rejects.toThrow(`source partition ${topic}:2: offset 0 is out of range (deleted by retention or beyond the end)`);
  });
});
