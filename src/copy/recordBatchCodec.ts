/**
 * Kafka record batches (magic 2; message formats v0/v1 are decoded into the same shape by legacyMessageCodec.ts) decoded and encoded without kafkajs' per-record objects: keys, values and
 * headers stay byte slices of the fetched buffer, header order and duplicate keys are kept, and batch
 * boundaries (needed to step over control batches and fully-compacted batches) are visible.
 */
import { decompressRecords } from './compressionCodecs';
import { crc32c } from './crc32c';
import { decodeLegacyEntry } from './legacyMessageCodec';
import { NO_HEADERS, type KafkaRecord, type RecordHeader } from './kafkaRecord';

const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE_MASK = 0x08;
const TRANSACTIONAL_MASK = 0x10;
const CONTROL_MASK = 0x20;
const BATCH_HEADER_BYTES = 61; // baseOffset .. recordCount
const LOG_OVERHEAD = 12; // baseOffset + batchLength

export interface DecodedBatch {
  baseOffset: number;
  lastOffset: number;
  producerId: number;
  isTransactional: boolean;
  isControl: boolean;
  logAppendTime: boolean;
  /** For a control batch: true when it is an abort marker. */
  isAbortMarker: boolean;
  records: KafkaRecord[];
}

type RecordFault = (record: KafkaRecord) => KafkaRecord;
let testDecodeFault: RecordFault | undefined;

/**
 * TEST-ONLY (test/verify.decoderFault.test.ts): makes this decoder pass every data record it decodes through
 * `fault` (e.g. drop a header), a symmetric decoder bug of the copy engine, to prove that verification, which
 * decodes both sides with its own code (src/verify/independent), reports it. Refused outside jest; undefined
 * removes it.
 */
export function setDecodeFaultForTests(fault: RecordFault | undefined): void {
  if (fault && process.env.JEST_WORKER_ID === undefined) throw new Error('setDecodeFaultForTests is a test-only hook (jest)');
  testDecodeFault = fault;
}

/** Cursor over a buffer with Kafka's varint encodings. */
class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
  ) {}

  varint(): number {
    let value = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = this.buf[this.pos++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    // zig-zag
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
  }

  bytes(): Buffer | null {
    const len = this.varint();
    if (len < 0) return null;
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
}

function readInt64(buf: Buffer, pos: number): number {
  return Number(buf.readBigInt64BE(pos));
}

/** The smallest entry of each message format, from its offset field on (v0/v1: a message with null key and value). */
const MIN_ENTRY_BYTES: Readonly<Record<number, number>> = { 0: LOG_OVERHEAD + 14, 1: LOG_OVERHEAD + 22, 2: BATCH_HEADER_BYTES };

/**
 * Decodes the log entries of one partition's fetched record set: record batches (v2) and messages of formats v0/v1
 * (src/copy/legacyMessageCodec.ts), which may alternate in one partition (a topic whose format was upgraded). A
 * truncated entry at the end (fetch size limits cut it) is left out; `partialBytes` counts its bytes.
 */
export async function decodeRecordSet(buf: Buffer): Promise<{ batches: DecodedBatch[]; partialBytes: number }> {
  const batches: DecodedBatch[] = [];
  let pos = 0;
  while (pos + LOG_OVERHEAD <= buf.length) {
    const size = buf.readInt32BE(pos + 8);
    const end = pos + LOG_OVERHEAD + size;
    if (end > buf.length) break;
    const magic = end > pos + 16 ? buf.readInt8(pos + 16) : -1;
    const min = MIN_ENTRY_BYTES[magic];
    if (min === undefined || end - pos < min) {
      throw new Error(
        `log entry at offset ${readInt64(buf, pos)}: ${size} bytes with magic ${magic}: not a Kafka message format (v0, v1 or v2); the record set is corrupt`,
      );
    }
    const batch = magic === 2 ? await decodeBatch(buf, pos, end) : await decodeLegacyEntry(buf, pos, end);
    if (testDecodeFault && magic !== 2) batch.records = batch.records.map(testDecodeFault);
    batches.push(batch);
    pos = end;
  }
  return { batches, partialBytes: buf.length - pos };
}

async function decodeBatch(buf: Buffer, start: number, end: number): Promise<DecodedBatch> {
  const baseOffset = readInt64(buf, start);
  const attributes = buf.readInt16BE(start + 21);
  const lastOffsetDelta = buf.readInt32BE(start + 23);
  const baseTimestamp = readInt64(buf, start + 27);
  const maxTimestamp = readInt64(buf, start + 35);
  const producerId = readInt64(buf, start + 43);
  const count = buf.readInt32BE(start + 57);
  const logAppendTime = (attributes & TIMESTAMP_TYPE_MASK) !== 0;
  const isControl = (attributes & CONTROL_MASK) !== 0;

  let records = buf.subarray(start + BATCH_HEADER_BYTES, end);
  const compression = attributes & COMPRESSION_MASK;
  if (compression !== 0) records = await decompressRecords(compression, records, `record batch at offset ${baseOffset}`);

  const out: KafkaRecord[] = new Array(count);
  const r = new Reader(records, 0);
  for (let i = 0; i < count; i++) {
    r.varint(); // record length
    r.pos++; // record attributes (unused)
    const timestampDelta = r.varint();
    const offsetDelta = r.varint();
    const key = r.bytes();
    const value = r.bytes();
    const headerCount = r.varint();
    let size = (key?.length ?? 0) + (value?.length ?? 0);
    let headers = NO_HEADERS;
    if (headerCount > 0) {
      headers = new Array<RecordHeader>(headerCount);
      for (let h = 0; h < headerCount; h++) {
        const hk = r.bytes() ?? Buffer.alloc(0);
        const hv = r.bytes();
        headers[h] = { key: hk, value: hv };
        size += hk.length + (hv?.length ?? 0);
      }
    }
    out[i] = {
      offset: baseOffset + offsetDelta,
      timestamp: logAppendTime ? maxTimestamp : baseTimestamp + timestampDelta,
      key,
      value,
      headers,
      size,
    };
  }
  if (testDecodeFault && !isControl) for (let i = 0; i < count; i++) out[i] = testDecodeFault(out[i]);
  // Control record key: version (int16) + type (int16, 0 = abort, 1 = commit).
  const controlKey = isControl ? out[0]?.key : null;
  return {
    baseOffset,
    lastOffset: baseOffset + lastOffsetDelta,
    producerId,
    isTransactional: (attributes & TRANSACTIONAL_MASK) !== 0,
    isControl,
    logAppendTime,
    isAbortMarker: !!controlKey && controlKey.length >= 4 && controlKey.readInt16BE(2) === 0,
    records: out,
  };
}

function varintSize(value: number): number {
  let v = value >= 0 ? value * 2 : -value * 2 - 1; // zig-zag
  let size = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    size++;
  }
  return size;
}

