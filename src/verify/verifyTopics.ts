/**
 * Verification of a batch after the drain: every partition's source range against its copy (counts, digests,
 * offset map), every group's translated offsets, and topic configs after the profile filter.
 *
 * Both sides are read with the verification decoder (src/verify/independent, through src/verify/rangeReader.ts),
 * which shares no decoding code with the copy engine: a record the engine's decoder altered on read would be
 * altered on the target only, and shows as a mismatch. Many partitions are compared at once, in chunks sized so
 * that memory stays bounded whatever the topic sizes (src/verify/readChunks.ts). The report names the decoder. The report lists partitions in topic then partition order, however
 * they were read.
 */
import type { Admin } from 'kafkajs';
import type { InternalCluster } from '../copy/kafkaInternals';
import { translateOffset } from '../copy/translateOffset';
import { mapLimit } from '../inventory/concurrency';
import type { PartitionOffsetMap } from '../types/copy';
import type {
  GroupPartitionVerification,
  GroupVerification,
  PartitionVerification,
  TopicConfigVerification,
  VerificationReport,
  VerifyBatchRef,
} from '../types/verify';
import { fetchPartitionBounds, parsePartitionKey, type PartitionBounds } from '../cutover/endOffsets';
import { committedOffsets } from '../cutover/translateGroupOffsets';
import { heartbeatProgress } from '../cutover/activityContext';
import { onCluster, onClusterStream } from '../kafka/clusterRole';
import { comparePartition, type ComparePartitionResult, type ProbeHit } from './comparePartition';
import { checkGroupOffset } from './checkGroupOffset';
import { compareTopicConfigs, describeTopicConfigs, timestampType } from './compareConfigs';
import { chunkByMemory, maxBatchBytes, partitionHoldBytes, PARTITION_FETCH_BYTES, type ReadChunk } from './readChunks';
import { RangeReader } from './rangeReader';
import { ISOLATION, VERIFICATION_DECODER } from './independent';

/** One cluster as verification uses it: an admin, and the raw cluster (kafkajs transport) the reader fetches through. */
export interface VerifyCluster {
  admin: Admin;
  cluster: InternalCluster;
}

export interface VerifyClients {
  source: VerifyCluster;
  target: VerifyCluster;
  /** null when the migration has no map for the partition. */
  loadMap: (topic: string, partition: number) => Promise<PartitionOffsetMap | null>;
}

/** Groups whose committed offsets are fetched at once (two requests each: source and target). */
const GROUP_CONCURRENCY = 8;
/** Heartbeats while partitions are read, also when no partition finishes for a while (big partitions). */
const HEARTBEAT_MS = 5000;

interface PartitionPlan {
  topic: string;
  partition: number;
  source: { from: number; end: number };
  target: { from: number; end: number };
  map: PartitionOffsetMap | null;
  notes: string[];
}

/** One partition of the report, in report order: missing on the target, or compared. */
type Slot = { key: string; missing: true } | ComparedSlot;

interface ComparedSlot {
  key: string;
  missing: false;
  plan: PartitionPlan;
  includeTimestamp: boolean;
  probes: { source: number[]; target: number[] };
  /** Worst-case bytes the partition holds in each side's reader (readChunks.ts). */
  holdBytes: number;
  result?: ComparePartitionResult;
}

/** Which source range is comparable with which target range, given what the copy started from. */
function planPartition(
  topic: string,
  partition: number,
  s: PartitionBounds,
  t: PartitionBounds,
  map: PartitionOffsetMap | null,
  afterCutover: boolean,
): PartitionPlan {
  const notes: string[] = [];
  const cp = map?.checkpoint ?? null;
  // After the cutover the clients write to the target: what lies beyond the copy's end is theirs, not a copy.
  let targetEnd = t.end;
  if (afterCutover && cp && t.end > cp.targetNext) {
    notes.push(`target offsets [${cp.targetNext}, ${t.end}) were written on the target after the cutover (by clients): not compared`);
    targetEnd = cp.targetNext;
  }
  let sourceFrom = s.start;
  if (cp && cp.sourceStart > s.start) {
    notes.push(`source offsets [${s.start}, ${cp.sourceStart}) were never copied (the copy started at ${cp.sourceStart})`);
    sourceFrom = cp.sourceStart;
  }
  let targetFrom = t.start;
  if (map && cp && sourceFrom <= cp.sourceNext) {
    const mapped = translateOffset(map, sourceFrom);
    if (mapped > t.start)
      notes.push(
        `target offsets [${t.start}, ${mapped}) hold copies of source records deleted since on the source (below its log-start ${s.start}): not compared`,
      );
    // Copies deleted on the target (mapped < t.start) surface below as missing records.
    targetFrom = Math.max(mapped, t.start);
  }
  return { topic, partition, source: { from: sourceFrom, end: s.end }, target: { from: targetFrom, end: targetEnd }, map, notes };
}

