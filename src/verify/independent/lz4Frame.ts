/**
 * An LZ4 frame reader in plain TypeScript for the verification decoder's message format v0/v1 entries. Magic 0
 * (Kafka 0.8-0.9) wrote the frame's header checksum wrongly (over the magic number too, KAFKA-3160) and Kafka's
 * reader ignores it for magic 0, so standard decoders that check it refuse such frames. This reader checks no
 * frame checksum at all: the message's own CRC-32 already covers the compressed bytes. It shares nothing with the
 * copy engine, which fixes the checksum up and calls lz4-napi (src/copy/compressionCodecs.ts).
 *
 *   magic 0x184D2204 (LE) | FLG | BD | [content size u64] | [dict id u32] | HC |
 *   blocks: size u32 LE (high bit: stored uncompressed; 0: end mark) | data | [block checksum u32] | [content checksum u32]
 */
import { DecodeError } from './cursor';

const MAGIC = 0x184d2204;
const FLG_CONTENT_SIZE = 0x08;
const FLG_DICT_ID = 0x01;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_CHECKSUM = 0x04;
const BLOCK_MAX_BYTES: Record<number, number> = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 };

/** Decodes one LZ4 block (the sequence format) into out[0, ...); returns the decoded length. */
function decodeBlock(src: Buffer, from: number, to: number, out: Buffer, what: string): number {
  let ip = from;
  let op = 0;
  const byte = (): number => {
    if (ip >= to) throw new DecodeError(`${what}: lz4 block ends inside a sequence`);
    return src[ip++];
  };
  while (ip < to) {
    const token = byte();
    let literals = token >>> 4;
    if (literals === 15) for (let b = 255; b === 255; literals += b) b = byte();
    if (ip + literals > to || op + literals > out.length) throw new DecodeError(`${what}: lz4 literals run past the block`);
    src.copy(out, op, ip, ip + literals);
    ip += literals;
    op += literals;
    if (ip === to) break; // the last sequence has literals only
    const distance = byte() | (byte() << 8);
    if (distance === 0 || distance > op) throw new DecodeError(`${what}: lz4 match distance ${distance} outside the ${op} bytes decoded`);
    let length = token & 15;
    if (length === 15) for (let b = 255; b === 255; length += b) b = byte();
    length += 4;
    if (op + length > out.length) throw new DecodeError(`${what}: lz4 match runs past the block's maximum size`);
    for (let i = 0; i < length; i++, op++) out[op] = out[op - distance];
  }
  return op;
}

export function decodeLz4Frame(data: Buffer, what: string): Buffer {
  if (data.length < 7 || data.readUInt32LE(0) !== MAGIC) throw new DecodeError(`${what}: lz4 data is not an LZ4 frame`);
  const flg = data[4];
  const maxBlock = BLOCK_MAX_BYTES[(data[5] >>> 4) & 7];
  if (maxBlock === undefined) throw new DecodeError(`${what}: lz4 frame with an invalid block size in BD ${data[5]}`);
  let at = 6 + (flg & FLG_CONTENT_SIZE ? 8 : 0) + (flg & FLG_DICT_ID ? 4 : 0) + 1; // + HC
  const parts: Buffer[] = [];
  for (;;) {
    if (at + 4 > data.length) throw new DecodeError(`${what}: lz4 frame ends without an end mark`);
    const word = data.readUInt32LE(at);
    at += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (at + size > data.length) throw new DecodeError(`${what}: lz4 block of ${size} bytes runs past the frame`);
    if (word & 0x80000000) {
      parts.push(data.subarray(at, at + size));
    } else {
      const out = Buffer.allocUnsafe(maxBlock);
      parts.push(out.subarray(0, decodeBlock(data, at, at + size, out, what)));
    }
    at += size + (flg & FLG_BLOCK_CHECKSUM ? 4 : 0);
  }
  at += flg & FLG_CONTENT_CHECKSUM ? 4 : 0;
  if (at !== data.length) throw new DecodeError(`${what}: ${data.length - at} byte(s) after the lz4 frame`);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}
