/**
 * Record batch v2 (magic 2, Kafka 0.11+), decoded for verification:
 *
 *   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
 *   attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 | producerId int64 |
 *   producerEpoch int16 | baseSequence int32 | recordCount int32 | records...
 *
 *   record: length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
 *           key varint-bytes | value varint-bytes | headerCount varint | (key varint-bytes, value varint-bytes)*
 *
 * Strict where Kafka is strict: the CRC-32C (attributes to the end) must match, every record must use exactly
 * its declared length, the batch must hold exactly recordCount records and nothing after them, and a header key
 * cannot be null. Anything else is a DecodeError naming the batch's offset.
 */
import { ByteCursor, DecodeError } from './cursor';
import { crc32cOf } from './crc32c';
import { decompress } from './decompress';
import type { DecodedEntry, VerifiedHeader, VerifiedRecord } from './record';

/** Byte positions inside a v2 batch. */
const AT = {
  baseOffset: 0,
  batchLength: 8,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  recordCount: 57,
  records: 61,
} as const;
export const V2_HEADER_BYTES = AT.records;

const ATTR = { codec: 0x07, logAppendTime: 0x08, transactional: 0x10, control: 0x20 } as const;

const NO_HEADERS: VerifiedHeader[] = [];

/** Decodes the v2 batch stored in entry[0, entry.length). */
export async function decodeBatchV2(entry: Buffer): Promise<DecodedEntry> {
  const head = new ByteCursor(entry, 0, entry.length, 'record batch');
  const baseOffset = head.int64('baseOffset');
  const what = `record batch v2 at offset ${baseOffset}`;
  if (entry.length < V2_HEADER_BYTES) throw new DecodeError(`${what}: ${entry.length} bytes, shorter than the ${V2_HEADER_BYTES}-byte header`);
  const h = new ByteCursor(entry, AT.batchLength, V2_HEADER_BYTES, what);
  const batchLength = h.int32('batchLength');
  if (batchLength !== entry.length - 12) throw new DecodeError(`${what}: batchLength ${batchLength} but the entry holds ${entry.length - 12} bytes after it`);
  h.int32('partitionLeaderEpoch');
  const magic = h.int8('magic');
  if (magic !== 2) throw new DecodeError(`${what}: magic ${magic} handed to the v2 decoder`);
  const storedCrc = h.uint32('crc');
  const computedCrc = crc32cOf(entry, AT.attributes, entry.length);
  if (storedCrc !== computedCrc) {
    throw new DecodeError(`${what}: CRC-32C mismatch (stored ${storedCrc.toString(16)}, computed ${computedCrc.toString(16)}): the batch is corrupt`);
  }
  const attributes = h.int16('attributes');
  const lastOffsetDelta = h.int32('lastOffsetDelta');
  const baseTimestamp = h.int64('baseTimestamp');
  const maxTimestamp = h.int64('maxTimestamp');
  const producerId = h.int64('producerId');
  h.int16('producerEpoch');
  h.int32('baseSequence');
  const recordCount = h.int32('recordCount');
  if (recordCount < 0) throw new DecodeError(`${what}: negative record count ${recordCount}`);

  const logAppendTime = (attributes & ATTR.logAppendTime) !== 0;
  const control = (attributes & ATTR.control) !== 0;
  const body = await decompress(attributes & ATTR.codec, entry.subarray(V2_HEADER_BYTES), what);
  const c = new ByteCursor(body, 0, body.length, what);
  const records: VerifiedRecord[] = new Array(recordCount);
  for (let i = 0; i < recordCount; i++) {
    const length = c.varint('record length');
    if (length < 0) throw new DecodeError(`${what}: record ${i} has negative length ${length}`);
    const recordEnd = c.pos + length;
    if (recordEnd > c.end) throw new DecodeError(`${what}: record ${i} declares ${length} bytes, ${c.remaining} remain`);
    const r = new ByteCursor(body, c.pos, recordEnd, what);
    r.int8('attributes');
    const timestampDelta = r.varlong('timestampDelta');
    const offsetDelta = r.varint('offsetDelta');
    const key = r.varBytes('key');
    const value = r.varBytes('value');
    const headerCount = r.varint('header count');
    if (headerCount < 0) throw new DecodeError(`${what}: record ${i} has negative header count ${headerCount}`);
    let size = (key?.length ?? 0) + (value?.length ?? 0);
    let headers = NO_HEADERS;
    if (headerCount > 0) {
      headers = [];
      for (let j = 0; j < headerCount; j++) {
        const hk = r.varBytes('header key');
        if (hk === null) throw new DecodeError(`${what}: record ${i} header ${j} has a null key`);
        const hv = r.varBytes('header value');
        headers.push({ key: hk, value: hv });
        size += hk.length + (hv?.length ?? 0);
      }
    }
    if (r.remaining !== 0) throw new DecodeError(`${what}: record ${i} declares ${length} bytes but its fields use ${length - r.remaining}`);
    c.pos = recordEnd;
    records[i] = {
      offset: baseOffset + offsetDelta,
      timestamp: logAppendTime ? maxTimestamp : baseTimestamp + timestampDelta,
      key,
      value,
      headers,
      size,
    };
  }
  if (c.remaining !== 0) throw new DecodeError(`${what}: ${c.remaining} byte(s) after its ${recordCount} declared records`);

  // A control record's key: version int16, type int16 (0 abort, 1 commit).
  let controlType: number | null = null;
  if (control && records.length > 0) {
    const k = records[0].key;
    if (!k || k.length < 4) throw new DecodeError(`${what}: control record without a valid key`);
    controlType = k.readInt16BE(2);
  }
  return {
    magic: 2,
    baseOffset,
    lastOffset: baseOffset + lastOffsetDelta,
    producerId,
    transactional: (attributes & ATTR.transactional) !== 0,
    control,
    controlType,
    logAppendTime,
    records,
  };
}
