/**
 * Decompression for the verification decoder. The codec libraries are the ones Kafka's formats need (zlib,
 * snappy, lz4-napi, @mongodb-js/zstd); the framing around them is handled here, apart from the copy engine's
 * wrapper (src/copy/compressionCodecs.ts), so a framing bug there cannot hide in verification.
 *
 * Codec ids are Kafka's (attributes & 7): 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd.
 */
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { decompress as zstd } from '@mongodb-js/zstd';
import { decompressFrameSync as lz4Frame } from 'lz4-napi';
import { uncompressSync as snappyRaw } from 'snappy';
import { DecodeError } from './cursor';

const gunzipAsync = promisify(gunzip);

export const CODEC = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
const NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export function codecName(id: number): string {
  return NAMES[id] ?? `unknown codec ${id}`;
}

/**
 * snappy-java's stream framing (what the Java producer writes): an 16-byte header — the 8 bytes
 * 0x82 "SNAPPY" 0x00, then two int32 versions — followed by blocks of [int32 length][raw snappy]. Streams may be
 * concatenated (each repeats the header). Data without the header is a single raw snappy block (librdkafka,
 * Go clients), which is how snappy-java's SnappyInputStream reads it too.
 */
const XERIAL_HEADER = Buffer.from('82534e4150505900', 'hex');
const XERIAL_HEADER_LENGTH = 16;

function hasXerialHeader(data: Buffer, at: number): boolean {
  if (data.length - at < XERIAL_HEADER_LENGTH) return false;
  for (let i = 0; i < XERIAL_HEADER.length; i++) if (data[at + i] !== XERIAL_HEADER[i]) return false;
  return true;
}

function snappyRawBlock(block: Buffer): Buffer {
  const out = snappyRaw(block, { asBuffer: true });
  return Buffer.isBuffer(out) ? out : Buffer.from(out);
}

function unsnappy(data: Buffer, what: string): Buffer {
  if (!hasXerialHeader(data, 0)) return snappyRawBlock(data);
  const parts: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    if (hasXerialHeader(data, at)) {
      at += XERIAL_HEADER_LENGTH;
      continue;
    }
    if (data.length - at < 4) throw new DecodeError(`${what}: snappy stream cut inside a block length (byte ${at} of ${data.length})`);
    const n = data.readUInt32BE(at);
    at += 4;
    if (n > data.length - at) throw new DecodeError(`${what}: snappy block at byte ${at - 4} declares ${n} bytes, ${data.length - at} remain`);
    parts.push(snappyRawBlock(data.subarray(at, at + n)));
    at += n;
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/** The uncompressed bytes of a batch's records section. */
export async function decompress(codec: number, data: Buffer, what: string): Promise<Buffer> {
  if (codec === CODEC.none) return data;
  try {
    switch (codec) {
      case CODEC.gzip:
        return await gunzipAsync(data);
      case CODEC.snappy:
        return unsnappy(data, what);
      case CODEC.lz4:
        // Magic 2 uses the standard LZ4 frame format (KIP-57). (Magic 0 wrote a wrong header checksum: a
        // v0 decoder must fix it up before calling this.)
        return lz4Frame(data);
      case CODEC.zstd:
        return await zstd(data);
    }
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError(`${what}: ${codecName(codec)} decompression failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  throw new DecodeError(`${what}: compression codec ${codec} is not one Kafka defines (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd)`);
}
