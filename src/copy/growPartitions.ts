/**
 * Adds partitions to a target topic so that it has at least as many as the source. Every follow round of a
 * batch calls this for its topics, several rounds at once: without care each of them sees the old count and
 * sends its own CreatePartitions, and all but the first get INVALID_PARTITIONS ("Topic already has N
 * partitions"), which kafkajs logs as an error. So grows of one topic are serialised in the process and each
 * re-reads the count first (the later ones find nothing to do), and a CreatePartitions that lost the race to
 * another worker is success when the topic now has enough partitions.
 */
import type { Admin } from 'kafkajs';
import type { ClusterConnection } from '../config/spec';
import { withAdmin } from '../kafka/clients';

/** Grows in progress per "bootstrap|topic": the next one waits for the previous one. */
const chains = new Map<string, Promise<unknown>>();

async function currentCount(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.length ?? 0;
}

async function grow(target: ClusterConnection, topic: string, want: number): Promise<number> {
  // Quiet: the one failure kafkajs would log (a lost race) is success here, any other is thrown with context.
  return withAdmin(
    target,
    'target',
    async (admin) => {
      const before = await currentCount(admin, topic);
      if (before >= want) return before;
      try {
        await admin.createPartitions({ validateOnly: false, timeout: 30000, topicPartitions: [{ topic, count: want }] });
      } catch (e) {
        const now = await currentCount(admin, topic);
        if (now >= want) return now; // another worker added them first
        throw new Error(`adding partitions to target topic ${topic} (${now} -> ${want}, the source's count) failed: ${(e as Error).message}`);
      }
      return want;
    },
    { clientIdSuffix: 'partitions', quiet: true },
  );
}

/** Ensures the target topic has at least `want` partitions; returns its count afterwards. */
export async function growTargetPartitions(target: ClusterConnection, topic: string, want: number): Promise<number> {
  const key = `${target.bootstrapServers.join(',')}|${topic}`;
  const previous = chains.get(key) ?? Promise.resolve();
  const mine = previous.catch(() => undefined).then(() => grow(target, topic, want));
  chains.set(key, mine);
  try {
    return await mine;
  } finally {
    if (chains.get(key) === mine) chains.delete(key);
  }
}
