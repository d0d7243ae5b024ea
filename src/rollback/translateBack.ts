/**
 * Moves consumer group positions back to the source at a rollback: each offset a group committed on the target is
 * translated exactly and committed on the source. A target offset below the forward copy's end is a record the
 * forward copy wrote: the forward map, read backwards, gives its source offset. At or beyond it, the record was
 * written by a client on the target and copied back: the reverse map gives its offset on the source. Both maps
 * grow monotonically on both sides, so "the first copied record at or after" is exact in either direction.
 * Refuses while a group is not Empty on either cluster; nothing is committed unless every group translates.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Admin } from 'kafkajs';
import { translateOffset } from '../copy/translateOffset';
import type { OffsetStoreSnapshot } from '../copy/offsetMapStore';
import { groupsActiveOnSource, groupsActiveOnTarget } from '../cutover/activeGroups';
import { describeGroupStates, isInactive } from '../cutover/groupStates';
import { committedOffsets } from '../cutover/translateGroupOffsets';
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
  if (input.topics.length) await onCluster('target', () => target.fetchTopicMetadata({ topics: input.topics }));
  // Everything translated first: nothing is committed unless every group translates.
  const groups: RollbackGroupOffsets[] = [];
  for (const group of input.groups) {
    const committed = await onCluster('target', () => committedOffsets(target, group, input.topics));
    const out: RollbackGroupOffsets = { group, partitions: [], withoutOffset: [] };
    for (const [key, offset] of committed) {
      if (offset === null) {
        out.withoutOffset.push(key);
        continue;
      }
      const sep = key.lastIndexOf(':');
      const topic = key.slice(0, sep);
      const partition = Number(key.slice(sep + 1));
      const t = targetToSource(input.forward.get(topic, partition), input.reverse.get(topic, partition), offset);
      out.partitions.push({ topic, partition, targetOffset: offset, sourceOffset: t.offset, via: t.via });
    }
    groups.push(out);
  }
  for (const g of groups) {
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const p of g.partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), { partition: p.partition, offset: String(p.sourceOffset) }]);
    for (const [topic, partitions] of byTopic) await onCluster('source', () => source.setOffsets({ groupId: g.group, topic, partitions }));
  }
  return { migration: input.migration, at: new Date().toISOString(), groups };
}
