/**
 * Splits a partition's fetched record set into log entries and decodes each with the decoder of its format.
 *
 * Every format starts with offset int64 and size int32 (the bytes that follow), and keeps the magic byte at
 * position 16, so entries are split and dispatched the same way whatever the format:
 *   v2 (record batch):  offset | batchLength | partitionLeaderEpoch int32 | magic | ...   (src/verify/independent/batchV2.ts)
 *   v0/v1 (message):    offset | messageSize | crc int32 | magic | attributes | ...
 * Message formats v0/v1 (before Kafka 0.11, src/verify/independent/messageV0V1.ts) may alternate with v2 batches in
 * one partition (a topic whose format was upgraded).
 *
 * A fetch response may end inside an entry (size limits): that entry is left out and counted in partialBytes.
 */
import { decodeBatchV2, V2_HEADER_BYTES } from './batchV2';
import { DecodeError } from './cursor';
import { decodeMessageV0V1 } from './messageV0V1';
import type { DecodedEntry } from './record';

/** offset int64 + size int32 */
export const ENTRY_OVERHEAD = 12;
const MAGIC_AT = 16;

type EntryDecoder = (entry: Buffer) => Promise<DecodedEntry>;

const DECODERS: Record<number, EntryDecoder> = {
  0: decodeMessageV0V1,
  1: decodeMessageV0V1,
  2: decodeBatchV2,
};

/** The smallest well-formed entry of each format (from the start of the offset field). */
const MIN_ENTRY_BYTES: Record<number, number> = { 0: ENTRY_OVERHEAD + 14, 1: ENTRY_OVERHEAD + 22, 2: V2_HEADER_BYTES };

export interface RawEntry {
  /** The entry's first offset as stored (a v2 batch's base offset). */
  offset: number;
  magic: number;
  bytes: Buffer;
}

/**
 * The whole entries of a record set, in order; partialBytes: the bytes of a cut entry at its end, and
 * partialEntryBytes its full size when the cut bytes tell it (null otherwise).
 */
export function splitEntries(records: Buffer): { entries: RawEntry[]; partialBytes: number; partialEntryBytes: number | null } {
  const entries: RawEntry[] = [];
  let at = 0;
  while (records.length - at >= MAGIC_AT + 1) {
    const size = records.readInt32BE(at + 8);
    const offset = Number(records.readBigInt64BE(at));
    const magic = records.readInt8(at + MAGIC_AT);
    const min = MIN_ENTRY_BYTES[magic];
    if (min === undefined) throw new DecodeError(`log entry at offset ${offset}: unknown magic ${magic} (the record set is corrupt)`);
    if (ENTRY_OVERHEAD + size < min) throw new DecodeError(`log entry at offset ${offset}: size ${size} is below the minimum of a format v${magic} entry`);
    const end = at + ENTRY_OVERHEAD + size;
    if (end > records.length) return { entries, partialBytes: records.length - at, partialEntryBytes: ENTRY_OVERHEAD + size };
    entries.push({ offset, magic, bytes: records.subarray(at, end) });
    at = end;
  }
  const rest = records.length - at;
  return { entries, partialBytes: rest, partialEntryBytes: rest >= ENTRY_OVERHEAD ? ENTRY_OVERHEAD + records.readInt32BE(at + 8) : null };
}

export async function decodeEntry(raw: RawEntry): Promise<DecodedEntry> {
  const decode = DECODERS[raw.magic];
  if (!decode) throw new DecodeError(`log entry at offset ${raw.offset}: unknown message format v${raw.magic}`);
  return decode(raw.bytes);
}
