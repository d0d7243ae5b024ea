/** Test data on the source, written as the super-user (PLAINTEXT listener). */
import { createTopicsReady } from '../../src/kafka/topicsReady';
import { sourceAdminKafka } from './stack';

export async function createOnSource(topic: string, partitions = 1, configEntries: { name: string; value: string }[] = []): Promise<void> {
  const admin = sourceAdminKafka().admin();
  await admin.connect();
  try {
    await createTopicsReady(admin, [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries }]);
  } finally {
    await admin.disconnect();
  }
}

export interface ProduceOptions {
  /** Records go round-robin over this many partitions (default 1). */
  partitions?: number;
  /** Pads each value with this many bytes. */
  bytes?: number;
  /** Value prefix (default 'r'): values are `${tag}${i}`. */
  tag?: string;
  /** Records per send, so per record batch and partition (default 100). */
  perSend?: number;
}

/** `count` keyed records (keys k0.., values tag0..), idempotent and acks=all. */
export async function produceToSource(topic: string, count: number, opts: ProduceOptions = {}): Promise<void> {
  const producer = sourceAdminKafka().producer({ retry: { retries: 10, initialRetryTime: 300 }, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const pad = opts.bytes ? 'x'.repeat(opts.bytes) : '';
    const perSend = opts.perSend ?? 100;
    for (let i = 0; i < count; i += perSend) {
      const n = Math.min(perSend, count - i);
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: n }, (_, j) => ({
          key: `k${i + j}`,
          value: `${opts.tag ?? 'r'}${i + j}${pad}`,
          partition: (i + j) % (opts.partitions ?? 1),
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}
