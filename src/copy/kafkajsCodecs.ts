/**
 * Teaches kafkajs' consumers to read snappy, lz4 and zstd batches with our decoders. The copy engine decodes
 * batches itself, but the write-fence store (src/verify/topicRangeReader.ts), the inventory's tail sampling and the
 * preflight record sampler read through kafkajs consumers, whose registry only knows gzip.
 */
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { CODEC_NAMES, decompressRecords, fixLegacyLz4HeaderChecksum } from './compressionCodecs';

/** kafkajs' codec shape: compress(Encoder) for producers, decompress(Buffer) for consumers. */
interface KafkajsCodec {
  compress(encoder: unknown): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

function readOnlyCodec(codec: number): KafkajsCodec {
  return {
    // kafka-migrate writes uncompressed batches only; producing with this codec is a programming error.
    compress: () => Promise.reject(new Error(`kafka-migrate reads ${CODEC_NAMES[codec]} batches but does not produce them: send uncompressed`)),
    decompress: async (buffer) => {
      const where = `kafkajs ${CODEC_NAMES[codec]} record batch`;
      try {
        return await decompressRecords(codec, buffer, where);
      } catch (e) {
        // kafkajs does not tell the message format: an lz4 message of format v0 (Kafka 0.8-0.9) has the era's wrong
        // frame header checksum, which Kafka's own reader ignores for magic 0.
        if (codec !== CompressionTypes.LZ4 || !/HeaderChecksum/i.test((e as Error).message)) throw e;
        return decompressRecords(codec, fixLegacyLz4HeaderChecksum(buffer, where), where);
      }
    },
  };
}

/** Idempotent; call once per process before any kafkajs consumer reads a compressed topic. */
export function registerKafkajsCodecs(): void {
  for (const type of [CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD] as const) {
    const codec = readOnlyCodec(type);
    CompressionCodecs[type] = () => codec;
  }
}
