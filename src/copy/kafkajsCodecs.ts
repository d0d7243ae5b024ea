/**
 * Teaches kafkajs' consumers to read snappy, lz4 and zstd batches with our decoders. The copy engine decodes
 * batches itself, but the write-fence store (src/verify/topicRangeReader.ts), the inventory's tail sampling and the
 * preflight record sampler read through kafkajs consumers, whose registry only knows gzip.
 */
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { CODEC_NAMES, decompressRecords } from './compressionCodecs';

/** kafkajs' codec shape: compress(Encoder) for producers, decompress(Buffer) for consumers. */
interface KafkajsCodec {
  compress(encoder: unknown): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

function readOnlyCodec(codec: number): KafkajsCodec {
  return {
    // kafka-migrate writes uncompressed batches only; producing with this codec is a programming error.
    compress: () => Promise.reject(new Error(`kafka-migrate reads ${CODEC_NAMES[codec]} batches but does not produce them: send uncompressed`)),
    decompress: async (buffer) => decompressRecords(codec, buffer, `kafkajs ${CODEC_NAMES[codec]} record batch`),
  };
}

/** Idempotent; call once per process before any kafkajs consumer reads a compressed topic. */
export function registerKafkajsCodecs(): void {
  for (const type of [CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD] as const) {
    const codec = readOnlyCodec(type);
    CompressionCodecs[type] = () => codec;
  }
}
