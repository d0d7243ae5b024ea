/**
 * The durable record of what a migration finished, kept on the target in the compacted topic
 * `__kafka_migrate_ledger` (key `<migration>/batch/<topics digest>`, value a LedgerEntry; latest wins). The
 * workflow's own history says the same, but a migration can end without it (terminated, history lost, a bug):
 * `resume` reads this ledger to adopt the batches that already completed or whose clients already moved, and
 * copies nothing again that the offset store shows as exact.
 */
import { createHash } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { ensureCompactedTopic } from '../kafka/compactedTopic';
import type { LedgerEntry } from '../types/resume';
import { TopicRangeReader } from '../verify/topicRangeReader';

export const LEDGER_TOPIC = '__kafka_migrate_ledger';

/** A batch is the same batch on resume when it holds the same topics, whatever its number or name now. */
export function topicsDigest(topics: string[]): string {
  return createHash('sha256')
    .update([...topics].sort().join('\n'))
    .digest('hex')
    .slice(0, 32);
}

const recordKey = (migration: string, topics: string[]) => `${migration}/batch/${topicsDigest(topics)}`;

export function ensureLedgerTopic(target: Kafka, replicationFactor: number | undefined): Promise<void> {
  return ensureCompactedTopic(target, LEDGER_TOPIC, replicationFactor);
}

/** Writes one entry durably (acks=all, idempotent). */
export async function writeLedgerEntry(target: Kafka, migration: string, entry: LedgerEntry): Promise<void> {
  const producer = target.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic: LEDGER_TOPIC, acks: -1, messages: [{ key: recordKey(migration, entry.topics), value: JSON.stringify(entry) }] });
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

/** Every entry of one migration (latest per batch), or none when the ledger does not exist yet. */
export async function readLedger(target: Kafka, migration: string): Promise<LedgerEntry[]> {
  const admin = target.admin();
  await admin.connect();
  let bounds: { low: string; high: string } | undefined;
  try {
    if (!(await admin.listTopics()).includes(LEDGER_TOPIC)) return [];
    bounds = (await admin.fetchTopicOffsets(LEDGER_TOPIC)).find((o) => o.partition === 0);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const latest = new Map<string, LedgerEntry>();
  if (!bounds || Number(bounds.low) >= Number(bounds.high)) return [];
  const reader = await TopicRangeReader.open(target, LEDGER_TOPIC, { groupIdPrefix: 'kafka-migrate-ledger' });
  try {
    const prefix = `${migration}/batch/`;
    for await (const m of reader.read(0, Number(bounds.low), Number(bounds.high))) {
      const key = m.key?.toString('utf8') ?? '';
      if (!key.startsWith(prefix) || !m.value) continue;
      latest.set(key, JSON.parse(m.value.toString('utf8')) as LedgerEntry);
    }
  } finally {
    await reader.close();
  }
  return [...latest.values()];
}
