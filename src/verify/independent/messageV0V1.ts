/**
 * Message formats v0 (magic 0, Kafka 0.8-0.9) and v1 (magic 1, Kafka 0.10), decoded for verification:
 *
 *   offset int64 | messageSize int32 | crc uint32 | magic int8 | attributes int8 | [timestamp int64: v1 only] |
 *   key int32-length bytes | value int32-length bytes        (length -1: null)
 *
 * attributes: bits 0-2 the codec (0 none, 1 gzip, 2 snappy, 3 lz4), bit 3 (v1) LogAppendTime. A compressed
 * message is a wrapper whose value holds a compressed message set of uncompressed inner messages of the same
 * magic; the wrapper's offset is that of its last inner message. Inner offsets are absolute in v0 and relative in
 * v1 (the last inner message sits at the wrapper's offset). With LogAppendTime an inner message's timestamp is the
 * wrapper's. v0 has no timestamp: -1, what Kafka's consumer reports (NO_TIMESTAMP).
 *
 * Strict as Kafka is: the CRC-32 (IEEE, from magic to the end) of the wrapper and of every inner message, the
 * declared sizes, inner magic equal to the wrapper's, no compressed inner message.
 */
import { crc32 } from 'node:zlib';
import { ByteCursor, DecodeError } from './cursor';
import { decompress } from './decompress';
import { decodeLz4Frame } from './lz4Frame';
import type { DecodedEntry, VerifiedRecord } from './record';

const CODEC_BITS = 0x07;
const LOG_APPEND_TIME_BIT = 0x08;
const LZ4 = 3;
const NO_HEADERS: VerifiedRecord['headers'] = [];

interface Message {
  offset: number;
  magic: number;
  codec: number;
  logAppendTime: boolean;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
}

function int32Bytes(c: ByteCursor, field: string): Buffer | null {
  const length = c.int32(`${field} length`);
  if (length === -1) return null;
  if (length < -1) throw new DecodeError(`${c.what}: ${field} has negative length ${length}`);
  return c.take(length, field);
}

/** One message at c's position (its offset field), leaving c after it. */
function readMessage(c: ByteCursor, context: string): Message {
  const offset = c.int64('offset');
  const size = c.int32('message size');
  const what = `${context}message v0/v1 at offset ${offset}`;
  if (size < 14 || size > c.remaining) throw new DecodeError(`${what}: size ${size} but ${c.remaining} byte(s) remain`);
  const m = new ByteCursor(c.buf, c.pos, c.pos + size, what);
  c.pos += size;
  const storedCrc = m.uint32('crc');
  const computedCrc = crc32(c.buf.subarray(m.pos, m.end)) >>> 0;
  if (storedCrc !== computedCrc)
    throw new DecodeError(`${what}: CRC-32 mismatch (stored ${storedCrc.toString(16)}, computed ${computedCrc.toString(16)}): corrupt`);
  const magic = m.int8('magic');
  if (magic !== 0 && magic !== 1) throw new DecodeError(`${what}: magic ${magic} handed to the v0/v1 decoder`);
  const attributes = m.int8('attributes');
  const timestamp = magic === 1 ? m.int64('timestamp') : -1;
  const key = int32Bytes(m, 'key');
  const value = int32Bytes(m, 'value');
  if (m.remaining !== 0) throw new DecodeError(`${what}: ${m.remaining} byte(s) after the value`);
  return { offset, magic, codec: attributes & CODEC_BITS, logAppendTime: magic === 1 && (attributes & LOG_APPEND_TIME_BIT) !== 0, timestamp, key, value };
}

function record(m: Message, offset: number, timestamp: number): VerifiedRecord {
  return { offset, timestamp, key: m.key, value: m.value, headers: NO_HEADERS, size: (m.key?.length ?? 0) + (m.value?.length ?? 0) };
}

/** Decodes the v0/v1 log entry stored in entry[0, entry.length). */
export async function decodeMessageV0V1(entry: Buffer): Promise<DecodedEntry> {
  const c = new ByteCursor(entry, 0, entry.length, 'log entry');
  const wrapper = readMessage(c, '');
  if (c.remaining !== 0) throw new DecodeError(`message at offset ${wrapper.offset}: ${c.remaining} byte(s) after it in its entry`);
  const decoded: DecodedEntry = {
    magic: wrapper.magic,
    baseOffset: wrapper.offset,
    lastOffset: wrapper.offset,
    producerId: -1,
    transactional: false,
    control: false,
    controlType: null,
    logAppendTime: wrapper.logAppendTime,
    records: [],
  };
  if (wrapper.codec === 0) {
    decoded.records = [record(wrapper, wrapper.offset, wrapper.timestamp)];
    return decoded;
  }
  const what = `compressed message v${wrapper.magic} at offset ${wrapper.offset}`;
  if (wrapper.value === null) throw new DecodeError(`${what}: no value`);
  const set = wrapper.codec === LZ4 ? decodeLz4Frame(wrapper.value, what) : await decompress(wrapper.codec, wrapper.value, what);
  const inner: Message[] = [];
  const ic = new ByteCursor(set, 0, set.length, what);
  while (ic.remaining > 0) {
    const m = readMessage(ic, `${what}: inner `);
    if (m.magic !== wrapper.magic) throw new DecodeError(`${what}: inner message at ${m.offset} has magic ${m.magic}`);
    if (m.codec !== 0) throw new DecodeError(`${what}: inner message at ${m.offset} is compressed again`);
    inner.push(m);
  }
  if (inner.length === 0) return decoded;
  const last = inner[inner.length - 1].offset;
  decoded.records = inner.map((m) =>
    record(m, wrapper.magic === 0 ? m.offset : wrapper.offset + (m.offset - last), wrapper.logAppendTime ? wrapper.timestamp : m.timestamp),
  );
  decoded.baseOffset = decoded.records[0].offset;
  return decoded;
}
