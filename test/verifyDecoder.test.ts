/**
 * The verification decoder (src/verify/independent), without a broker: varints and bounds, CRC-32C, record
 * batch v2 layouts (null vs empty keys and values, duplicate headers in order, timestamps, compaction gaps,
 * LogAppendTime), every compression codec and framing, control batches and aborted transactions under both
 * isolation levels, Fetch response parsing, and the errors. Batches are built here by a test encoder written
 * from the format description; the copy engine's encoder is used once, as a cross-check.
 */
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { compress as zstdCompress } from '@mongodb-js/zstd';
import { compressFrameSync as lz4Frame } from 'lz4-napi';
import { compressSync as snappyCompress } from 'snappy';
import { crc32c as engineCrc32c } from '../src/copy/crc32c';
import { encodeRecordBatch } from '../src/copy/recordBatchCodec';
import { ByteCursor } from '../src/verify/independent/cursor';
import { crc32cOf } from '../src/verify/independent/crc32c';
import { CommittedFilter, type AbortedTransaction } from '../src/verify/independent/committedFilter';
import { parseFetchResponse } from '../src/verify/independent/fetch';
import { decodeEntry, splitEntries } from '../src/verify/independent/logEntries';
import type { DecodedEntry } from '../src/verify/independent/record';

// ---- a test encoder, from the format description ----

function varlongBytes(v: bigint): number[] {
  let raw = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
  const out: number[] = [];
  while (raw >= 0x80n) {
    out.push(Number(raw & 0x7fn) | 0x80);
    raw >>= 7n;
  }
  out.push(Number(raw));
  return out;
}
const vi = (n: number) => Buffer.from(varlongBytes(BigInt(n)));
const vbytes = (b: Buffer | null) => (b === null ? vi(-1) : Buffer.concat([vi(b.length), b]));

interface TestRecord {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: [Buffer, Buffer | null][];
}

function encodeRecord(r: TestRecord): Buffer {
  const headers = r.headers ?? [];
  const body = Buffer.concat([
    Buffer.from([0]),
    vi(r.timestampDelta),
    vi(r.offsetDelta),
    vbytes(r.key),
    vbytes(r.value),
    vi(headers.length),
    ...headers.map(([k, v]) => Buffer.concat([vbytes(k), vbytes(v)])),
  ]);
  return Buffer.concat([vi(body.length), body]);
}

interface TestBatch {
  baseOffset: number;
  records: TestRecord[];
  lastOffsetDelta?: number;
  baseTimestamp?: number;
  maxTimestamp?: number;
  producerId?: number;
  /** codec | timestamp type | transactional | control bits */
  attributes?: number;
  compress?: (b: Buffer) => Buffer;
  /** Bytes appended to the records section (to test the trailing-bytes check). */
  trailing?: Buffer;
}

function encodeBatch(b: TestBatch): Buffer {
  let recs: Buffer = Buffer.concat([...b.records.map(encodeRecord), b.trailing ?? Buffer.alloc(0)]);
  if (b.compress) recs = b.compress(recs);
  const h = Buffer.alloc(61);
  h.writeBigInt64BE(BigInt(b.baseOffset), 0);
  h.writeInt32BE(61 - 12 + recs.length, 8);
  h.writeInt32BE(0, 12);
  h.writeInt8(2, 16);
  h.writeInt16BE(b.attributes ?? 0, 21);
  h.writeInt32BE(b.lastOffsetDelta ?? Math.max(0, ...b.records.map((r) => r.offsetDelta)), 23);
  h.writeBigInt64BE(BigInt(b.baseTimestamp ?? 1_700_000_000_000), 27);
  h.writeBigInt64BE(BigInt(b.maxTimestamp ?? 1_700_000_000_000), 35);
  h.writeBigInt64BE(BigInt(b.producerId ?? -1), 43);
  h.writeInt16BE(0, 51);
  h.writeInt32BE(-1, 53);
  h.writeInt32BE(b.records.length, 57);
  const batch = Buffer.concat([h, recs]);
  batch.writeUInt32BE(crc32cOf(batch, 21), 17);
  return batch;
}

/** A control batch (transaction marker) of `producerId`: type 0 abort, 1 commit. */
function marker(offset: number, producerId: number, type: 0 | 1): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(type, 2);
  return encodeBatch({
    baseOffset: offset,
    producerId,
    attributes: 0x10 | 0x20,
    records: [{ offsetDelta: 0, timestampDelta: 0, key, value: Buffer.from([0, 0, 0, 0, 0, 0]) }],
  });
}

