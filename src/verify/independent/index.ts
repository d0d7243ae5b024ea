/**
 * The verification decoder: reads partitions for verification with code that shares nothing with the copy
 * engine's fetch decoder, record-batch decoder, decompression wrapper, CRC or transaction filter, so that a
 * decoder bug in the copy engine (a field dropped or altered on read) cannot hide by happening on both sides of
 * a comparison. Only the transport (kafkajs' cluster, connections and request encoding, through
 * src/copy/kafkaInternals.ts) and the compression libraries are shared. See docs/DESIGN.md, verification.
 *
 *   cursor.ts          bounds-checked reads, zig-zag varints/varlongs
 *   crc32c.ts          CRC-32C
 *   decompress.ts      gzip, snappy (raw and xerial-framed), lz4 frame, zstd
 *   batchV2.ts         record batch v2
 *   messageV0V1.ts     message formats v0/v1 (plain and compressed wrappers), CRC-32 checked
 *   lz4Frame.ts        LZ4 frames of v0/v1 wrappers (own block decoder; magic 0's broken header checksum)
 *   logEntries.ts      splitting a record set into entries, dispatch by magic
 *   committedFilter.ts control batches, aborted transactions (read_committed)
 *   fetch.ts           Fetch v0-v11 response parsing, one partition per request
 *   readRange.ts       pull-based reading of [from, to) of one partition
 */
import type { VerificationDecoder } from '../../types/verify';

export { readRange, OffsetOutOfRangeError, type RangeSpec, type ReadRangeOptions } from './readRange';
export { ISOLATION } from './fetch';
export type { VerifiedRecord, VerifiedHeader, DecodedEntry } from './record';

/** What verification reports as the decoder it read both sides with. */
export const VERIFICATION_DECODER: VerificationDecoder = {
  id: 'independent',
  formats: ['v0', 'v1', 'v2'],
  description:
    'verification decoder (src/verify/independent): own Fetch response parser, record batch v2 decoder with CRC-32C check, message v0/v1 decoder with CRC-32 check, ' +
    'decompression framing and read_committed filter; shares no decoding code with the copy engine',
};
