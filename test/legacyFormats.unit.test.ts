/**
 * Message formats v0 and v1 (Kafka 0.8-0.10), without a broker, through both decoders: the copy engine's
 * (src/copy/recordBatchCodec.ts → legacyMessageCodec.ts) and verification's (src/verify/independent).
 *
 * 1. Byte-exact fixtures from real brokers (test/fixtures/legacyFormats): a partition's segment file as that release
 *    wrote it (what a Fetch returns), with Kafka's own reading of it (kafka.tools.DumpLogSegments --deep-iteration of
 *    2.8.2) as the expected records: 0.9.0.1 (v0: none, gzip, snappy, lz4 with the era's wrong LZ4 header checksum),
 *    0.10.2.2 (v1: none, gzip, snappy, lz4), and 2.8.2 topics with message.format.version 0.10.2 (v1) and 0.9.0 (v0;
 *    lz4 then gzip wrappers), each written by that release's console producer.
 * 2. Messages built here by a test encoder written from the format description: null keys and values, LogAppendTime
 *    wrappers, relative inner offsets with compaction gaps (v1), absolute inner offsets (v0), v1 and v2 in one record
 *    set, entries cut by the fetch size, corruption.
 * 3. Fetch response versions 0-3 (0.9-0.10 brokers), parsed by both.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, gzipSync } from 'node:zlib';
import { compressFrameSync as lz4Frame, decompressFrameSync as lz4Unframe } from 'lz4-napi';
import { decodeRecordSet, encodeRecordBatch } from '../src/copy/recordBatchCodec';
import { decodeFetchResponse } from '../src/copy/fetchProtocol';
import { fixLegacyLz4HeaderChecksum } from '../src/copy/compressionCodecs';
import { xxhash32 } from '../src/copy/xxhash32';
import { decodeEntry, splitEntries } from '../src/verify/independent/logEntries';
import { parseFetchResponse } from '../src/verify/independent/fetch';
import { decodeLz4Frame } from '../src/verify/independent/lz4Frame';
import type { KafkaRecord } from '../src/copy/kafkaRecord';

const FIXTURES = join(__dirname, 'fixtures', 'legacyFormats');

interface Expected {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
}

/** DumpLogSegments' per-record lines: "| offset: 3 ... CreateTime: 1796... ... key: k3 payload: value-3". */
function parseDump(text: string): Expected[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('| offset: '))
    .map((l) => {
      const ts = /(CreateTime|LogAppendTime|NoTimestampType): (-?\d+)/.exec(l);
      return {
        offset: Number(/^\| offset: (\d+)/.exec(l)![1]),
        timestamp: Number(ts![2]),
        key: /keySize: -1/.test(l) ? null : / key: (\S*)/.exec(l)![1],
        value: /valueSize: -1/.test(l) ? null : / payload: (\S*)/.exec(l)![1],
      };
    });
}

const plain = (r: { offset: number; timestamp: number; key: Buffer | null; value: Buffer | null; headers: unknown[] }) => ({
  offset: r.offset,
  timestamp: r.timestamp,
  key: r.key?.toString() ?? null,
  value: r.value?.toString() ?? null,
  headers: r.headers.length,
});

async function engineRecords(set: Buffer): Promise<KafkaRecord[]> {
  const { batches, partialBytes } = await decodeRecordSet(set);
  expect(partialBytes).toBe(0);
  return batches.flatMap((b) => b.records);
}

async function verifierRecords(set: Buffer) {
  const { entries, partialBytes } = splitEntries(set);
  expect(partialBytes).toBe(0);
  return (await Promise.all(entries.map(decodeEntry))).flatMap((e) => e.records);
}

