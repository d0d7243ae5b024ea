/**
 * The target topics a migration created or adopted, as its offset store records them: on resume they are the
 * migration's own, not topics "already on the target".
 */
import type { ClusterConnection } from '../config/spec';
import { createKafka } from '../kafka/clients';
import { createInternalCluster } from './kafkaInternals';
import { OFFSET_STORE_TOPIC, readOffsetStore, targetIdOf, type TopicOwnership } from './offsetMapStore';

export async function ownedTopics(target: ClusterConnection, migration: string, topics: string[]): Promise<Map<string, TopicOwnership>> {
  const owned = new Map<string, TopicOwnership>();
  if (!topics.length) return owned;
  const kafka = createKafka(target, 'target', { clientIdSuffix: 'owned' });
  const admin = kafka.admin();
  const cluster = createInternalCluster(kafka);
  try {
    await Promise.all([admin.connect(), cluster.connect()]);
    if (!(await admin.listTopics()).includes(OFFSET_STORE_TOPIC)) return owned;
    const snapshot = await readOffsetStore(cluster, admin, migration, targetIdOf(target));
    for (const t of topics) {
      const o = snapshot.owner(t);
      if (o) owned.set(t, o);
    }
    return owned;
  } finally {
    await Promise.allSettled([admin.disconnect(), cluster.disconnect()]);
  }
}
