/** Test data for the copy engine: topics on the source (super-user listener) and raw reads of either cluster (verification decoder). */
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { createInternalCluster } from '../../src/copy/kafkaInternals';
import type { KafkaRecord } from '../../src/copy/kafkaRecord';
import { readRange } from '../../src/verify/independent';
import { SOURCE_ADMIN_BOOTSTRAP, TARGET_BOOTSTRAP, sourceAdminKafka } from './stack';

export async function createSourceTopic(topic: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
  const admin = sourceAdminKafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
    });
  } finally {
    await admin.disconnect();
  }
}

export interface TestMessage {
  partition: number;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: IHeaders;
  timestamp?: string;
}

export async function produceToSource(topic: string, messages: TestMessage[]): Promise<void> {
  // Idempotent: a send retried under load must not write its records twice (the tests count them exactly).
  const producer = sourceAdminKafka().producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 500) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 500) });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * Every record of a partition, read raw (header order and duplicates as stored) with the verification decoder
 * (src/verify/independent), not the copy engine's reader: what a test checks the copy against is then not
 * decoded by the code under test.
 */
export async function readPartition(
  cluster: 'source' | 'target',
  topic: string,
  partition: number,
  options: { committed?: boolean } = {},
): Promise<KafkaRecord[]> {
  const kafka = new Kafka({
    clientId: 'km-test-read',
    brokers: [cluster === 'source' ? SOURCE_ADMIN_BOOTSTRAP : TARGET_BOOTSTRAP],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = (await admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition)!;
  await admin.disconnect();
  const low = Number(offsets.low);
  const high = Number(offsets.high);
  if (high <= low) return [];
  const internal = createInternalCluster(kafka);
  await internal.connect();
  const out: KafkaRecord[] = [];
  try {
    await internal.addMultipleTargetTopics([topic]);
    const records = readRange(
      internal,
      { topic, partition, from: low, to: high },
      {
        role: cluster,
        readCommitted: options.committed !== false,
        fetchBytes: 4 * 1024 * 1024,
        maxWaitMs: 100,
        check: (position, lastProgressAt) => {
          if (Date.now() - lastProgressAt > 60_000)
            throw new Error(`readPartition ${cluster} ${topic}:${partition}: no progress for 60s at offset ${position} of [${low}, ${high})`);
        },
      },
    );
    for await (const r of records) out.push(r);
  } finally {
    await internal.disconnect();
  }
  return out;
}

/** Comparable form of a record (without its offset). */
export function content(r: KafkaRecord): unknown {
  return {
    key: r.key === null ? null : r.key.toString('hex'),
    value: r.value === null ? null : r.value.toString('hex'),
    timestamp: r.timestamp,
    headers: r.headers.map((h) => [h.key.toString('hex'), h.value === null ? null : h.value.toString('hex')]),
  };
}

export async function sourceEndOffsets(topic: string): Promise<Record<string, number>> {
  const admin = sourceAdminKafka().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return Object.fromEntries(offsets.map((o) => [`${topic}:${o.partition}`, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}
