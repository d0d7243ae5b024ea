/**
 * The raw limit: ProducerPerformance writing the same volume (same records per topic, same value size, same
 * 4 x 8 layout) straight to the target, acks=all. No copier can beat what the target accepts from Kafka's
 * own producer.
 */
import type { Kafka } from 'kafkajs';
import { endpoints } from './settings';
import { createTopics, deleteTopics, withAdminOf } from './topics';
import { producePerTopic } from './producerPerformance';
import { watchCopy } from './copyWatch';
import { variantSlug, type VariantData } from './dataSet';
import { round, throughputOf, type ThroughputResult } from './throughput';

export async function measureRawLimit(target: Kafka, id: string, data: VariantData, partitions: number): Promise<ThroughputResult> {
  const topics = data.topics.map((_, i) => `kmbench-${id}-raw-${variantSlug(data.variant)}-t${i}`);
  await withAdminOf(target, (a) => createTopics(a, topics, partitions));
  try {
    let failure: Error | undefined;
    const producing = producePerTopic(endpoints.target, topics, data.variant.recordsPerTopic, data.variant.valueBytes);
    producing.catch((e: Error) => (failure = e));
    const expected = new Map(topics.map((t, i) => [t, data.records.get(data.topics[i])!]));
    const timing = await withAdminOf(target, (admin) =>
      watchCopy({ admin, expected, timeoutMs: 30 * 60_000, failure: () => failure, what: 'ProducerPerformance to the target' }),
    );
    const runs = await producing;
    return throughputOf('raw-limit', data, timing, {
      toolReportedMiBPerSec: round(runs.reduce((n, r) => n + r.mibPerSec, 0)),
      toolReportedRecordsPerSec: Math.round(runs.reduce((n, r) => n + r.recordsPerSec, 0)),
    });
  } finally {
    await withAdminOf(target, (a) => deleteTopics(a, topics));
  }
}
