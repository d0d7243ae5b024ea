/** Creates one of the tool's own single-partition compacted topics on a cluster, once (a concurrent creator wins). */
import type { Kafka } from 'kafkajs';

export async function ensureCompactedTopic(kafka: Kafka, topic: string, replicationFactor: number | undefined): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(topic)) return;
    await admin
      .createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: 1, replicationFactor: replicationFactor ?? -1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
      })
      .catch((e: { type?: string }) => {
        if (e.type !== 'TOPIC_ALREADY_EXISTS') throw e;
      });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