const txn = (offset: number, producerId: number, values: string[]) =>
  encodeBatch({
    baseOffset: offset,
    producerId,
    attributes: 0x10,
    records: values.map((v, i) => ({ offsetDelta: i, timestampDelta: i, key: null, value: Buffer.from(v) })),
  });

async function decodeAll(set: Buffer): Promise<DecodedEntry[]> {
  const { entries } = splitEntries(set);
  return Promise.all(entries.map(decodeEntry));
}

/** What a consumer sees of one fetch response: the records of visible entries (the logic readRange applies). */
async function visible(set: Buffer, readCommitted: boolean, aborted: AbortedTransaction[]): Promise<string[]> {
  const filter = new CommittedFilter(readCommitted, aborted);
  const out: string[] = [];
  for (const e of await decodeAll(set)) if (filter.visible(e)) out.push(...e.records.map((r) => `${r.offset}:${r.value?.toString()}`));
  return out;
}

const cursorOf = (bytes: number[] | Buffer) => new ByteCursor(Buffer.from(bytes), 0, undefined, 'test');

// ---- tests ----

describe('varints and bounds', () => {
  test('zig-zag varints round-trip at every width and sign, including int32 limits', () => {
    for (const n of [0, -1, 1, 63, -64, 64, -65, 8191, -8192, 1 << 20, 2 ** 31 - 1, -(2 ** 31)]) expect(cursorOf(vi(n)).varint()).toBe(n);
    expect(cursorOf([0x00]).varint()).toBe(0);
    expect(cursorOf([0x01]).varint()).toBe(-1);
    expect(cursorOf([0x02]).varint()).toBe(1);
    expect(cursorOf([0xac, 0x02]).varint()).toBe(150);
  });

  test('varlongs round-trip up to 2^53 on both paths (short and long form); beyond, they are refused', () => {
    for (const n of [0, -1, 300, -300, 2 ** 40, -(2 ** 40), 2 ** 48, 2 ** 49 + 7, -(2 ** 50), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      const c = cursorOf(vi(n));
      expect(c.varlong()).toBe(n);
      expect(c.remaining).toBe(0);
    }
    expect(() => cursorOf(varlongBytes(2n ** 60n)).varlong()).toThrow(/does not fit a JavaScript number exactly/);
    expect(() => cursorOf(Array(11).fill(0x80)).varlong()).toThrow(/longer than 10 bytes/);
  });

  test('a varint longer than 5 bytes, an overflowing or cut one, and bytes past the end fail', () => {
    expect(() => cursorOf([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]).varint()).toThrow(/longer than 5 bytes/);
    expect(() => cursorOf([0xff, 0xff, 0xff, 0xff, 0x7f]).varint()).toThrow(/overflows 32 bits/);
    expect(() => cursorOf([0x80, 0x80]).varint('offsetDelta')).toThrow('test: offsetDelta needs 1 byte(s) at byte 2 but only 0 remain');
    expect(() => cursorOf([0x06, 0x61]).varBytes('key')).toThrow('test: key needs 3 byte(s) at byte 1 but only 1 remain');
  });

  test('varint-length bytes: -1 is null, 0 is empty, below -1 is an error', () => {
    expect(cursorOf(vi(-1)).varBytes()).toBeNull();
    expect(cursorOf(vi(0)).varBytes()).toEqual(Buffer.alloc(0));
    expect(() => cursorOf(vi(-2)).varBytes('value')).toThrow('test: value has negative length -2');
  });
});

test('CRC-32C: the standard check value, and the same as the copy engine on random data', () => {
  expect(crc32cOf(Buffer.from('123456789'))).toBe(0xe3069283);
  const data = randomBytes(100_003);
  expect(crc32cOf(data)).toBe(engineCrc32c(data));
  expect(crc32cOf(data, 17, 5000)).toBe(engineCrc32c(data, 17, 5000));
});

describe('record batch v2', () => {
  const records: TestRecord[] = [
    { offsetDelta: 0, timestampDelta: 0, key: null, value: Buffer.from('null key') },
    { offsetDelta: 1, timestampDelta: 5, key: Buffer.alloc(0), value: Buffer.alloc(0) },
    { offsetDelta: 2, timestampDelta: -3, key: Buffer.from('tomb'), value: null },
    {
      offsetDelta: 3,
      timestampDelta: 2,
      key: Buffer.from([0, 255]),
      value: Buffer.from('headers'),
      headers: [
        [Buffer.from('b'), Buffer.from('1')],
        [Buffer.from('a'), null],
        [Buffer.from('b'), Buffer.from('2')],
        [Buffer.from('c'), Buffer.alloc(0)],
        [Buffer.from([0xe2, 0x82, 0xac]), Buffer.from([0, 1, 2])],
      ],
    },
  ];
  const expected = [
    { offset: 100, timestamp: 1_700_000_000_000, key: null, value: Buffer.from('null key'), headers: [] },
    { offset: 101, timestamp: 1_700_000_000_005, key: Buffer.alloc(0), value: Buffer.alloc(0), headers: [] },
    { offset: 102, timestamp: 1_699_999_999_997, key: Buffer.from('tomb'), value: null, headers: [] },
    {
      offset: 103,
      timestamp: 1_700_000_000_002,
      key: Buffer.from([0, 255]),
      value: Buffer.from('headers'),
      headers: [
        { key: Buffer.from('b'), value: Buffer.from('1') },
        { key: Buffer.from('a'), value: null },
        { key: Buffer.from('b'), value: Buffer.from('2') },
        { key: Buffer.from('c'), value: Buffer.alloc(0) },
        { key: Buffer.from('€'), value: Buffer.from([0, 1, 2]) },
      ],
    },
  ];
  const shape = (e: DecodedEntry) => e.records.map(({ offset, timestamp, key, value, headers }) => ({ offset, timestamp, key, value, headers }));

  test('null vs empty keys and values, duplicate headers in order, null and empty header values, negative timestamp deltas', async () => {
    const [e] = await decodeAll(encodeBatch({ baseOffset: 100, records, maxTimestamp: 1_700_000_000_005 }));
    expect(shape(e)).toEqual(expected);
    expect(e).toMatchObject({ magic: 2, baseOffset: 100, lastOffset: 103, control: false, transactional: false, logAppendTime: false, producerId: -1 });
    expect(e.records[3].size).toBe(2 + 7 + 1 + 1 + 1 + 1 + 1 + 1 + 0 + 3 + 3);
  });

  test('LogAppendTime: every record has the batch max timestamp', async () => {
    const [e] = await decodeAll(encodeBatch({ baseOffset: 0, records, attributes: 0x08, maxTimestamp: 1_800_000_000_000 }));
    expect(e.logAppendTime).toBe(true);
    expect(e.records.map((r) => r.timestamp)).toEqual([1, 2, 3, 4].map(() => 1_800_000_000_000));
  });

  test('compaction gaps: records keep their offset deltas, the entry ends at lastOffsetDelta (also when empty)', async () => {
    const gappy: TestRecord[] = [0, 2, 5].map((d) => ({ offsetDelta: d, timestampDelta: d, key: Buffer.from(`k${d}`), value: Buffer.from('v') }));
    const [e, empty] = await decodeAll(
      Buffer.concat([encodeBatch({ baseOffset: 10, records: gappy, lastOffsetDelta: 7 }), encodeBatch({ baseOffset: 18, records: [], lastOffsetDelta: 4 })]),
    );
    expect(e.records.map((r) => r.offset)).toEqual([10, 12, 15]);
    expect(e.lastOffset).toBe(17);
    expect(empty).toMatchObject({ baseOffset: 18, lastOffset: 22, records: [] });
  });

  test("a batch written by the copy engine's encoder decodes to the records it was given (cross-check)", async () => {
    const input = expected.map((r) => ({ ...r, size: 0 }));
    const batch = encodeRecordBatch(input, 0, input.length, { producerId: 42, producerEpoch: 1 }, 0);
    batch.writeBigInt64BE(500n, 0); // as the broker assigns it
    const [e] = await decodeAll(batch);
    expect(e.records.map(({ timestamp, key, value, headers }) => ({ timestamp, key, value, headers }))).toEqual(
      expected.map(({ timestamp, key, value, headers }) => ({ timestamp, key, value, headers })),
    );
    expect(e.records.map((r) => r.offset)).toEqual([500, 501, 502, 503]);
    expect(e.producerId).toBe(42);
  });

  const xerial = (blocks: Buffer[]) => {
    const header = Buffer.concat([Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]), Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);
    return Buffer.concat(
      blocks.map((b) => {
        const compressed = snappyCompress(b);
        const len = Buffer.alloc(4);
        len.writeInt32BE(compressed.length);
        return Buffer.concat([header, len, compressed]); // every block in its own stream: concatenated streams
      }),
    );
  };
  const codecs: [string, number, (b: Buffer) => Buffer][] = [
    ['gzip', 1, (b) => gzipSync(b)],
    ['snappy (raw block)', 2, (b) => snappyCompress(b)],
    ['snappy (xerial, concatenated streams)', 2, (b) => xerial([b.subarray(0, 7), b.subarray(7)])],
    ['lz4 (frame)', 3, (b) => lz4Frame(b)],
  ];
  test.each(codecs)('%s: decodes to the same records as uncompressed', async (_name, codec, compress) => {
    const [e] = await decodeAll(encodeBatch({ baseOffset: 100, records, maxTimestamp: 1_700_000_000_005, attributes: codec, compress }));
    expect(shape(e)).toEqual(expected);
  });

  test('zstd: decodes to the same records as uncompressed', async () => {
    const raw = Buffer.concat(records.map(encodeRecord));
    const compressed = await zstdCompress(raw, 3);
    const [e] = await decodeAll(encodeBatch({ baseOffset: 100, records, maxTimestamp: 1_700_000_000_005, attributes: 4, compress: () => compressed }));
    expect(shape(e)).toEqual(expected);
  });

  test('corrupt data fails naming the batch: CRC, record length, trailing bytes, null header key, bad codec data, unknown codec', async () => {
    const good = encodeBatch({ baseOffset: 7, records });
    const flipped = Buffer.from(good);
    flipped[70] ^= 1;
    await expect(decodeAll(flipped)).rejects.toThrow(/^record batch v2 at offset 7: CRC-32C mismatch/);

    const trailing = encodeBatch({ baseOffset: 7, records, trailing: Buffer.from([0]) });
    await expect(decodeAll(trailing)).rejects.toThrow('record batch v2 at offset 7: 1 byte(s) after its 4 declared records');

    // A record whose declared length is one byte longer than its fields (the extra byte taken from the next record).
    const one = encodeRecord(records[0]);
    const longer = Buffer.concat([vi(one.length), one.subarray(1), Buffer.from([0])]);
    const lengthBatch = encodeBatch({ baseOffset: 7, records: [], compress: () => longer });
    lengthBatch.writeInt32BE(1, 57);
    lengthBatch.writeUInt32BE(crc32cOf(lengthBatch, 21), 17);
    await expect(decodeAll(lengthBatch)).rejects.toThrow(/record 0 declares \d+ bytes but its fields use \d+/);

    const nullKey = encodeBatch({
      baseOffset: 7,
      records: [{ offsetDelta: 0, timestampDelta: 0, key: null, value: null, headers: [[null as unknown as Buffer, Buffer.from('x')]] }],
    });
    await expect(decodeAll(nullKey)).rejects.toThrow('record batch v2 at offset 7: record 0 header 0 has a null key');

    const badGzip = encodeBatch({ baseOffset: 7, records, attributes: 1, compress: () => Buffer.from('not gzip at all') });
    await expect(decodeAll(badGzip)).rejects.toThrow(/^record batch v2 at offset 7: gzip decompression failed/);

    const codec5 = encodeBatch({ baseOffset: 7, records, attributes: 5 });
    await expect(decodeAll(codec5)).rejects.toThrow('record batch v2 at offset 7: compression codec 5 is not one Kafka defines');
  });
});

