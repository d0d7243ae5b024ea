/**
 * Moves consumer group positions to the target: each committed source offset is translated exactly through
 * the offset map and committed on the target. Refuses (non-retryable, naming the group) while the group is
 * not Empty on the source (it could still commit there) or has members on the target (they would overwrite
 * or race the commit). Committing the same translation again is harmless, so a retry is idempotent.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Admin, Kafka } from 'kafkajs';
import type { PartitionOffsetMap } from '../types/copy';
import type { GroupOffsetTranslation, OffsetTranslationReport } from '../types/cutover';
import { mapLimitSettled } from './boundedConcurrency';
import { onCluster } from './clusterRole';
import { GroupOffsetCommitter } from './commitGroupOffsets';
import { parsePartitionKey, partitionKey } from './endOffsets';
import { describeGroupStates, isInactive } from './groupStates';
import { partitionsToTranslate, translateGroup, type CommittedOffsets, type GroupTranslation } from './groupTranslation';
import type { OffsetMapLoader } from './offsetMaps';

export { OFFSETS_NOT_COPIED } from './groupTranslation';

/** Groups fetched or committed at once: enough to hide round trips, few enough not to flood a coordinator. */
const GROUP_CONCURRENCY = 8;
/** Commit errors that mean a consumer joined the group after the activity checked it was inactive. */
const MEMBER_JOINED = ['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS'];

export const GROUP_ACTIVE = 'GroupActive';

/**
 * Loads the brokers and the topics' metadata into a freshly connected admin: kafkajs' first group call
 * without them fails, refreshes and retries after its retry back-off (~300 ms), and each topic new to the
 * admin would cost one more metadata request in the first fetchOffsets.
 */
async function loadMetadata(admin: Admin, topics: string[]): Promise<void> {
  // kafkajs reads an empty topic list as "all topics": skip it, the cost is only the back-off then.
  if (topics.length > 0) await admin.fetchTopicMetadata({ topics });
}

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
export async function committedOffsets(admin: Admin, group: string, topics: string[]): Promise<CommittedOffsets> {
  const out: CommittedOffsets = new Map();
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

interface FetchedGroup {
  group: string;
  committed: CommittedOffsets;
  onTarget: CommittedOffsets;
  /** The offset maps of the partitions with a committed source offset. */
  maps: Map<string, PartitionOffsetMap>;
}

/**
 * Committed offsets of every group on both clusters, GROUP_CONCURRENCY groups at a time, and the offset maps
 * they need: a group's maps start loading as soon as its source offsets are known, so the one read of the
 * offset store overlaps the remaining fetches.
 */
async function fetchGroupOffsets(
  input: { source: Admin; target: Admin; loadMap: OffsetMapLoader },
  groups: string[],
  topics: string[],
): Promise<FetchedGroup[]> {
  const loading = new Map<string, Promise<PartitionOffsetMap>>();
  const mapOf = (key: string): Promise<PartitionOffsetMap> => {
    let map = loading.get(key);
    if (!map) {
      const { topic, partition } = parsePartitionKey(key);
      map = onCluster('target', () => input.loadMap(topic, partition));
      map.catch(() => undefined); // awaited below; a failure must not surface as an unhandled rejection first
      loading.set(key, map);
    }
    return map;
  };
  try {
    const fetched = await mapLimitSettled(groups, GROUP_CONCURRENCY, async (group) => {
      const [committed, onTarget] = await Promise.all([
        onCluster('source', () => committedOffsets(input.source, group, topics)).then((c) => {
          for (const key of partitionsToTranslate(c)) void mapOf(key);
          return c;
        }),
        onCluster('target', () => committedOffsets(input.target, group, topics)),
      ]);
      return { group, committed, onTarget };
    });
    return await Promise.all(
      fetched.map(async (f) => ({ ...f, maps: new Map(await Promise.all(partitionsToTranslate(f.committed).map(async (key) => [key, await mapOf(key)] as const))) })),
    );
  } finally {
    // Nothing keeps reading behind a failure.
    await Promise.allSettled(loading.values());
  }
}

/**
 * Commits every group's translated offsets over one connection to the target, GROUP_CONCURRENCY groups at
 * a time. A consumer that joined a group since the check makes its commit fail: non-retryable GroupActive.
 */
async function commitTranslations(targetKafka: Kafka, translated: (GroupTranslation & { group: string })[]): Promise<void> {
  const pending = translated.filter((t) => t.toCommit.length > 0);
  if (pending.length === 0) return;
  const committer = await onCluster('target', () => GroupOffsetCommitter.open(targetKafka, pending.flatMap((t) => t.toCommit.map((o) => o.topic))));
  try {
    await mapLimitSettled(pending, GROUP_CONCURRENCY, async ({ group, toCommit }) => {
      try {
        await onCluster('target', () => committer.commit(group, toCommit));
      } catch (e) {
        const type = (e as { type?: string }).type ?? '';
        if (MEMBER_JOINED.includes(type)) {
          throw ApplicationFailure.nonRetryable(`group "${group}" got members on the target while its offsets were being committed (${type}): stop those consumers and translate again`, GROUP_ACTIVE);
        }
        throw e;
      }
    });
  } finally {
    await committer.close();
  }
}

export async function translateGroupOffsets(input: {
  migration: string;
  groups: string[];
  topics: string[];
  source: Admin;
  target: Admin;
  /** Commits go straight to the target's group coordinators (see commitGroupOffsets). */
  targetKafka: Kafka;
  loadMap: OffsetMapLoader;
}): Promise<OffsetTranslationReport> {
  const groups = [...new Set(input.groups)].sort();
  const topics = [...new Set(input.topics)].sort();
  await Promise.all([onCluster('source', () => loadMetadata(input.source, topics)), onCluster('target', () => loadMetadata(input.target, topics))]);
  const states = await assertGroupsInactive(input.source, input.target, groups);
  const fetched = await fetchGroupOffsets(input, groups, topics);
  // Every group is translated before anything is committed: a partition not copied yet refuses them all.
  const translated = fetched.map((f) => ({ group: f.group, ...translateGroup(f.group, f.committed, f.onTarget, (key) => f.maps.get(key)!) }));
  await commitTranslations(input.targetKafka, translated);
  const result: GroupOffsetTranslation[] = translated.map((t) => ({
    group: t.group,
    sourceState: states.source.get(t.group) ?? 'Dead',
    targetState: states.target.get(t.group) ?? 'Dead',
    committed: t.toCommit.length,
    withoutOffset: t.withoutOffset,
    partitions: t.partitions,
  }));
  const notes: string[] = [];
  const missing = result.flatMap((g) => g.withoutOffset.map((k) => `${g.group} ${k}`));
  if (missing.length) {
    notes.push(`${missing.length} group partition(s) have no translatable committed offset and were left without one on the target: there the consumer's auto.offset.reset decides where it starts (${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', ...' : ''})`);
  }
  return { kind: 'offset-translation', migration: input.migration, translatedAt: new Date().toISOString(), topics, groups: result, notes };
}