describe('segments written by real 0.9.0.1, 0.10.2.2 and 2.8.2 brokers', () => {
  const names = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.log'))
    .map((f) => f.replace(/\.log$/, ''));

  test('every fixture is there (v0 and v1, each codec)', () => {
    expect(names.sort()).toEqual(
      [
        'kafka-0.9.0.1-v0-none',
        'kafka-0.9.0.1-v0-gzip',
        'kafka-0.9.0.1-v0-snappy',
        'kafka-0.9.0.1-v0-lz4',
        'kafka-0.10.2.2-v1-none',
        'kafka-0.10.2.2-v1-gzip',
        'kafka-0.10.2.2-v1-snappy',
        'kafka-0.10.2.2-v1-lz4',
        'kafka-2.8.2-v0-lz4-gzip',
        'kafka-2.8.2-v1-gzip',
        'kafka-2.8.2-v1-none',
      ].sort(),
    );
  });

  test.each(names)('%s: both decoders read exactly what Kafka reads', async (name) => {
    const set = readFileSync(join(FIXTURES, `${name}.log`));
    const expected = parseDump(readFileSync(join(FIXTURES, `${name}.dump.txt`), 'utf8'));
    expect(expected.length).toBeGreaterThanOrEqual(20);
    const want = expected.map((e) => ({ ...e, headers: 0 }));
    expect((await engineRecords(set)).map(plain)).toEqual(want);
    expect((await verifierRecords(set)).map(plain)).toEqual(want);
    // Every key kN carries value-N (as produced), v0 has no timestamp, v1 has the producer's CreateTime.
    for (const e of expected) expect(e.value).toBe(`value-${e.key!.slice(1)}`);
    const v0 = name.includes('-v0-');
    for (const e of expected) expect(v0 ? e.timestamp === -1 : e.timestamp > 1_600_000_000_000).toBe(true);
  });

  test("0.9's lz4 wrapper has the wrong header checksum: a standard decoder refuses it, both decoders read it", async () => {
    const set = readFileSync(join(FIXTURES, 'kafka-0.9.0.1-v0-lz4.log'));
    const value = set.subarray(12 + 4 + 1 + 1 + 4 + 4); // offset, size, crc, magic, attributes, key -1, value length
    expect(value.readUInt32LE(0)).toBe(0x184d2204);
    expect(value[6]).toBe(0x1a); // what 0.9 wrote for FLG 0x60 BD 0x40 (correct: 0x82)
    expect(() => lz4Unframe(value)).toThrow();
    expect(fixLegacyLz4HeaderChecksum(value, 'test')[6]).toBe(0x82);
    expect((await engineRecords(set)).length).toBe(30);
  });
});

// ---- a test encoder for v0/v1, from the format description ----

interface TestMessage {
  offset: number;
  magic: 0 | 1;
  attributes?: number;
  timestamp?: number;
  key: Buffer | string | null;
  value: Buffer | string | null;
}

