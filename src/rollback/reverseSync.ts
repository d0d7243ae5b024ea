/**
 * The reverse sync of a rollback window: the forward copy engine (copyPartitionsUntil) with the roles swapped.
 * It reads the target's batch topics and writes the source's, from where the forward copy ended on both sides:
 * the records clients write to the target after the cutover come back to the source, record for record (keys,
 * values, headers, timestamps; read_committed, so aborted transactions stay behind), with an exact
 * target -> source offset map.
 *
 * The reverse map lives where the engine keeps a map: in `__kafka_migrate_offsets` on the cluster it writes to
 * (here the source), under its own migration key `<migration>.reverse` (a migration name has no dot), so forward
 * and reverse maps never mix. Before the first reverse round each partition is seeded with a checkpoint at the
 * forward copy's end: `sourceNext` (on the target) = the forward targetNext, `targetNext` (on the source) = the
 * forward sourceNext. From then on crash recovery is the engine's own: resume from the durable checkpoint and
 * reconcile the source's tail beyond it against the target's records.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ClusterConnection } from '../config/spec';
import { openClusterClients } from '../copy/clusterClients';
import { loadOffsetStore } from '../copy/loadOffsetMap';
import { ensureOffsetStoreTopic, offsetMapRecords, OFFSET_STORE_TOPIC, readOffsetStore, targetIdOf, type OffsetStoreSnapshot } from '../copy/offsetMapStore';
import { IdempotentWriter } from '../copy/targetWriter';
import { fetchPartitionBoundsOnCluster } from '../cutover/endOffsets';
import { onCluster } from '../kafka/clusterRole';
import { partitionKey, type PartitionOffsetMap, type TopicPartitionRef } from '../types/copy';

/** The store key of a migration's reverse maps (on the source). */
export function reverseMigrationKey(migration: string): string {
  return `${migration}.reverse`;
}

export const ROLLBACK_NOT_POSSIBLE = 'RollbackNotPossible';

/** The reverse maps (target -> source) of a migration, read from the source's store. */
export async function loadReverseStore(source: ClusterConnection, migration: string): Promise<OffsetStoreSnapshot> {
  return loadOffsetStore(source, reverseMigrationKey(migration));
}

/**
 * Seeds the reverse checkpoint of every partition that has none yet, at the forward copy's end. Refuses
 * (RollbackNotPossible) a partition the forward copy never reached, and a source partition that grew past the
 * forward copy's end: someone wrote to the source after the cutover, and the reverse copy could not be exact.
 */
export async function seedReverseCheckpoints(
  source: ClusterConnection,
  target: ClusterConnection,
  migration: string,
  partitions: TopicPartitionRef[],
): Promise<number> {
  const clients = await openClusterClients(source, 'source', 'reverse-seed');
  try {
    await onCluster('source', () => ensureOffsetStoreTopic(clients.admin, undefined));
    const reverse = await onCluster('source', () => readOffsetStore(clients.cluster, clients.admin, reverseMigrationKey(migration), targetIdOf(source)));
    const unseeded = partitions.filter((p) => !reverse.get(p.topic, p.partition).checkpoint);
    if (unseeded.length === 0) return 0;
    const forward = await loadOffsetStore(target, migration);
    const topics = [...new Set(unseeded.map((p) => p.topic))];
    const bounds = await onCluster('source', () => fetchPartitionBoundsOnCluster(clients.cluster, topics));
    const records = unseeded.flatMap((p) => {
      const key = partitionKey(p.topic, p.partition);
      const fwd = forward.get(p.topic, p.partition).checkpoint;
      if (!fwd) {
        throw ApplicationFailure.nonRetryable(
          `partition ${key} was never copied to the target by migration ${migration}: there is nothing to roll back from`,
          ROLLBACK_NOT_POSSIBLE,
          { partitions: [key] },
        );
      }
      const end = bounds[key]?.end;
      if (end === undefined) {
        throw ApplicationFailure.nonRetryable(`source partition ${key} does not exist any more`, ROLLBACK_NOT_POSSIBLE, { partitions: [key] });
      }
      if (end !== fwd.sourceNext) {
        throw ApplicationFailure.nonRetryable(
          `source partition ${key} ends at offset ${end}, but the forward copy ended at ${fwd.sourceNext}: ${
            end > fwd.sourceNext ? 'someone wrote to the source after the cutover' : 'the source partition was truncated or recreated'
          }, so the records written on the target cannot be appended exactly; stop that writer (fence the source) and finalize the window instead`,
          ROLLBACK_NOT_POSSIBLE,
          { partitions: [key] },
        );
      }
      const map: PartitionOffsetMap = {
        migration: reverseMigrationKey(migration),
        topic: p.topic,
        partition: p.partition,
        runs: [],
        checkpoint: {
          sourceStart: fwd.targetNext,
          sourceNext: fwd.targetNext,
          targetNext: fwd.sourceNext,
          recordsCopied: 0,
          bytesCopied: 0,
          updatedAt: new Date().toISOString(),
        },
      };
      return offsetMapRecords(map, 0);
    });
    const writer = new IdempotentWriter(clients.cluster, source.requestTimeoutMs);
    await writer.init([OFFSET_STORE_TOPIC]);
    await writer.write([{ topic: OFFSET_STORE_TOPIC, partition: 0, records }]);
    return unseeded.length;
  } finally {
    await clients.close();
  }
}