/** Writes zig-zag varints and byte fields into a preallocated buffer. */
class Writer {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  varint(value: number): void {
    let v = value >= 0 ? value * 2 : -value * 2 - 1;
    while (v >= 128) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  bytes(b: Buffer | null): void {
    if (b === null) {
      this.varint(-1);
      return;
    }
    this.varint(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }
}

function bytesSize(b: Buffer | null): number {
  return b === null ? 1 : varintSize(b.length) + b.length;
}

export interface ProducerIdentity {
  producerId: number;
  producerEpoch: number;
}

/**
 * One uncompressed, non-transactional, CreateTime record batch of records[from, to) for an idempotent
 * producer, timestamps as given (the source's). Returns the batch bytes as the Produce request carries them.
 */
export function encodeRecordBatch(records: KafkaRecord[], from: number, to: number, producer: ProducerIdentity, baseSequence: number): Buffer {
  const n = to - from;
  const baseTimestamp = records[from].timestamp;
  let maxTimestamp = baseTimestamp;
  for (let i = from + 1; i < to; i++) {
    const t = records[i].timestamp;
    if (t > maxTimestamp) maxTimestamp = t;
  }
  // Kafka's producer uses the first record's timestamp as the base; deltas may be negative.
  const bodySizes = new Array<number>(n);
  let total = BATCH_HEADER_BYTES;
  for (let i = 0; i < n; i++) {
    const rec = records[from + i];
    let body = 1 + varintSize(rec.timestamp - baseTimestamp) + varintSize(i) + bytesSize(rec.key) + bytesSize(rec.value) + varintSize(rec.headers.length);
    for (const h of rec.headers) body += bytesSize(h.key) + bytesSize(h.value);
    bodySizes[i] = body;
    total += varintSize(body) + body;
  }
  const buf = Buffer.allocUnsafe(total);
  buf.writeBigInt64BE(0n, 0); // base offset: assigned by the broker
  buf.writeInt32BE(total - LOG_OVERHEAD, 8);
  buf.writeInt32BE(-1, 12); // partition leader epoch
  buf.writeInt8(2, 16); // magic
  // crc at 17, written last
  buf.writeInt16BE(0, 21); // attributes: no compression, CreateTime, not transactional, not control
  buf.writeInt32BE(n - 1, 23);
  buf.writeBigInt64BE(BigInt(baseTimestamp), 27);
  buf.writeBigInt64BE(BigInt(maxTimestamp), 35);
  buf.writeBigInt64BE(BigInt(producer.producerId), 43);
  buf.writeInt16BE(producer.producerEpoch, 51);
  buf.writeInt32BE(baseSequence, 53);
  buf.writeInt32BE(n, 57);
  const w = new Writer(buf);
  w.pos = BATCH_HEADER_BYTES;
  for (let i = 0; i < n; i++) {
    const rec = records[from + i];
    w.varint(bodySizes[i]);
    buf[w.pos++] = 0; // record attributes
    w.varint(rec.timestamp - baseTimestamp);
    w.varint(i);
    w.bytes(rec.key);
    w.bytes(rec.value);
    w.varint(rec.headers.length);
    for (const h of rec.headers) {
      w.bytes(h.key);
      w.bytes(h.value);
    }
  }
  buf.writeUInt32BE(crc32c(buf, 21, total), 17);
  return buf;
}

/** Encoded size of a record in a batch, near enough for batching under max.message.bytes. */
export function encodedSizeEstimate(rec: KafkaRecord): number {
  return rec.size + 24 + rec.headers.length * 4;
}
