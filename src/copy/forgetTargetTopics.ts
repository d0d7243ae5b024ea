/**
 * Forgets deleted target topics in the offset store: tombstones for every key this migration holds for them
 * (checkpoints first, so a reader never meets a checkpoint whose run chunks are gone, then run chunks, then
 * ownership). A resume after an abort then creates and copies those topics afresh; without this it would meet
 * checkpoints past the end of a topic that was deleted and recreated empty (TargetTruncated).
 */
import type { ClusterConnection } from '../config/spec';
import { createKafka } from '../kafka/clients';
import { createInternalCluster } from './kafkaInternals';
import { OFFSET_STORE_TOPIC, readOffsetStore, targetIdOf, tombstoneRecord } from './offsetMapStore';

/** Store key order for forgetting: checkpoints, then run chunks, then the owner record. */
function forgetOrder(key: string): number {
  if (key.endsWith('|checkpoint')) return 0;
  if (key.endsWith('|owner')) return 2;
  return 1;
}

/** Writes the tombstones; returns how many keys were forgotten. Idempotent (forgotten keys are not listed again). */
export async function forgetTargetTopics(target: ClusterConnection, migration: string, topics: string[]): Promise<number> {
  if (!topics.length) return 0;
  const kafka = createKafka(target, 'target', { clientIdSuffix: 'forget' });
  const admin = kafka.admin();
  const cluster = createInternalCluster(kafka);
  try {
    await Promise.all([admin.connect(), cluster.connect()]);
    if (!(await admin.listTopics()).includes(OFFSET_STORE_TOPIC)) return 0;
    const snapshot = await readOffsetStore(cluster, admin, migration, targetIdOf(target));
    const keys = topics.flatMap((t) => snapshot.keysOf(t)).sort((a, b) => forgetOrder(a) - forgetOrder(b));
    if (!keys.length) return 0;
    const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true });
    await producer.connect();
    try {
      const messages = keys.map((k) => ({ key: tombstoneRecord(k).key, value: null, partition: 0 }));
      await producer.send({ topic: OFFSET_STORE_TOPIC, acks: -1, messages });
    } finally {
      await producer.disconnect();
    }
    return keys.length;
  } finally {
    await Promise.allSettled([admin.disconnect(), cluster.disconnect()]);
  }
}
