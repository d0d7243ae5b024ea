/**
 * Moves consumer group positions to the target: each committed source offset is translated exactly through
 * the offset map and committed on the target. Refuses (non-retryable, naming the groups and their members:
 * src/cutover/activeGroups.ts) while a group is not Empty on the source (it could still commit there), or has
 * members on the target and offsets there that differ from the translation (a write would race them). A group
 * whose target offsets already are the translation (an earlier attempt committed them) needs no write: it
 * counts as translated even with members on the target, so a retry after a consumer started early succeeds.
 */
import type { Admin, Kafka } from 'kafkajs';
import type { PartitionOffsetMap } from '../types/copy';
import type { GroupOffsetTranslation, GroupState, OffsetTranslationReport } from '../types/cutover';
import { mapLimitSettled } from './boundedConcurrency';
import { onCluster } from '../kafka/clusterRole';
import { CONNECTIONS, GroupOffsetCommitter } from './commitGroupOffsets';
import { parsePartitionKey, partitionKey } from './endOffsets';
import { describeGroupStates, isInactive } from './groupStates';
import { groupsActiveOnSource, groupsActiveOnTarget } from './activeGroups';
import { partitionsToTranslate, translateGroup, type CommittedOffsets, type GroupTranslation } from './groupTranslation';
import type { OffsetMapLoader } from './offsetMaps';

export { OFFSETS_NOT_COPIED } from './groupTranslation';

/** Groups fetched or committed at once: enough to hide round trips, few enough not to flood a coordinator. */
export const GROUP_CONCURRENCY = 64;

/** Connections per broker for these groups: one per 8 groups, at most CONNECTIONS (a single group needs one). */
export function connectionsFor(groups: readonly unknown[]): number {
  return Math.max(1, Math.min(CONNECTIONS, Math.ceil(groups.length / 8)));
}
/** Commit errors that mean a consumer joined the group after the activity checked it was inactive. */
export const MEMBER_JOINED = ['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS'];

export { GROUP_ACTIVE, GROUP_ACTIVE_ON_TARGET } from '../types/failureTypes';

/**
 * Loads the brokers and the topics' metadata into a freshly connected admin: kafkajs' first group call
 * without them fails, refreshes and retries after its retry back-off (~300 ms), and each topic new to the
 * admin would cost one more metadata request in the first fetchOffsets.
 */
async function loadMetadata(admin: Admin, topics: string[]): Promise<void> {
  // kafkajs reads an empty topic list as "all topics": skip it, the cost is only the back-off then.
  if (topics.length > 0) await admin.fetchTopicMetadata({ topics });
}

/** The groups' states on both clusters; refuses (GroupActive) when any is active on the source. */
async function groupStates(source: Admin, target: Admin, groups: string[]): Promise<{ source: Map<string, GroupState>; target: Map<string, GroupState> }> {
  const [onSource, onTarget] = await Promise.all([
    onCluster('source', () => describeGroupStates(source, 'source', groups)),
    onCluster('target', () => describeGroupStates(target, 'target', groups)),
  ]);
  const active = onSource.filter((g) => !isInactive(g));
  if (active.length) throw groupsActiveOnSource(active);
  return { source: new Map(onSource.map((g) => [g.group, g])), target: new Map(onTarget.map((g) => [g.group, g])) };
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
  /** Every partition of the batch's topics (on the source). */
  partitions: ReadonlySet<string>;
  /** The offset maps of the partitions with a committed source offset. */
  maps: Map<string, PartitionOffsetMap>;
}

/**
 * Committed offsets of every group on both clusters, GROUP_CONCURRENCY groups at a time, and the offset maps
 * they need: a group's maps start loading as soon as its source offsets are known, so the one read of the
 * offset store overlaps the remaining fetches. One OffsetFetch per group and cluster, over connections kept
 * for the whole call (GroupOffsetCommitter).
 */
async function fetchGroupOffsets(
  input: { source: GroupOffsetCommitter; target: GroupOffsetCommitter; loadMap: OffsetMapLoader },
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
      const [source, target] = await Promise.all([
        onCluster('source', () => input.source.fetch(group, topics)).then((c) => {
          for (const key of partitionsToTranslate(c.offsets)) void mapOf(key);
          return c;
        }),
        onCluster('target', () => input.target.fetch(group, topics)),
      ]);
      return { group, committed: source.offsets, onTarget: target.offsets, partitions: source.partitions };
    });
    return await Promise.all(
      fetched.map(async (f) => ({
        ...f,
        maps: new Map(await Promise.all(partitionsToTranslate(f.committed).map(async (key) => [key, await mapOf(key)] as const))),
      })),
    );
  } finally {
    // Nothing keeps reading behind a failure.
    await Promise.allSettled(loading.values());
  }
}

/**
 * Commits every group's translated offsets through the target committer, GROUP_CONCURRENCY groups at a
 * time. A consumer that joined a group since the check makes its commit fail: non-retryable GroupActive.
 */
async function commitTranslations(committer: GroupOffsetCommitter, target: Admin, pending: (GroupTranslation & { group: string })[]): Promise<void> {
  if (pending.length === 0) return;
  await mapLimitSettled(pending, GROUP_CONCURRENCY, async ({ group, toCommit }) => {
    try {
      await onCluster('target', () => committer.commit(group, toCommit));
    } catch (e) {
      const type = (e as { type?: string }).type ?? '';
      if (MEMBER_JOINED.includes(type)) {
        const [state] = await onCluster('target', () => describeGroupStates(target, 'target', [group])).catch(() => [
          { group, cluster: 'target' as const, state: 'Unknown', protocolType: '', protocol: '', members: [] },
        ]);
        throw groupsActiveOnTarget([state], `a consumer joined it while its offsets were being committed (${type})`);
      }
      throw e;
    }
  });
}

