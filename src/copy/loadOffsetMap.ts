/** Reading the durable offset map back, for offset translation and verification. */
import type { ClusterConnection } from '../config/spec';
import type { PartitionOffsetMap } from '../types/copy';
import { openClusterClients } from './clusterClients';
import { readOffsetStore, targetIdOf, type OffsetStoreSnapshot } from './offsetMapStore';

/** Everything stored for a migration (read once; use `.get(topic, partition)` for many partitions). */
export async function loadOffsetStore(target: ClusterConnection, migration: string): Promise<OffsetStoreSnapshot> {
  const clients = await openClusterClients(target, 'target', 'offset-map');
  try {
    return await readOffsetStore(clients.cluster, clients.admin, migration, targetIdOf(target));
  } finally {
    await clients.close();
  }
}

/**
 * The offset map of one partition. Pass the same `cache` for many partitions within one activity: the
 * store topic is then read once.
 */
export async function loadOffsetMap(
  target: ClusterConnection,
  migration: string,
  topic: string,
  partition: number,
  cache?: Map<string, Promise<OffsetStoreSnapshot>>,
): Promise<PartitionOffsetMap> {
  let snapshot: Promise<OffsetStoreSnapshot>;
  if (cache) {
    if (!cache.has(migration)) cache.set(migration, loadOffsetStore(target, migration));
    snapshot = cache.get(migration)!;
  } else {
    snapshot = loadOffsetStore(target, migration);
  }
  return (await snapshot).get(topic, partition);
}
