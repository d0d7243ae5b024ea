/**
 * Message format v0 (Kafka 0.8-0.9) and v1 (0.10) log entries, decoded into the same batches as record batches v2,
 * so that the copy engine moves them like any other records (the target always gets v2 batches):
 *
 *   offset int64 | messageSize int32 | crc uint32 | magic int8 | attributes int8 | [timestamp int64, v1] |
 *   key int32-bytes | value int32-bytes
 *
 * attributes & 7 is the codec; & 8 (v1) LogAppendTime. A compressed message is a wrapper: its value is the
 * compressed message set of inner messages and its offset is the last inner one's. Inner offsets are absolute in
 * v0 and relative in v1 (absolute = wrapper offset - last inner relative offset + inner relative offset). Inner
 * timestamps are their own with CreateTime and the wrapper's with LogAppendTime, as Kafka's consumer reports them.
 * v0 has no timestamp: -1 (NO_TIMESTAMP), which a modern consumer of the source sees too (docs/DESIGN.md).
 */
import { decompressLegacyMessage } from './compressionCodecs';
import { NO_HEADERS, type KafkaRecord } from './kafkaRecord';
import type { DecodedBatch } from './recordBatchCodec';

const CODEC_MASK = 0x07;
const LOG_APPEND_TIME_MASK = 0x08;
const LOG_OVERHEAD = 12;
const NO_TIMESTAMP = -1;

interface LegacyMessage {
  offset: number;
  magic: number;
  attributes: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
}

function sizedBytes(buf: Buffer, pos: number, end: number, what: string): { bytes: Buffer | null; next: number } {
  if (pos + 4 > end) throw new Error(`${what}: ends inside a length field`);
  const len = buf.readInt32BE(pos);
  if (len < 0) return { bytes: null, next: pos + 4 };
  if (pos + 4 + len > end) throw new Error(`${what}: a field of ${len} bytes runs past the message's end`);
  return { bytes: buf.subarray(pos + 4, pos + 4 + len), next: pos + 4 + len };
}

/** The message stored in buf[start, end) (start at its offset field). */
function readMessage(buf: Buffer, start: number, end: number): LegacyMessage {
  const offset = Number(buf.readBigInt64BE(start));
  const what = `message at offset ${offset}`;
  const magic = buf.readInt8(start + 16);
  const attributes = buf.readInt8(start + 17);
  let pos = start + 18;
  let timestamp = NO_TIMESTAMP;
  if (magic === 1) {
    if (pos + 8 > end) throw new Error(`${what}: ends inside its timestamp`);
    timestamp = Number(buf.readBigInt64BE(pos));
    pos += 8;
  }
  const key = sizedBytes(buf, pos, end, what);
  const value = sizedBytes(buf, key.next, end, what);
  if (value.next !== end) throw new Error(`${what}: ${end - value.next} byte(s) after its value`);
  return { offset, magic, attributes, timestamp, key: key.bytes, value: value.bytes };
}

function toRecord(m: LegacyMessage, offset: number, timestamp: number): KafkaRecord {
  return { offset, timestamp, key: m.key, value: m.value, headers: NO_HEADERS, size: (m.key?.length ?? 0) + (m.value?.length ?? 0) };
}

/** The messages of an (uncompressed) message set, all of them whole. */
function splitMessages(buf: Buffer, what: string): LegacyMessage[] {
  const out: LegacyMessage[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (pos + LOG_OVERHEAD + 6 > buf.length) throw new Error(`${what}: inner message set ends inside a message header`);
    const end = pos + LOG_OVERHEAD + buf.readInt32BE(pos + 8);
    if (end > buf.length) throw new Error(`${what}: inner message at byte ${pos} runs past the wrapper's value`);
    out.push(readMessage(buf, pos, end));
    pos = end;
  }
  return out;
}

/** Decodes the v0/v1 log entry stored in buf[start, end). */
export async function decodeLegacyEntry(buf: Buffer, start: number, end: number): Promise<DecodedBatch> {
  const wrapper = readMessage(buf, start, end);
  const logAppendTime = wrapper.magic === 1 && (wrapper.attributes & LOG_APPEND_TIME_MASK) !== 0;
  const codec = wrapper.attributes & CODEC_MASK;
  const batch: DecodedBatch = {
    baseOffset: wrapper.offset,
    lastOffset: wrapper.offset,
    producerId: -1,
    isTransactional: false,
    isControl: false,
    logAppendTime,
    isAbortMarker: false,
    records: [],
  };
  if (codec === 0) {
    batch.records = [toRecord(wrapper, wrapper.offset, wrapper.timestamp)];
    return batch;
  }
  const where = `compressed message (format v${wrapper.magic}) at offset ${wrapper.offset}`;
  if (wrapper.value === null) throw new Error(`${where}: a compressed wrapper without a value`);
  const inner = splitMessages(await decompressLegacyMessage(codec, wrapper.magic, wrapper.value, where), where);
  if (inner.length === 0) return batch;
  // v1: relative offsets, the last one at the wrapper's offset; v0: absolute offsets as the broker assigned them.
  const base = wrapper.magic === 1 ? wrapper.offset - inner[inner.length - 1].offset : 0;
  batch.records = inner.map((m) => toRecord(m, base + m.offset, logAppendTime ? wrapper.timestamp : m.timestamp));
  batch.baseOffset = batch.records[0].offset;
  return batch;
}