export async function translateGroupOffsets(input: {
  migration: string;
  groups: string[];
  topics: string[];
  source: Admin;
  target: Admin;
  /** Offsets are read on the source's group coordinators directly (see commitGroupOffsets). */
  sourceKafka: Kafka;
  /** Offsets are read and commits go straight to the target's group coordinators (see commitGroupOffsets). */
  targetKafka: Kafka;
  loadMap: OffsetMapLoader;
  /**
   * Runs beside the commit with the finished report (writing it inside the write pause would add its time to the
   * commit's). When the commit fails it is awaited before the failure is thrown, so the caller can amend it.
   */
  whileCommitting?: (report: OffsetTranslationReport) => Promise<void>;
}): Promise<OffsetTranslationReport> {
  const groups = [...new Set(input.groups)].sort();
  const topics = [...new Set(input.topics)].sort();
  const [sourceClient, targetClient] = await Promise.all([
    onCluster('source', () => GroupOffsetCommitter.open(input.sourceKafka, topics, connectionsFor(groups))).catch((e) => e as Error),
    onCluster('target', () => GroupOffsetCommitter.open(input.targetKafka, topics, connectionsFor(groups))).catch((e) => e as Error),
  ]);
  try {
    if (sourceClient instanceof Error) throw sourceClient;
    if (targetClient instanceof Error) throw targetClient;
    return await translateWith({ ...input, groups, topics, sourceClient, targetClient });
  } finally {
    await Promise.all([sourceClient, targetClient].map((c) => (c instanceof GroupOffsetCommitter ? c.close() : undefined)));
  }
}

async function translateWith(input: {
  migration: string;
  groups: string[];
  topics: string[];
  source: Admin;
  target: Admin;
  sourceClient: GroupOffsetCommitter;
  targetClient: GroupOffsetCommitter;
  loadMap: OffsetMapLoader;
  whileCommitting?: (report: OffsetTranslationReport) => Promise<void>;
}): Promise<OffsetTranslationReport> {
  const { groups, topics } = input;
  const timingsMs: Record<string, number> = {};
  let lap = Date.now();
  const timed = (part: string) => {
    const now = Date.now();
    timingsMs[part] = now - lap;
    lap = now;
  };
  await Promise.all([onCluster('source', () => loadMetadata(input.source, topics)), onCluster('target', () => loadMetadata(input.target, topics))]);
  timed('metadata');
  const states = await groupStates(input.source, input.target, groups);
  timed('groupStates');
  const fetched = await fetchGroupOffsets({ source: input.sourceClient, target: input.targetClient, loadMap: input.loadMap }, groups, topics);
  timed('fetchOffsetsAndMaps');
  // Every group is translated before anything is committed: a partition not copied yet refuses them all.
  const translated = fetched.map((f) => {
    const t = translateGroup(f.group, f.committed, f.onTarget, (key) => f.maps.get(key)!, f.partitions);
    // Committed by an earlier attempt (or nothing to commit): no write needed, so a consumer that joined since
    // on the target cannot be overwritten or raced.
    const needsWrite = t.toCommit.some((o) => f.onTarget.get(partitionKey(o.topic, o.partition)) !== o.offset);
    return { group: f.group, ...t, needsWrite, alreadyCommitted: t.toCommit.length > 0 && !needsWrite };
  });
  timed('translate');
  const busy = translated.filter((t) => t.needsWrite && (states.target.get(t.group)?.members.length ?? 0) > 0);
  if (busy.length) {
    throw groupsActiveOnTarget(
      busy.map((t) => states.target.get(t.group)!),
      `its committed offsets there differ from the translation (or are missing)`,
    );
  }
  const result: GroupOffsetTranslation[] = translated.map((t) => ({
    group: t.group,
    sourceState: states.source.get(t.group)?.state ?? 'Dead',
    targetState: states.target.get(t.group)?.state ?? 'Dead',
    committed: t.toCommit.length,
    alreadyCommitted: t.alreadyCommitted,
    withoutOffset: t.withoutOffset,
    uncommitted: t.uncommitted,
    partitions: t.partitions,
  }));
  const notes: string[] = [];
  const already = result.filter((g) => g.alreadyCommitted).map((g) => g.group);
  if (already.length)
    notes.push(
      `${already.length} group(s) already held exactly the translated offsets on the target (committed by an earlier attempt): nothing written for them (${already.join(', ')})`,
    );
  const missing = result.flatMap((g) => g.withoutOffset.map((k) => `${g.group} ${k}`));
  const uncommitted = result.reduce((n, g) => n + g.uncommitted, 0);
  if (missing.length || uncommitted) {
    const listed = missing.length ? ` (${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', ...' : ''})` : '';
    const counted = uncommitted ? `; ${uncommitted} of them have no committed offset on either cluster and are not listed` : '';
    notes.push(
      `${missing.length + uncommitted} group partition(s) have no translatable committed offset and were left without one on the target: there the consumer's auto.offset.reset decides where it starts${counted}${listed}`,
    );
  }
  const report: OffsetTranslationReport = {
    kind: 'offset-translation',
    migration: input.migration,
    translatedAt: new Date().toISOString(),
    topics,
    groups: result,
    notes,
    timingsMs,
  };
  const [committed, reported] = await Promise.allSettled([
    commitTranslations(
      input.targetClient,
      input.target,
      translated.filter((t) => t.needsWrite),
    ),
    input.whileCommitting?.(report),
  ]);
  timed('commit');
  if (committed.status === 'rejected') throw committed.reason;
  if (reported.status === 'rejected') throw reported.reason;
  return report;
}