function int32Bytes(b: Buffer | string | null): Buffer {
  const len = Buffer.alloc(4);
  if (b === null) {
    len.writeInt32BE(-1);
    return len;
  }
  const bytes = Buffer.from(b);
  len.writeInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

function message(m: TestMessage): Buffer {
  const head = Buffer.alloc(m.magic === 1 ? 10 : 2);
  head.writeInt8(m.magic, 0);
  head.writeInt8(m.attributes ?? 0, 1);
  if (m.magic === 1) head.writeBigInt64BE(BigInt(m.timestamp ?? 0), 2);
  const body = Buffer.concat([head, int32Bytes(m.key), int32Bytes(m.value)]);
  const out = Buffer.alloc(16);
  out.writeBigInt64BE(BigInt(m.offset), 0);
  out.writeInt32BE(4 + body.length, 8);
  out.writeUInt32BE(crc32(body) >>> 0, 12);
  return Buffer.concat([out, body]);
}

const both = async (set: Buffer) => {
  const engine = (await engineRecords(set)).map(plain);
  expect((await verifierRecords(set)).map(plain)).toEqual(engine);
  return engine;
};

describe('v0/v1 messages built from the format description', () => {
  test('plain messages: null vs empty keys and values, v0 timestamps are -1, v1 CreateTime and LogAppendTime kept', async () => {
    const set = Buffer.concat([
      message({ offset: 0, magic: 0, key: null, value: 'a' }),
      message({ offset: 1, magic: 0, key: '', value: null }),
      message({ offset: 2, magic: 1, timestamp: 1_700_000_000_123, key: 'k', value: '' }),
      message({ offset: 4, magic: 1, attributes: 0x08, timestamp: 1_700_000_000_999, key: 'k2', value: 'v' }),
    ]);
    expect(await both(set)).toEqual([
      { offset: 0, timestamp: -1, key: null, value: 'a', headers: 0 },
      { offset: 1, timestamp: -1, key: '', value: null, headers: 0 },
      { offset: 2, timestamp: 1_700_000_000_123, key: 'k', value: '', headers: 0 },
      { offset: 4, timestamp: 1_700_000_000_999, key: 'k2', value: 'v', headers: 0 },
    ]);
    const { batches } = await decodeRecordSet(set);
    expect(batches.map((b) => [b.baseOffset, b.lastOffset, b.logAppendTime])).toEqual([
      [0, 0, false],
      [1, 1, false],
      [2, 2, false],
      [4, 4, true],
    ]);
  });

  test('v1 wrapper: relative inner offsets with compaction gaps end at the wrapper offset; LogAppendTime gives every inner record the wrapper time', async () => {
    const inner = Buffer.concat([
      message({ offset: 0, magic: 1, timestamp: 10, key: 'a', value: '1' }),
      message({ offset: 2, magic: 1, timestamp: 12, key: 'b', value: '2' }),
      message({ offset: 5, magic: 1, timestamp: 15, key: 'c', value: null }),
    ]);
    const create = message({ offset: 105, magic: 1, attributes: 1, timestamp: 15, key: null, value: gzipSync(inner) });
    expect(await both(create)).toEqual([
      { offset: 100, timestamp: 10, key: 'a', value: '1', headers: 0 },
      { offset: 102, timestamp: 12, key: 'b', value: '2', headers: 0 },
      { offset: 105, timestamp: 15, key: 'c', value: null, headers: 0 },
    ]);
    const append = message({ offset: 105, magic: 1, attributes: 1 | 0x08, timestamp: 999, key: null, value: gzipSync(inner) });
    expect((await both(append)).map((r) => r.timestamp)).toEqual([999, 999, 999]);
    const [batch] = (await decodeRecordSet(append)).batches;
    expect([batch.baseOffset, batch.lastOffset, batch.logAppendTime]).toEqual([100, 105, true]);
    const [entry] = await Promise.all(splitEntries(append).entries.map(decodeEntry));
    expect([entry.baseOffset, entry.lastOffset, entry.logAppendTime, entry.magic]).toEqual([100, 105, true, 1]);
  });

  test('v0 wrapper: inner offsets are absolute; lz4 frames with the correct checksum (v1) and the broken one (v0) both decode', async () => {
    const inner0 = Buffer.concat([message({ offset: 40, magic: 0, key: 'x', value: 'y' }), message({ offset: 41, magic: 0, key: 'z', value: 'w' })]);
    expect(await both(message({ offset: 41, magic: 0, attributes: 1, key: null, value: gzipSync(inner0) }))).toEqual([
      { offset: 40, timestamp: -1, key: 'x', value: 'y', headers: 0 },
      { offset: 41, timestamp: -1, key: 'z', value: 'w', headers: 0 },
    ]);
    const inner1 = Buffer.concat([
      message({ offset: 0, magic: 1, timestamp: 5, key: 'x', value: 'y' }),
      message({ offset: 1, magic: 1, timestamp: 6, key: null, value: 'w' }),
    ]);
    expect((await both(message({ offset: 7, magic: 1, attributes: 3, timestamp: 6, key: null, value: lz4Frame(inner1) }))).map((r) => r.offset)).toEqual([
      6, 7,
    ]);
    // The v0 era's checksum: xxhash32 over the magic number too.
    const frame = Buffer.from(lz4Frame(inner0));
    const hcAt = 6 + (frame[4] & 0x08 ? 8 : 0);
    frame[hcAt] = (xxhash32(frame, 0, hcAt) >>> 8) & 0xff;
    expect((await both(message({ offset: 41, magic: 0, attributes: 3, key: null, value: frame }))).map((r) => r.offset)).toEqual([40, 41]);
    expect(decodeLz4Frame(frame, 'test')).toEqual(inner0);
  });

  test('v1 messages and v2 batches alternate in one record set (a topic whose format was upgraded)', async () => {
    const v2 = encodeRecordBatch(
      [
        {
          offset: 0,
          timestamp: 1_700_000_000_500,
          key: Buffer.from('k'),
          value: Buffer.from('v2'),
          headers: [{ key: Buffer.from('h'), value: null }],
          size: 4,
        },
      ],
      0,
      1,
      { producerId: -1, producerEpoch: -1 },
      -1,
    );
    v2.writeBigInt64BE(3n, 0);
    const set = Buffer.concat([message({ offset: 2, magic: 1, timestamp: 1_700_000_000_400, key: 'k', value: 'v1' }), v2]);
    expect(await both(set)).toEqual([
      { offset: 2, timestamp: 1_700_000_000_400, key: 'k', value: 'v1', headers: 0 },
      { offset: 3, timestamp: 1_700_000_000_500, key: 'k', value: 'v2', headers: 1 },
    ]);
  });

  test('an entry cut by the fetch size is left out; corruption is an error', async () => {
    const a = message({ offset: 0, magic: 0, key: 'a', value: 'b' });
    const b = message({ offset: 1, magic: 1, timestamp: 1, key: 'c', value: 'd' });
    const cut = Buffer.concat([a, b.subarray(0, 20)]);
    expect(await decodeRecordSet(cut)).toMatchObject({ partialBytes: 20 });
    expect(splitEntries(cut)).toMatchObject({ partialBytes: 20, partialEntryBytes: b.length });

    const bad = Buffer.from(a);
    bad[bad.length - 1] ^= 1; // a value byte: the CRC-32 no longer matches
    await expect(Promise.all(splitEntries(bad).entries.map(decodeEntry))).rejects.toThrow('message v0/v1 at offset 0: CRC-32 mismatch');

    const tooShort = Buffer.from(a);
    tooShort.writeInt32BE(10, 8);
    await expect(decodeRecordSet(tooShort.subarray(0, 22))).rejects.toThrow('not a Kafka message format');

    const nested = message({
      offset: 1,
      magic: 1,
      attributes: 1,
      timestamp: 1,
      key: null,
      value: gzipSync(message({ offset: 0, magic: 1, attributes: 1, key: null, value: 'x' })),
    });
    await expect(Promise.all(splitEntries(nested).entries.map(decodeEntry))).rejects.toThrow('is compressed again');
  });

  test('xxhash32 reference values', () => {
    expect(xxhash32(Buffer.alloc(0))).toBe(0x02cc5d05);
    expect(xxhash32(Buffer.from('abc'))).toBe(0x32d153ff);
    expect(xxhash32(Buffer.from('Nobody inspects the spammish repetition'))).toBe(0xe2293b2f);
  });
});

describe('Fetch responses v0-v3 (Kafka 0.9-0.10: no last stable offset, no aborted transactions)', () => {
  function response(version: number, records: Buffer): Buffer {
    const parts: Buffer[] = [];
    const i32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(n);
      parts.push(b);
    };
    if (version >= 1) i32(0); // throttle
    i32(1);
    const name = Buffer.from('t');
    const len = Buffer.alloc(2);
    len.writeInt16BE(name.length);
    parts.push(len, name);
    i32(1);
    i32(0); // partition
    parts.push(Buffer.from([0, 0])); // error
    const hw = Buffer.alloc(8);
    hw.writeBigInt64BE(9n);
    parts.push(hw);
    i32(records.length);
    parts.push(records);
    return Buffer.concat(parts);
  }
  const records = message({ offset: 8, magic: 0, key: 'k', value: 'v' });

  test.each([0, 1, 2, 3])('v%i', (version) => {
    const engine = decodeFetchResponse(version, response(version, records));
    expect(engine.topics[0].partitions[0]).toMatchObject({
      partition: 0,
      errorCode: 0,
      highWatermark: 9,
      lastStableOffset: -1,
      logStartOffset: -1,
      abortedTransactions: [],
    });
    expect(engine.topics[0].partitions[0].records).toEqual(records);
    expect(parseFetchResponse(version, response(version, records), 't', 0)).toMatchObject({ errorCode: 0, highWatermark: 9, lastStableOffset: -1, records });
  });
});
