/**
 * Produce requests (v3-v7) carrying record batches we encoded ourselves (`encodeRecordBatch`), sent over a
 * kafkajs broker connection. Partition-level errors are returned, not thrown.
 */
import { apiKeys, negotiatedVersion, type InternalBroker, type ProtocolRequest } from './kafkaInternals';

export interface ProducePartitionData {
  partition: number;
  batch: Buffer;
}

export interface ProducePartitionResult {
  topic: string;
  partition: number;
  errorCode: number;
  baseOffset: number;
}

function int16(v: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeInt16BE(v);
  return b;
}
function int32(v: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(v);
  return b;
}
function kafkaString(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([int16(bytes.length), bytes]);
}

function encodeProduceRequest(acks: number, timeoutMs: number, topics: Map<string, ProducePartitionData[]>): Buffer {
  const parts: Buffer[] = [int16(-1) /* null transactional id */, int16(acks), int32(timeoutMs), int32(topics.size)];
  for (const [topic, partitions] of topics) {
    parts.push(kafkaString(topic), int32(partitions.length));
    for (const p of partitions) parts.push(int32(p.partition), int32(p.batch.length), p.batch);
  }
  return Buffer.concat(parts);
}

function decodeProduceResponse(version: number, buf: Buffer): ProducePartitionResult[] {
  let pos = 0;
  const results: ProducePartitionResult[] = [];
  for (let t = buf.readInt32BE((pos += 4) - 4); t > 0; t--) {
    const len = buf.readInt16BE(pos);
    const topic = buf.toString('utf8', pos + 2, pos + 2 + len);
    pos += 2 + len;
    for (let p = buf.readInt32BE((pos += 4) - 4); p > 0; p--) {
      const partition = buf.readInt32BE(pos);
      const errorCode = buf.readInt16BE(pos + 4);
      const baseOffset = Number(buf.readBigInt64BE(pos + 6));
      pos += 4 + 2 + 8 + 8 + (version >= 5 ? 8 : 0); // + log append time (+ log start offset)
      results.push({ topic, partition, errorCode, baseOffset });
    }
  }
  return results;
}

/** One Produce round trip (acks=all) to the leader of every partition in `topics`. */
export async function sendProduce(broker: InternalBroker, topics: Map<string, ProducePartitionData[]>, timeoutMs: number): Promise<ProducePartitionResult[]> {
  const version = negotiatedVersion(broker, apiKeys.Produce, 3, 7);
  const body = encodeProduceRequest(-1, timeoutMs, topics);
  const protocol: ProtocolRequest = {
    request: {
      apiKey: apiKeys.Produce,
      apiVersion: version,
      apiName: 'Produce',
      expectResponse: () => true,
      // Stands in for a kafkajs Encoder: Encoder#writeEncoder checks `buf` and copies `buffer`.
      encode: async () => ({ buf: body, buffer: body }),
    },
    response: {
      decode: async (payload: Buffer) => decodeProduceResponse(version, payload),
      parse: async (data: unknown) => data,
    },
    requestTimeout: timeoutMs + 5000,
  };
  return (await broker.connectionPool.send(protocol)) as ProducePartitionResult[];
}
