/**
 * Compressed source topics: Kafka's own Java producer writes gzip, snappy, lz4 and zstd batches to the source,
 * the copy engine copies them (drain), and the target must hold exactly the records that were produced (keys,
 * values, headers in order, timestamps) at the same offsets. Verification reads them (its range reader yields
 * the produced records, and each copied topic verifies), and kafkajs consumers read them once the codecs are
 * registered. Unit tests cover framings the Java producer does not write and the errors.
 */
import { randomBytes } from 'node:crypto';
import { compressSync as snappyCompress } from 'snappy';
import * as codecs from '../src/copy/compressionCodecs';
import { decompressRecords } from '../src/copy/compressionCodecs';
import { verifyBatch } from '../src/activities/verify';
import { openClusterClients } from '../src/copy/clusterClients';
import { READ_COMMITTED } from '../src/copy/fetchProtocol';
import { copyPartitionsUntil } from '../src/copy/copyPartitions';
import { createTopicsOnTarget } from '../src/copy/targetTopics';
import { registerKafkajsCodecs } from '../src/copy/kafkajsCodecs';
import { decodeRecordSet, encodeRecordBatch } from '../src/copy/recordBatchCodec';
import type { KafkaRecord } from '../src/copy/kafkaRecord';
import { RangeReader } from '../src/verify/rangeReader';
import { TopicRangeReader } from '../src/verify/topicRangeReader';
import { content, createSourceTopic, readPartition, sourceEndOffsets } from './helpers/copyFixtures';
import { produceWithJavaProducer, type JavaRecord } from './helpers/javaProducer';
import { sourceAdminKafka, stackSpec, uniqueSuffix } from './helpers/stack';

const CODECS = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
type Codec = keyof typeof CODECS;
const PARTITIONS = 2;
const suffix = uniqueSuffix();
const topicOf = (codec: Codec) => `codec-${codec}-${suffix}`;

/** 600 records: null keys, binary keys, tombstones, compressible text and random bytes, headers, old and unordered timestamps. */
function testRecords(): JavaRecord[] {
  const base = Date.now() - 86_400_000; // a day old: CreateTime must be kept, not re-stamped
  return Array.from({ length: 600 }, (_, i) => {
    const text = JSON.stringify({
      order: i,
      customer: `customer-${i % 37}`,
      items: Array.from({ length: 1 + (i % 5) }, (_, j) => ({ sku: `sku-${j}`, qty: j + 1 })),
    });
    return {
      partition: i % PARTITIONS,
      timestamp: base + ((i * 7919) % 5000), // out of order within a batch: negative timestamp deltas
      key: i % 10 === 0 ? null : i % 7 === 0 ? Buffer.from([0xff, 0x00, i & 0xff]) : Buffer.from(`key-${i}`),
      value: i % 25 === 0 ? null : i % 3 === 0 ? randomBytes(64 + (i % 200)) : Buffer.from(text.repeat(1 + (i % 8))),
      headers:
        i % 4 === 0
          ? [
              ['trace', Buffer.from([0xff, 0x00, 0x80])],
              ['dup', Buffer.from('1')],
              ['trace', Buffer.from('second')],
              ['nil', null],
            ]
          : i % 4 === 1
            ? []
            : [['seq', Buffer.from(String(i))]],
    };
  });
}

/** The produced records of one partition as the copy must reproduce them, at offsets 0.. in send order. */
function expectedPartition(records: JavaRecord[], partition: number): { offset: number; content: unknown }[] {
  return records
    .filter((r) => r.partition === partition)
    .map((r, offset) => ({
      offset,
      content: content({
        offset,
        timestamp: r.timestamp,
        key: r.key,
        value: r.value,
        headers: r.headers.map(([k, v]) => ({ key: Buffer.from(k), value: v })),
        size: 0,
      }),
    }));
}

function xerialChunkCount(data: Buffer): number {
  let chunks = 0;
  for (let pos = 16; pos < data.length; pos += 4 + data.readInt32BE(pos)) chunks++;
  return chunks;
}