export async function verifyTopics(input: {
  migration: string;
  batch: VerifyBatchRef;
  unsupportedTopicConfigs: string[];
  clients: VerifyClients;
  /**
   * Verification after the batch's clients may use the target (the workflow's step): target records beyond the
   * copy's end and group offsets that moved on from the translated ones are the clients' own, not mismatches.
   */
  afterCutover?: boolean;
}): Promise<VerificationReport> {
  const started = Date.now();
  const { clients } = input;
  const topics = [...new Set(input.batch.topics.map((t) => t.name))].sort();
  const groups = [...new Set(input.batch.groups)].sort();
  const mismatches: string[] = [];

  const targetTopics = new Set(await onCluster('target', () => clients.target.admin.listTopics()));
  const present = topics.filter((t) => targetTopics.has(t));
  const [sourceConfigs, targetConfigs] = await Promise.all([
    onCluster('source', () => describeTopicConfigs(clients.source.admin, topics)),
    onCluster('target', () => describeTopicConfigs(clients.target.admin, present)),
  ]);
  const configs: TopicConfigVerification[] = [];
  for (const topic of topics) {
    if (!targetTopics.has(topic)) continue;
    const c = compareTopicConfigs(topic, sourceConfigs.get(topic) ?? new Map(), targetConfigs.get(topic) ?? new Map(), input.unsupportedTopicConfigs);
    configs.push(c);
    for (const d of c.differences) mismatches.push(`${topic}: config ${d.key} differs: source ${d.source ?? '(unset)'}, target ${d.target ?? '(unset)'}`);
  }

  for (const t of topics.filter((t) => !targetTopics.has(t))) mismatches.push(`${t}: topic does not exist on the target`);
  const [sourceBounds, targetBounds] = await Promise.all([
    onCluster('source', () => fetchPartitionBounds(clients.source.admin, topics)),
    onCluster('target', () => fetchPartitionBounds(clients.target.admin, present)),
  ]);

  // Committed offsets of every group on both sides, known before the walk so it can fingerprint their records.
  const committed = new Map<string, { source: Map<string, number | null>; target: Map<string, number | null> }>();
  await mapLimit(groups, GROUP_CONCURRENCY, async (g) => {
    const [source, target] = await Promise.all([
      onCluster('source', () => committedOffsets(clients.source.admin, g, topics)),
      onCluster('target', () => committedOffsets(clients.target.admin, g, present)),
    ]);
    committed.set(g, { source, target });
  });
  const probesOf = (side: 'source' | 'target', key: string) =>
    groups.map((g) => committed.get(g)![side].get(key)).filter((o): o is number => typeof o === 'number');

  // Every partition of the present topics, in report order, with what to compare.
  const maps = new Map<string, PartitionOffsetMap | null>();
  const keysByTopic = new Map<string, string[]>();
  for (const key of Object.keys(sourceBounds)) {
    const { topic } = parsePartitionKey(key);
    const keys = keysByTopic.get(topic);
    if (keys) keys.push(key);
    else keysByTopic.set(topic, [key]);
  }
  const slots: Slot[] = [];
  for (const topic of present) {
    const keys = (keysByTopic.get(topic) ?? []).sort((a, b) => parsePartitionKey(a).partition - parsePartitionKey(b).partition);
    const includeTimestamp = timestampType(sourceConfigs.get(topic)) === 'CreateTime';
    const holdBytes = partitionHoldBytes(Math.max(maxBatchBytes(sourceConfigs.get(topic)), maxBatchBytes(targetConfigs.get(topic))));
    for (const key of keys) {
      const { partition } = parsePartitionKey(key);
      const tb = targetBounds[key];
      if (!tb) {
        slots.push({ key, missing: true });
        continue;
      }
      const map = await onCluster('target', () => clients.loadMap(topic, partition));
      maps.set(key, map);
      const plan = planPartition(topic, partition, sourceBounds[key], tb, map, input.afterCutover === true);
      slots.push({ key, missing: false, plan, includeTimestamp, holdBytes, probes: { source: probesOf('source', key), target: probesOf('target', key) } });
    }
  }

  // Largest ranges first: the partitions of a chunk then take similar times.
  const compared = slots.filter((s): s is ComparedSlot => !s.missing);
  const rangeSize = (s: ComparedSlot) => s.plan.source.end - s.plan.source.from + (s.plan.target.end - s.plan.target.from);
  const order = [...compared].sort((a, b) => rangeSize(b) - rangeSize(a));
  let done = 0;
  const total = Object.keys(sourceBounds).length;
  const progress = () => heartbeatProgress({ phase: 'verify', partitionsDone: done, partitions: total });
  const beat = setInterval(progress, HEARTBEAT_MS);
  try {
    // Metadata of every topic once, not once per chunk that brings new topics.
    await Promise.all([
      onCluster('source', () => clients.source.cluster.addMultipleTargetTopics(present)),
      onCluster('target', () => clients.target.cluster.addMultipleTargetTopics(present)),
    ]);
    for (const chunk of chunkByMemory(order, (s) => s.holdBytes)) {
      await compareChunk(clients, chunk, () => {
        done++;
        progress();
      });
    }
  } finally {
    clearInterval(beat);
  }

  const partitions: PartitionVerification[] = [];
  const hits = new Map<string, { source: Map<number, ProbeHit>; target: Map<number, ProbeHit> }>();
  for (const slot of slots) {
    if (slot.missing) {
      mismatches.push(`${slot.key}: partition does not exist on the target`);
      continue;
    }
    const result = slot.result!;
    if (!slot.includeTimestamp) slot.plan.notes.push('LogAppendTime topic: timestamps are stamped by each cluster and left out of the digest');
    result.verification.notes.push(...slot.plan.notes);
    partitions.push(result.verification);
    mismatches.push(...result.verification.mismatches);
    hits.set(slot.key, { source: result.sourceProbes, target: result.targetProbes });
  }

  const planned = new Map(slots.flatMap((x) => (x.missing ? [] : [[x.key, x.plan] as const])));
  const groupResults: GroupVerification[] = groups.map((group) => {
    const c = committed.get(group)!;
    const rows: GroupPartitionVerification[] = [];
    for (const key of [...new Set([...c.source.keys(), ...c.target.keys()])].sort()) {
      const sourceOffset = c.source.get(key) ?? null;
      const targetOffset = c.target.get(key) ?? null;
      const row = checkGroupOffset({
        ...parsePartitionKey(key),
        sourceOffset,
        targetOffset,
        map: maps.get(key) ?? null,
        sourceHit: sourceOffset === null ? undefined : hits.get(key)?.source.get(sourceOffset),
        targetHit: targetOffset === null ? undefined : hits.get(key)?.target.get(targetOffset),
        targetEnd: planned.get(key)?.target.end ?? targetBounds[key]?.end ?? 0,
        targetLiveEnd: input.afterCutover === true ? (targetBounds[key]?.end ?? 0) : undefined,
      });
      rows.push(row);
      if (!row.ok) mismatches.push(`group ${group} ${key}: ${row.detail}`);
    }
    return { group, ok: rows.every((r) => r.ok), partitions: rows };
  });

  return {
    kind: 'verification',
    decoder: VERIFICATION_DECODER,
    migration: input.migration,
    batch: { number: input.batch.number, name: input.batch.name, topics, groups },
    verifiedAt: new Date().toISOString(),
    durationMs: Date.now() - started,
    ok: mismatches.length === 0,
    partitions,
    groups: groupResults,
    configs,
    mismatches,
  };
}

