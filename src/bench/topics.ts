/** Creating and removing the benchmark's own topics and groups (never anything it did not create). */
import type { Admin, Kafka } from 'kafkajs';
import { chunk } from '../inventory/concurrency';

export async function withAdminOf<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Creates the topics (in chunks, to keep the controller responsive) and waits until each has leaders. */
export async function createTopics(admin: Admin, topics: string[], partitions: number): Promise<void> {
  for (const part of chunk(topics, 200)) {
    await admin.createTopics({ waitForLeaders: false, topics: part.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })) });
  }
  const deadline = Date.now() + 120_000;
  for (const part of chunk(topics, 200)) {
    for (;;) {
      const ok = await admin
        .fetchTopicMetadata({ topics: part })
        .then((m) => m.topics.every((t) => t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0)))
        .catch(() => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`topics ${part[0]}..${part[part.length - 1]} have no leaders after 120 s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Deletes those of the topics that exist and waits until the cluster no longer lists them. */
export async function deleteTopics(admin: Admin, topics: string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const mine = topics.filter((t) => existing.has(t));
  for (const part of chunk(mine, 200)) await admin.deleteTopics({ topics: part, timeout: 60_000 });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const listed = new Set(await admin.listTopics());
    const left = mine.filter((t) => listed.has(t));
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${left.length} topics still listed 60 s after their deletion, e.g. ${left.slice(0, 5).join(', ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Deletes those of the groups that exist (empty groups only; the broker refuses active ones). */
export async function deleteGroups(admin: Admin, groups: string[]): Promise<void> {
  if (groups.length === 0) return;
  const existing = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
  const mine = groups.filter((g) => existing.has(g));
  for (const part of chunk(mine, 100)) await admin.deleteGroups(part);
}

/** Sum of partitions over every topic of a cluster: the broker's open files grow with it. */
export async function partitionCount(admin: Admin): Promise<{ topics: number; partitions: number }> {
  const md = await admin.fetchTopicMetadata();
  return { topics: md.topics.length, partitions: md.topics.reduce((n, t) => n + t.partitions.length, 0) };
}