const asProduced = (records: KafkaRecord[]) => records.map((r) => ({ offset: r.offset, content: content(r) }));

describe('copying topics the Java producer compressed', () => {
  const records = testRecords();

  beforeAll(async () => {
    await Promise.all((Object.keys(CODECS) as Codec[]).map((codec) => createSourceTopic(topicOf(codec), PARTITIONS)));
    await produceWithJavaProducer(records, Object.fromEntries((Object.keys(CODECS) as Codec[]).map((codec) => [topicOf(codec), codec])));
  });

  afterEach(() => jest.restoreAllMocks());

  test.each(Object.keys(CODECS) as Codec[])('%s: the target holds exactly the produced records at the same offsets', async (codec) => {
    const topic = topicOf(codec);
    const spec = stackSpec({ name: `codec-${codec}-${suffix}` });
    const decompress = jest.spyOn(codecs, 'decompressRecords');
    await createTopicsOnTarget(spec, spec.name, [topic]);
    const stopAt = await sourceEndOffsets(topic);
    const progress = await copyPartitionsUntil({
      source: spec.source,
      target: spec.target,
      migration: spec.name,
      partitions: Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })),
      stopAt,
    });

    // The engine really read batches of this codec (the producer did not fall back to uncompressed), several
    // per partition (the producer flushes every 200 records).
    expect(new Set(decompress.mock.calls.map(([c]) => c))).toEqual(new Set([CODECS[codec]]));
    expect(decompress.mock.calls.length).toBeGreaterThanOrEqual(3 * PARTITIONS);
    // snappy-java splits a batch into 32 KB xerial chunks: some batch must have had several.
    if (codec === 'snappy') expect(Math.max(...decompress.mock.calls.map(([, data]) => xerialChunkCount(data)))).toBeGreaterThan(1);
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const expected = expectedPartition(records, partition);
      expect(progress.find((p) => p.partition === partition)).toMatchObject({
        sourceNext: expected.length,
        targetNext: expected.length,
        identicalOffsets: true,
        lagRecords: 0,
      });
      expect(asProduced(await readPartition('target', topic, partition, { committed: false }))).toEqual(expected);
    }
  });

  test('verification reads gzip, snappy, lz4 and zstd batches: the produced records, and every copied topic verifies', async () => {
    // Runs after the copies above (jest runs a file's tests in order).
    const expected = expectedPartition(records, 1);
    const spec = stackSpec({ name: `codec-read-${suffix}` });
    const clients = await openClusterClients(spec.source, 'source', 'codec-test');
    try {
      await clients.cluster.addMultipleTargetTopics((Object.keys(CODECS) as Codec[]).map(topicOf));
      for (const codec of Object.keys(CODECS) as Codec[]) {
        const reader = new RangeReader(clients.cluster, [{ topic: topicOf(codec), partition: 1, from: 0, to: expected.length }], {
          role: 'source',
          isolationLevel: READ_COMMITTED,
          partitionFetchBytes: 64 * 1024, // several fetches per partition
          maxBufferedBytes: 8 * 1024 * 1024,
        });
        try {
          const seen: KafkaRecord[] = [];
          for await (const r of reader.records(topicOf(codec), 1)) seen.push(r);
          expect(asProduced(seen)).toEqual(expected);
        } finally {
          await reader.close();
        }
      }
    } finally {
      await clients.close();
    }
    for (const codec of Object.keys(CODECS) as Codec[]) {
      const report = await verifyBatch({
        spec: stackSpec({ name: `codec-${codec}-${suffix}` }),
        migration: `codec-${codec}-${suffix}`,
        batch: { topics: [{ name: topicOf(codec) }], groups: [] },
      });
      expect({ codec, mismatches: report.mismatches, ok: report.ok }).toEqual({ codec, mismatches: [], ok: true });
      expect(report.partitions.map((p) => p.source.records)).toEqual([0, 1].map((p) => expectedPartition(records, p).length));
    }
  });

  test('kafkajs consumers (inventory, preflight samples, the fence store reader) read snappy, lz4 and zstd once registered', async () => {
    registerKafkajsCodecs();
    const expected = expectedPartition(records, 1);
    await Promise.all(
      (['snappy', 'lz4', 'zstd'] as const).map(async (codec) => {
        const reader = await TopicRangeReader.open(sourceAdminKafka(), topicOf(codec), { groupIdPrefix: `codec-test-${suffix}` });
        try {
          const seen: { offset: number; key: string | null; value: string | null; timestamp: number }[] = [];
          for await (const m of reader.read(1, 0, expected.length)) {
            seen.push({
              offset: Number(m.offset),
              key: m.key?.toString('hex') ?? null,
              value: m.value?.toString('hex') ?? null,
              timestamp: Number(m.timestamp),
            });
          }
          expect(seen).toEqual(
            expected.map((e) => {
              const c = e.content as { key: string | null; value: string | null; timestamp: number };
              return { offset: e.offset, key: c.key, value: c.value, timestamp: c.timestamp };
            }),
          );
        } finally {
          await reader.close();
        }
      }),
    );
  });
});