describe('record sets', () => {
  test('an entry cut at the end of a fetch is left out and sized; an entry of an unknown format is refused by name', async () => {
    const a = encodeBatch({ baseOffset: 0, records: [{ offsetDelta: 0, timestampDelta: 0, key: null, value: Buffer.from('a') }] });
    const b = encodeBatch({ baseOffset: 1, records: [{ offsetDelta: 0, timestampDelta: 0, key: null, value: Buffer.from('b') }] });
    const cut = splitEntries(Buffer.concat([a, b.subarray(0, 20)]));
    expect(cut.entries.map((e) => e.offset)).toEqual([0]);
    expect(cut).toMatchObject({ partialBytes: 20, partialEntryBytes: b.length });
    expect(splitEntries(Buffer.concat([a, b.subarray(0, 5)]))).toMatchObject({ partialBytes: 5, partialEntryBytes: null });

    // Magic 3 does not exist (formats v0/v1 are decoded: test/legacyFormats.unit.test.ts).
    const v3 = Buffer.from(a);
    v3.writeInt8(3, 16);
    expect(() => splitEntries(v3)).toThrow('log entry at offset 0: unknown magic 3');
  });

  test('transactions: markers are never records; read_committed drops aborted transactions until their abort marker', async () => {
    const set = Buffer.concat([
      txn(0, 7, ['a0', 'a1']), // producer 7: aborted below
      txn(2, 8, ['c2', 'c3']), // producer 8: committed
      marker(4, 7, 0),
      marker(5, 8, 1),
      encodeBatch({ baseOffset: 6, records: [{ offsetDelta: 0, timestampDelta: 0, key: null, value: Buffer.from('plain6') }] }),
      txn(7, 7, ['n7']), // producer 7 again, a new transaction after its abort marker: committed
      txn(8, 9, ['x8']), // producer 9: aborted, its marker is beyond this fetch
    ]);
    const aborted = [
      { producerId: 9, firstOffset: 8 },
      { producerId: 7, firstOffset: 0 },
    ];
    expect(await visible(set, true, aborted)).toEqual(['2:c2', '3:c3', '6:plain6', '7:n7']);
    expect(await visible(set, false, [])).toEqual(['0:a0', '1:a1', '2:c2', '3:c3', '6:plain6', '7:n7', '8:x8']);
    const entries = await decodeAll(set);
    expect(entries.filter((e) => e.control).map((e) => [e.baseOffset, e.producerId, e.controlType])).toEqual([
      [4, 7, 0],
      [5, 8, 1],
    ]);
  });
});

