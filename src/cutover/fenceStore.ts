/**
 * The durable record of which DENY WRITE bindings a migration created on the source, kept on the target in
 * the compacted topic `__kafka_migrate_fences` (key `<migration>/<topic>`, value the binding, a tombstone once
 * removed). ACL bindings carry no owner, so without this record an unfence could not tell our binding from
 * an identical one an operator made, nor could a retried fence (after a crash between creating the ACL and
 * reporting it) know the binding is its own. The intent is written before the ACL is created.
 * A rollback window's fence (src/cutover/windowFence.ts) is kept here too, per topic under `<migration>/window/<topic>`
 * (value: the list of its bindings).
 */
import type { Kafka } from 'kafkajs';
import { ensureCompactedTopic } from '../kafka/compactedTopic';
import type { FenceAcl, WindowFenceBinding } from '../types/cutover';
import { TopicRangeReader } from '../verify/topicRangeReader';
import { fenceAclFor } from './fenceAcl';

export const FENCE_TOPIC = '__kafka_migrate_fences';

const recordKey = (migration: string, topic: string) => `${migration}/${topic}`;
/** Key infix of a rollback window's fence records: `<migration>/window/<topic>`. */
const WINDOW_KEY = 'window/';

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

/** The latest record per key of this migration (key without the `<migration>/` prefix; null = tombstone). */
async function latestRecords(target: Kafka, migration: string): Promise<Map<string, Buffer | null>> {
  const admin = target.admin();
  await admin.connect();
  let bounds: { low: string; high: string } | undefined;
  try {
    bounds = (await admin.fetchTopicOffsets(FENCE_TOPIC)).find((o) => o.partition === 0);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const latest = new Map<string, Buffer | null>();
  if (!bounds || Number(bounds.low) >= Number(bounds.high)) return latest;
  const reader = await TopicRangeReader.open(target, FENCE_TOPIC, { groupIdPrefix: 'kafka-migrate-fences' });
  try {
    const prefix = `${migration}/`;
    for await (const m of reader.read(0, Number(bounds.low), Number(bounds.high))) {
      const key = m.key?.toString('utf8') ?? '';
      if (key.startsWith(prefix)) latest.set(key.slice(prefix.length), m.value);
    }
  } finally {
    await reader.close();
  }
  return latest;
}

/** The cutover fences (DENY WRITE User:*) the migration currently owns, by topic (latest record per key wins). */
export async function loadOwnedFences(target: Kafka, migration: string): Promise<Map<string, FenceAcl>> {
  const owned = new Map<string, FenceAcl>();
  for (const [topic, value] of await latestRecords(target, migration)) {
    // A topic name never holds '/': keys with one are a rollback window's (`window/<topic>`).
    if (!topic.includes('/') && value !== null) owned.set(topic, fenceAclFor(topic));
  }
  return owned;
}

/** The rollback-window fence bindings the migration currently owns, by topic. */
export async function loadOwnedWindowFences(target: Kafka, migration: string): Promise<Map<string, WindowFenceBinding[]>> {
  const owned = new Map<string, WindowFenceBinding[]>();
  for (const [key, value] of await latestRecords(target, migration)) {
    if (!key.startsWith(WINDOW_KEY) || value === null) continue;
    const parsed = JSON.parse(value.toString('utf8')) as { bindings?: WindowFenceBinding[] };
    owned.set(key.slice(WINDOW_KEY.length), parsed.bindings ?? []);
  }
  return owned;
}

/** Records a window fence's bindings per topic as owned (the list) or no longer owned (null), durably. */
export async function recordWindowFences(target: Kafka, migration: string, changes: { topic: string; bindings: WindowFenceBinding[] | null }[]): Promise<void> {
  await send(
    target,
    changes.map((c) => ({
      key: recordKey(migration, `${WINDOW_KEY}${c.topic}`),
      value: c.bindings ? JSON.stringify({ bindings: c.bindings, migration, recordedAt: new Date().toISOString() }) : null,
    })),
  );
}

/** Records bindings as owned (acl) or no longer owned (null), durably (acks=all, idempotent). */
export async function recordFences(target: Kafka, migration: string, changes: { topic: string; acl: FenceAcl | null }[]): Promise<void> {
  await send(
    target,
    changes.map((c) => ({
      key: recordKey(migration, c.topic),
      value: c.acl ? JSON.stringify({ ...c.acl, migration, recordedAt: new Date().toISOString() }) : null, // the value documents the binding; the key is what counts
    })),
  );
}

async function send(target: Kafka, messages: { key: string; value: string | null }[]): Promise<void> {
  if (messages.length === 0) return;
  const producer = target.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic: FENCE_TOPIC, acks: -1, messages });
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}
