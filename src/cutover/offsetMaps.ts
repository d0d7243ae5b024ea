/**
 * The one place the cutover and verification activities read the copy engine's offset map from
 * (`__kafka_migrate_offsets` on the target, src/copy/loadOffsetMap.ts). The store topic is read once per
 * loader, i.e. once per activity call, however many partitions are looked up.
 */
import type { ClusterConnection } from '../config/spec';
import { loadOffsetMap } from '../copy/loadOffsetMap';
import type { PartitionOffsetMap } from '../types/copy';

export type OffsetMapLoader = (topic: string, partition: number) => Promise<PartitionOffsetMap>;

export function offsetMapLoader(target: ClusterConnection, migration: string): OffsetMapLoader {
  const cache: NonNullable<Parameters<typeof loadOffsetMap>[4]> = new Map();
  return (topic, partition) => loadOffsetMap(target, migration, topic, partition, cache);
}
