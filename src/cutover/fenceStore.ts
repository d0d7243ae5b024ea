/**
 * The durable record of which DENY WRITE bindings a migration created on the source, kept on the target in
 * the compacted topic `__kafka_migrate_fences` (key `<migration>/<topic>`, value the binding, a tombstone once
 * removed). ACL bindings carry no owner, so without this record an unfence could not tell our binding from
 * an identical one an operator made, nor could a retried fence (after a crash between creating the ACL and
 * reporting it) know the binding is its own. The intent is written before the ACL is created.
 */
import type { Kafka } from 'kafkajs';
import { ensureCompactedTopic } from '../kafka/compactedTopic';
import type { FenceAcl } from '../types/cutover';
import { TopicRangeReader } from '../verify/topicRangeReader';
import { fenceAclFor } from './fenceAcl';

export const FENCE_TOPIC = '__kafka_migrate_fences';

const recordKey = (migration: string, topic: string) => `${migration}/${topic}`;

export function ensureFenceTopic(target: Kafka, replicationFactor: number | undefined): Promise<void> {
  return ensureCompactedTopic(target, FENCE_TOPIC, replicationFactor);
}

export async function fenceStoreExists(target: Kafka): Promise<boolean> {
  const admin = target.admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).includes(FENCE_TOPIC);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** The bindings the migration currently owns, by topic (latest record per key wins). */
export async function loadOwnedFences(target: Kafka, migration: string): Promise<Map<string, FenceAcl>> {
  const admin = target.admin();
  await admin.connect();
  let bounds: { low: string; high: string } | undefined;
  try {
    bounds = (await admin.fetchTopicOffsets(FENCE_TOPIC)).find((o) => o.partition === 0);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const owned = new Map<string, FenceAcl>();
  if (!bounds || Number(bounds.low) >= Number(bounds.high)) return owned;
  const reader = await TopicRangeReader.open(target, FENCE_TOPIC, { groupIdPrefix: 'kafka-migrate-fences' });
  try {
    const prefix = `${migration}/`;
    for await (const m of reader.read(0, Number(bounds.low), Number(bounds.high))) {
      const key = m.key?.toString('utf8') ?? '';
      if (!key.startsWith(prefix)) continue;
      const topic = key.slice(prefix.length);
      if (m.value === null) owned.delete(topic);
      else owned.set(topic, fenceAclFor(topic));
    }
  } finally {
    await reader.close();
  }
  return owned;
}

/** Records bindings as owned (acl) or no longer owned (null), durably (acks=all, idempotent). */
export async function recordFences(target: Kafka, migration: string, changes: { topic: string; acl: FenceAcl | null }[]): Promise<void> {
  if (changes.length === 0) return;
  const producer = target.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({
      topic: FENCE_TOPIC,
      acks: -1,
      messages: changes.map((c) => ({
        key: recordKey(migration, c.topic),
        value: c.acl ? JSON.stringify({ ...c.acl, migration, recordedAt: new Date().toISOString() }) : null, // the value documents the binding; the key is what counts
      })),
    });
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}
