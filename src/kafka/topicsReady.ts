/**
 * Creates topics and waits until every partition has a leader. kafkajs' own waitForLeaders gives up with
 * UNKNOWN_TOPIC_OR_PARTITION when a busy broker is slow to load new partitions.
 */
import type { Admin, ITopicConfig } from 'kafkajs';

export async function createTopicsReady(admin: Admin, topics: ITopicConfig[], timeoutMs = 30000): Promise<void> {
  await admin.createTopics({ waitForLeaders: false, topics });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
      const ready = topics.every((t) => {
        const m = meta.find((x) => x.name === t.topic);
        return m && m.partitions.length === (t.numPartitions ?? 1) && m.partitions.every((p) => p.leader >= 0);
      });
      if (ready) return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.map((t) => t.topic).join(', ')} have no leaders after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