describe('decompressRecords', () => {
  const payload = Buffer.from('kafka record bytes '.repeat(5000)); // ~95 KB

  const lengthOf = (b: Buffer) => {
    const out = Buffer.alloc(4);
    out.writeInt32BE(b.length);
    return out;
  };
  /** snappy-java's SnappyOutputStream framing: header, then [int32 length, raw snappy block] per chunk. */
  function xerial(...chunks: Buffer[]): Buffer {
    const parts: Buffer[] = [Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1])];
    for (const c of chunks) {
      const block = snappyCompress(c) as Buffer;
      parts.push(lengthOf(block), block);
    }
    return Buffer.concat(parts);
  }

  test('snappy: a raw block (librdkafka) and concatenated xerial streams (snappy-java) both decode', () => {
    // Buffer.equals: jest's deep equality walks 95 KB byte by byte, slowly.
    expect((decompressRecords(2, snappyCompress(payload) as Buffer, 'test batch') as Buffer).equals(payload)).toBe(true);
    const a = payload.subarray(0, 40_000);
    const b = payload.subarray(40_000);
    const concatenated = Buffer.concat([xerial(a.subarray(0, 32768), a.subarray(32768)), xerial(b)]);
    expect((decompressRecords(2, concatenated, 'test batch') as Buffer).equals(payload)).toBe(true);
  });

  test('corrupt or truncated data fails naming the batch and the codec', async () => {
    const framed = xerial(payload.subarray(0, 32768));
    expect(() => decompressRecords(2, framed.subarray(0, framed.length - 10), 'record batch at offset 7')).toThrow(
      /^record batch at offset 7: snappy chunk at byte 16 claims \d+ bytes but only \d+ remain$/,
    );
    expect(() => decompressRecords(3, Buffer.from('not an lz4 frame'), 'record batch at offset 8')).toThrow(
      /^record batch at offset 8: lz4 decompression failed \(.+\); the batch is corrupt/,
    );
    await expect(decompressRecords(4, Buffer.from('not a zstd frame'), 'record batch at offset 9')).rejects.toThrow(
      /^record batch at offset 9: zstd decompression failed \(.+\); the batch is corrupt/,
    );
    expect(() => decompressRecords(1, Buffer.from('not gzip'), 'record batch at offset 10')).toThrow(/^record batch at offset 10: gzip decompression failed/);
  });

  test('a batch with an unknown codec (5) fails with the codec number and the batch offset', async () => {
    const batch = encodeRecordBatch(
      [{ offset: 0, timestamp: 1, key: null, value: Buffer.from('v'), headers: [], size: 1 }],
      0,
      1,
      { producerId: 1, producerEpoch: 0 },
      0,
    );
    batch.writeBigInt64BE(42n, 0);
    batch.writeInt16BE(5, 21); // attributes: codec 5
    await expect(decodeRecordSet(batch)).rejects.toThrow(
      'record batch at offset 42 uses compression codec 5, which Kafka does not define (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd): the batch is corrupt or was written by an unsupported Kafka version',
    );
  });
});
