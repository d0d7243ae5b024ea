/**
 * Moves consumer group positions back to the source at a rollback: each offset a group committed on the target is
 * translated exactly and committed on the source. A target offset below the forward copy's end is a record the
 * forward copy wrote: the forward map, read backwards, gives its source offset. At or beyond it, the record was
 * written by a client on the target and copied back: the reverse map gives its offset on the source. Both maps
 * grow monotonically on both sides, so "the first copied record at or after" is exact in either direction.
 * Refuses while a group is not Empty on either cluster; nothing is committed unless every group translates.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Admin, Kafka } from 'kafkajs';
import { translateOffset } from '../copy/translateOffset';
import type { OffsetStoreSnapshot } from '../copy/offsetMapStore';
import { groupsActiveOnSource, groupsActiveOnTarget } from '../cutover/activeGroups';
import { describeGroupStates, isInactive } from '../cutover/groupStates';
import { GroupOffsetCommitter } from '../cutover/commitGroupOffsets';
import { connectionsFor, GROUP_CONCURRENCY, MEMBER_JOINED } from '../cutover/translateGroupOffsets';
import { mapLimit } from '../inventory/concurrency';
import { onCluster } from '../kafka/clusterRole';
import type { PartitionOffsetMap } from '../types/copy';
import type { RollbackGroupOffsets, RollbackOffsetsReport } from '../types/rollback';
import { ROLLBACK_NOT_POSSIBLE } from './reverseSync';

/** The forward map read backwards: target offset -> source offset. */
export function invertMap(map: PartitionOffsetMap): PartitionOffsetMap {
  const cp = map.checkpoint;
  return {
    ...map,
    runs: map.runs.map((r) => ({ sourceStart: r.targetStart, targetStart: r.sourceStart, count: r.count })),
    checkpoint: cp && { ...cp, sourceStart: 0, sourceNext: cp.targetNext, targetNext: cp.sourceNext },
  };
}

/** The source offset a consumer at `targetOffset` on the target resumes at on the source. */
export function targetToSource(
  forward: PartitionOffsetMap,
  reverse: PartitionOffsetMap,
  targetOffset: number,
): { offset: number; via: 'forward-map' | 'reverse-map' } {
  const fwd = forward.checkpoint;
  const where = `${forward.topic}:${forward.partition}`;
  if (!fwd) throw ApplicationFailure.nonRetryable(`${where}: no forward copy to translate through`, ROLLBACK_NOT_POSSIBLE, { partitions: [where] });
  if (targetOffset < fwd.targetNext) return { offset: translateOffset(invertMap(forward), targetOffset), via: 'forward-map' };
  if (!reverse.checkpoint || targetOffset > reverse.checkpoint.sourceNext) {
    throw ApplicationFailure.nonRetryable(
      `${where}: the group's target offset ${targetOffset} is beyond what the reverse sync copied back (${reverse.checkpoint?.sourceNext ?? 'nothing'}): drain first`,
      ROLLBACK_NOT_POSSIBLE,
      { partitions: [where] },
    );
  }
  return { offset: translateOffset(reverse, targetOffset), via: 'reverse-map' };
}

export async function translateGroupOffsetsBack(input: {
  migration: string;
  groups: string[];
  topics: string[];
  source: Admin;
  target: Admin;
  /** Offsets are read on the target's and committed on the source's group coordinators directly (commitGroupOffsets.ts). */
  sourceKafka: Kafka;
  targetKafka: Kafka;
  forward: OffsetStoreSnapshot;
  reverse: OffsetStoreSnapshot;
}): Promise<RollbackOffsetsReport> {
  const { source, target } = input;
  const [onTarget, onSource] = await Promise.all([
    onCluster('target', () => describeGroupStates(target, 'target', input.groups)),
    onCluster('source', () => describeGroupStates(source, 'source', input.groups)),
  ]);
  const activeOnTarget = onTarget.filter((g) => !isInactive(g));
  if (activeOnTarget.length) throw groupsActiveOnTarget(activeOnTarget, 'they could still commit there during the rollback');
  const activeOnSource = onSource.filter((g) => !isInactive(g));
  if (activeOnSource.length) throw groupsActiveOnSource(activeOnSource);
  const [reader, committer] = await Promise.all([
    onCluster('target', () => GroupOffsetCommitter.open(input.targetKafka, input.topics, connectionsFor(input.groups))).catch((e) => e as Error),
    onCluster('source', () => GroupOffsetCommitter.open(input.sourceKafka, input.topics, connectionsFor(input.groups))).catch((e) => e as Error),
  ]);
  try {
    if (reader instanceof Error) throw reader;
    if (committer instanceof Error) throw committer;
    // Everything translated first: nothing is committed unless every group translates.
    const groups = await mapLimit(input.groups, GROUP_CONCURRENCY, async (group) => {
      const { offsets, partitions } = await onCluster('target', () => reader.fetch(group, input.topics));
      const out: RollbackGroupOffsets = { group, partitions: [], withoutOffset: [...partitions].filter((k) => !offsets.has(k)).sort() };
      for (const [key, offset] of offsets) {
        const sep = key.lastIndexOf(':');
        const topic = key.slice(0, sep);
        const partition = Number(key.slice(sep + 1));
        const t = targetToSource(input.forward.get(topic, partition), input.reverse.get(topic, partition), offset);
        out.partitions.push({ topic, partition, targetOffset: offset, sourceOffset: t.offset, via: t.via });
      }
      out.partitions.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
      return out;
    });
    // One OffsetCommit per group, admin-style (no member): a consumer that joined on the source meanwhile fails it.
    await mapLimit(
      groups.filter((g) => g.partitions.length),
      GROUP_CONCURRENCY,
      async (g) => {
        try {
          await onCluster('source', () =>
            committer.commit(
              g.group,
              g.partitions.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.sourceOffset })),
            ),
          );
        } catch (e) {
          if (!MEMBER_JOINED.includes((e as { type?: string }).type ?? '')) throw e;
          const states = await onCluster('source', () => describeGroupStates(source, 'source', [g.group]));
          throw groupsActiveOnSource(states);
        }
      },
    );
    return { migration: input.migration, at: new Date().toISOString(), groups };
  } finally {
    await Promise.all([reader, committer].map((c) => (c instanceof GroupOffsetCommitter ? c.close() : undefined)));
  }
}