describe('Fetch responses', () => {
  /** A Fetch response of `version` with two partitions of topic "t" (partition 1 carries aborted transactions). */
  function response(version: number, records: Buffer): Buffer {
    const parts: Buffer[] = [];
    const i16 = (n: number) => {
      const b = Buffer.alloc(2);
      b.writeInt16BE(n);
      parts.push(b);
    };
    const i32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(n);
      parts.push(b);
    };
    const i64 = (n: number) => {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(n));
      parts.push(b);
    };
    i32(0); // throttle
    if (version >= 7) {
      i16(0);
      i32(0);
    }
    i32(1);
    i16(1);
    parts.push(Buffer.from('t'));
    i32(2);
    for (const [partition, aborted, recs] of [
      [0, [], Buffer.from('other')],
      [
        1,
        [
          [5, 10],
          [6, 12],
        ],
        records,
      ],
    ] as [number, number[][], Buffer][]) {
      i32(partition);
      i16(0);
      i64(100); // high watermark
      i64(90); // last stable offset
      if (version >= 5) i64(3);
      i32(aborted.length);
      for (const [p, f] of aborted) {
        i64(p);
        i64(f);
      }
      if (version >= 11) i32(-1);
      i32(recs.length);
      parts.push(recs);
    }
    return Buffer.concat(parts);
  }

  test.each([4, 5, 7, 11])('v%i: the asked partition, its offsets, aborted transactions and record bytes', (version) => {
    const records = randomBytes(33);
    expect(parseFetchResponse(version, response(version, records), 't', 1)).toEqual({
      errorCode: 0,
      highWatermark: 100,
      lastStableOffset: 90,
      logStartOffset: version >= 5 ? 3 : -1,
      abortedTransactions: [
        { producerId: 5, firstOffset: 10 },
        { producerId: 6, firstOffset: 12 },
      ],
      records,
    });
  });

  test('a truncated response, bytes left over and a missing partition fail', () => {
    const full = response(11, Buffer.from('x'));
    expect(() => parseFetchResponse(11, full.subarray(0, full.length - 1), 't', 1)).toThrow(/needs 1 byte\(s\)/);
    expect(() => parseFetchResponse(11, Buffer.concat([full, Buffer.from([0])]), 't', 1)).toThrow(
      'Fetch v11 response: 1 byte(s) left after the last partition',
    );
    expect(() => parseFetchResponse(11, full, 't', 2)).toThrow('Fetch v11 response does not contain t:2');
    expect(() => parseFetchResponse(12, full, 't', 1)).toThrow(/parses v0-v11/);
  });
});
