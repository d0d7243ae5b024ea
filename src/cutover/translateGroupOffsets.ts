/**
 * Moves consumer group positions to the target: each committed source offset is translated exactly through
 * the offset map and committed on the target. Refuses (non-retryable, naming the group) while the group is
 * not Empty on the source (it could still commit there) or has members on the target (they would overwrite
 * or race the commit). Committing the same translation again is harmless, so a retry is idempotent.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Admin, Kafka } from 'kafkajs';
import { OffsetTranslationError, translateOffset } from '../copy/translateOffset';
import type { PartitionOffsetMap } from '../types/copy';
import type { GroupOffsetTranslation, OffsetTranslationReport, PartitionOffsetTranslation } from '../types/cutover';
import { onCluster } from './clusterRole';
import { commitGroupOffsets } from './commitGroupOffsets';
import { comparePartitionKeys, parsePartitionKey, partitionKey } from './endOffsets';
import { describeGroupStates, isInactive } from './groupStates';

import type { OffsetMapLoader } from './offsetMaps';

export const GROUP_ACTIVE = 'GroupActive';
export const OFFSETS_NOT_COPIED = 'OffsetsNotCopiedYet';

/** Refuses unless every group is inactive on both sides. */
async function assertGroupsInactive(source: Admin, target: Admin, groups: string[]): Promise<{ source: Map<string, string>; target: Map<string, string> }> {
  const [onSource, onTarget] = await Promise.all([
    onCluster('source', () => describeGroupStates(source, 'source', groups)),
    onCluster('target', () => describeGroupStates(target, 'target', groups)),
  ]);
  for (const g of onTarget) {
    if (g.members.length > 0) {
      const who = g.members.map((m) => `${m.clientId}@${m.host}`).join(', ');
      throw ApplicationFailure.nonRetryable(
        `group "${g.group}" has ${g.members.length} member(s) on the target (${g.state}: ${who}): stop those consumers before translating its offsets, or they would consume from the wrong position`,
        GROUP_ACTIVE,
      );
    }
  }
  for (const g of onSource) {
    if (!isInactive(g)) {
      const who = g.members.map((m) => `${m.clientId}@${m.host}`).join(', ');
      throw ApplicationFailure.nonRetryable(
        `group "${g.group}" is ${g.state} on the source with ${g.members.length} member(s)${who ? ` (${who})` : ''}: stop its consumers (signal consumersStopped once they are) before its offsets are translated`,
        GROUP_ACTIVE,
      );
    }
  }
  return { source: new Map(onSource.map((g) => [g.group, g.state])), target: new Map(onTarget.map((g) => [g.group, g.state])) };
}

/** Committed offsets of a group on the given topics: "topic:partition" -> offset (or null when none). */
export async function committedOffsets(admin: Admin, group: string, topics: string[]): Promise<Map<string, number | null>> {
  const out = new Map<string, number | null>();
  if (topics.length === 0) return out;
  const fetched = await admin.fetchOffsets({ groupId: group, topics });
  for (const t of fetched) {
    for (const p of t.partitions) {
      const n = Number(p.offset);
      out.set(partitionKey(t.topic, p.partition), p.offset === '' || n < 0 ? null : n);
    }
  }
  return out;
}

export async function translateGroupOffsets(input: {
  migration: string;
  groups: string[];
  topics: string[];
  source: Admin;
  target: Admin;
  /** Commits go straight to the target's group coordinator (see commitGroupOffsets). */
  targetKafka: Kafka;
  loadMap: OffsetMapLoader;
}): Promise<OffsetTranslationReport> {
  const groups = [...new Set(input.groups)].sort();
  const topics = [...new Set(input.topics)].sort();
  const states = await assertGroupsInactive(input.source, input.target, groups);
  const maps = new Map<string, PartitionOffsetMap>();
  const mapOf = async (topic: string, partition: number) => {
    const key = partitionKey(topic, partition);
    if (!maps.has(key)) maps.set(key, await onCluster('target', () => input.loadMap(topic, partition)));
    return maps.get(key)!;
  };
  const result: GroupOffsetTranslation[] = [];
  for (const group of groups) {
    const committed = await onCluster('source', () => committedOffsets(input.source, group, topics));
    const onTarget = await onCluster('target', () => committedOffsets(input.target, group, topics));
    const partitions: PartitionOffsetTranslation[] = [];
    const withoutOffset: string[] = [];
    const toCommit: { topic: string; partition: number; offset: number }[] = [];
    /** kafkajs has no OffsetDelete: an offset a consumer already committed on the target can only be reported. */
    const leftover = (key: string) => {
      const existing = onTarget.get(key);
      return typeof existing === 'number'
        ? `; WARNING: the target already has offset ${existing} committed for this group (a consumer ran there): remove it with kafka-consumer-groups --delete-offsets --group ${group} --topic ${key} if auto.offset.reset should decide`
        : '';
    };
    for (const key of [...committed.keys()].sort(comparePartitionKeys)) {
      const { topic, partition } = parsePartitionKey(key);
      const sourceOffset = committed.get(key)!;
      if (sourceOffset === null) {
        withoutOffset.push(key);
        partitions.push({
          topic,
          partition,
          sourceOffset: null,
          targetOffset: null,
          identical: true,
          note: `no committed offset on the source: none committed on the target, the consumer's auto.offset.reset applies${leftover(key)}`,
        });
        continue;
      }
      const map = await mapOf(topic, partition);
      let targetOffset: number;
      try {
        targetOffset = translateOffset(map, sourceOffset);
      } catch (e) {
        if (e instanceof OffsetTranslationError && e.reason === 'below-copied-range') {
          // The source consumer would hit OFFSET_OUT_OF_RANGE and apply auto.offset.reset: leaving the target
          // uncommitted reproduces that exactly (earliest = first copied record, latest = end).
          withoutOffset.push(key);
          partitions.push({ topic, partition, sourceOffset, targetOffset: null, identical: false, note: `${e.message}: none committed on the target, the consumer's auto.offset.reset applies as it would on the source${leftover(key)}` });
          continue;
        }
        if (e instanceof OffsetTranslationError) {
          throw ApplicationFailure.retryable(`group "${group}": ${e.message}`, OFFSETS_NOT_COPIED);
        }
        throw e;
      }
      partitions.push({ topic, partition, sourceOffset, targetOffset, identical: sourceOffset === targetOffset });
      toCommit.push({ topic, partition, offset: targetOffset });
    }
    try {
      await onCluster('target', () => commitGroupOffsets(input.targetKafka, group, toCommit));
    } catch (e) {
      const type = (e as { type?: string }).type ?? '';
      if (['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS'].includes(type)) {
        throw ApplicationFailure.nonRetryable(`group "${group}" got members on the target while its offsets were being committed (${type}): stop those consumers and translate again`, GROUP_ACTIVE);
      }
      throw e;
    }
    result.push({
      group,
      sourceState: states.source.get(group) ?? 'Dead',
      targetState: states.target.get(group) ?? 'Dead',
      committed: toCommit.length,
      withoutOffset,
      partitions,
    });
  }
  const notes: string[] = [];
  const missing = result.flatMap((g) => g.withoutOffset.map((k) => `${g.group} ${k}`));
  if (missing.length) {
    notes.push(`${missing.length} group partition(s) have no translatable committed offset and were left without one on the target: there the consumer's auto.offset.reset decides where it starts (${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', ...' : ''})`);
  }
  return { kind: 'offset-translation', migration: input.migration, translatedAt: new Date().toISOString(), topics, groups: result, notes };
}