/**
 * Compares the partitions of one chunk concurrently, each side read by one reader for the whole chunk. The
 * first failure stops the others; the readers are closed once every comparison has settled.
 */
async function compareChunk(clients: VerifyClients, chunk: ReadChunk<ComparedSlot>, onDone: () => void): Promise<void> {
  const options = { partitionFetchBytes: PARTITION_FETCH_BYTES };
  const source = new RangeReader(
    clients.source.cluster,
    chunk.items.map(({ plan }) => ({ topic: plan.topic, partition: plan.partition, from: plan.source.from, to: plan.source.end })),
    { ...options, role: 'source', isolationLevel: ISOLATION.readCommitted },
  );
  const target = new RangeReader(
    clients.target.cluster,
    chunk.items.map(({ plan }) => ({ topic: plan.topic, partition: plan.partition, from: plan.target.from, to: plan.target.end })),
    { ...options, role: 'target', isolationLevel: ISOLATION.readUncommitted },
  );
  let failure: { error: unknown } | undefined;
  try {
    await Promise.allSettled(
      chunk.items.map(async (slot) => {
        const { topic, partition } = slot.plan;
        try {
          slot.result = await comparePartition({
            topic,
            partition,
            map: slot.plan.map,
            includeTimestamp: slot.includeTimestamp,
            source: {
              records: onClusterStream('source', source.records(topic, partition)),
              start: slot.plan.source.from,
              end: slot.plan.source.end,
              probes: slot.probes.source,
            },
            target: {
              records: onClusterStream('target', target.records(topic, partition)),
              start: slot.plan.target.from,
              end: slot.plan.target.end,
              probes: slot.probes.target,
            },
          });
          onDone();
        } catch (error) {
          if (failure) return;
          failure = { error };
          const reason = new Error(`verification stopped: reading ${topic}:${partition} failed`);
          source.abort(reason);
          target.abort(reason);
        }
      }),
    );
  } finally {
    await Promise.all([source.close(), target.close()]);
  }
  if (failure) throw failure.error;
}
