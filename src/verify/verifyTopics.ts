/**
 * Verification of a batch after the drain: every partition's source range against its copy (counts, digests,
 * offset map), every group's translated offsets, and topic configs after the profile filter. Topics are read
 * one partition at a time per side, so memory stays bounded whatever the topic size.
 */
import type { Admin, Kafka } from 'kafkajs';
import { translateOffset } from '../copy/translateOffset';
import type { PartitionOffsetMap } from '../types/copy';
import type { GroupPartitionVerification, GroupVerification, PartitionVerification, TopicConfigVerification, VerificationReport, VerifyBatchRef } from '../types/verify';
import { fetchPartitionBounds, parsePartitionKey, type PartitionBounds } from '../cutover/endOffsets';
import { committedOffsets } from '../cutover/translateGroupOffsets';
import { heartbeatProgress } from '../cutover/activityContext';
import { onCluster, onClusterStream } from '../cutover/clusterRole';
import { comparePartition, type ProbeHit } from './comparePartition';
import { checkGroupOffset } from './checkGroupOffset';
import { compareTopicConfigs, describeTopicConfigs, timestampType } from './compareConfigs';
import { TopicRangeReader } from './topicRangeReader';

export interface VerifyClients {
  sourceKafka: Kafka;
  targetKafka: Kafka;
  sourceAdmin: Admin;
  targetAdmin: Admin;
  /** null when the migration has no map for the partition. */
  loadMap: (topic: string, partition: number) => Promise<PartitionOffsetMap | null>;
}

interface PartitionPlan {
  topic: string;
  partition: number;
  source: { from: number; end: number };
  target: { from: number; end: number };
  map: PartitionOffsetMap | null;
  notes: string[];
}

/** Which source range is comparable with which target range, given what the copy started from. */
function planPartition(topic: string, partition: number, s: PartitionBounds, t: PartitionBounds, map: PartitionOffsetMap | null): PartitionPlan {
  const notes: string[] = [];
  const cp = map?.checkpoint ?? null;
  let sourceFrom = s.start;
  if (cp && cp.sourceStart > s.start) {
    notes.push(`source offsets [${s.start}, ${cp.sourceStart}) were never copied (the copy started at ${cp.sourceStart})`);
    sourceFrom = cp.sourceStart;
  }
  let targetFrom = t.start;
  if (map && cp && sourceFrom <= cp.sourceNext) {
    const mapped = translateOffset(map, sourceFrom);
    if (mapped > t.start) notes.push(`target offsets [${t.start}, ${mapped}) hold copies of source records deleted since on the source (below its log-start ${s.start}): not compared`);
    // Copies deleted on the target (mapped < t.start) surface below as missing records.
    targetFrom = Math.max(mapped, t.start);
  }
  return { topic, partition, source: { from: sourceFrom, end: s.end }, target: { from: targetFrom, end: t.end }, map, notes };
}

export async function verifyTopics(input: {
  migration: string;
  batch: VerifyBatchRef;
  unsupportedTopicConfigs: string[];
  clients: VerifyClients;
}): Promise<VerificationReport> {
  const started = Date.now();
  const { clients } = input;
  const topics = [...new Set(input.batch.topics.map((t) => t.name))].sort();
  const groups = [...new Set(input.batch.groups)].sort();
  const mismatches: string[] = [];

  const targetTopics = new Set(await onCluster('target', () => clients.targetAdmin.listTopics()));
  const present = topics.filter((t) => targetTopics.has(t));
  const [sourceConfigs, targetConfigs] = await Promise.all([
    onCluster('source', () => describeTopicConfigs(clients.sourceAdmin, topics)),
    onCluster('target', () => describeTopicConfigs(clients.targetAdmin, present)),
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
    onCluster('source', () => fetchPartitionBounds(clients.sourceAdmin, topics)),
    onCluster('target', () => fetchPartitionBounds(clients.targetAdmin, present)),
  ]);

  // Committed offsets of every group on both sides, known before the walk so it can fingerprint their records.
  const committed = new Map<string, { source: Map<string, number | null>; target: Map<string, number | null> }>();
  for (const g of groups) {
    committed.set(g, {
      source: await onCluster('source', () => committedOffsets(clients.sourceAdmin, g, topics)),
      target: await onCluster('target', () => committedOffsets(clients.targetAdmin, g, present)),
    });
  }
  const probesOf = (side: 'source' | 'target', key: string) =>
    groups.map((g) => committed.get(g)![side].get(key)).filter((o): o is number => typeof o === 'number');

  const partitions: PartitionVerification[] = [];
  const maps = new Map<string, PartitionOffsetMap | null>();
  const hits = new Map<string, { source: Map<number, ProbeHit>; target: Map<number, ProbeHit> }>();
  let done = 0;
  const total = Object.keys(sourceBounds).length;
  for (const topic of present) {
    const keys = Object.keys(sourceBounds).filter((k) => parsePartitionKey(k).topic === topic);
    const includeTimestamp = timestampType(sourceConfigs.get(topic)) === 'CreateTime';
    const groupIdPrefix = `kafka-migrate-verify-${input.migration}`;
    const sourceReader = await onCluster('source', () => TopicRangeReader.open(clients.sourceKafka, topic, { groupIdPrefix }));
    const targetReader = await onCluster('target', () => TopicRangeReader.open(clients.targetKafka, topic, { groupIdPrefix })).catch(async (e) => {
      await sourceReader.close();
      throw e;
    });
    try {
      for (const key of keys.sort((a, b) => parsePartitionKey(a).partition - parsePartitionKey(b).partition)) {
        const { partition } = parsePartitionKey(key);
        const tb = targetBounds[key];
        if (!tb) {
          mismatches.push(`${key}: partition does not exist on the target`);
          continue;
        }
        const map = await onCluster('target', () => clients.loadMap(topic, partition));
        maps.set(key, map);
        const plan = planPartition(topic, partition, sourceBounds[key], tb, map);
        const result = await comparePartition({
          topic,
          partition,
          map,
          includeTimestamp,
          source: { records: onClusterStream('source', sourceReader.read(partition, plan.source.from, plan.source.end)), start: plan.source.from, end: plan.source.end, probes: probesOf('source', key) },
          target: { records: onClusterStream('target', targetReader.read(partition, plan.target.from, plan.target.end)), start: plan.target.from, end: plan.target.end, probes: probesOf('target', key) },
        });
        if (!includeTimestamp) plan.notes.push('LogAppendTime topic: timestamps are stamped by each cluster and left out of the digest');
        result.verification.notes.push(...plan.notes);
        partitions.push(result.verification);
        mismatches.push(...result.verification.mismatches);
        hits.set(key, { source: result.sourceProbes, target: result.targetProbes });
        heartbeatProgress({ phase: 'verify', partitionsDone: ++done, partitions: total });
      }
    } finally {
      await Promise.all([sourceReader.close(), targetReader.close()]);
    }
  }

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
        targetEnd: targetBounds[key]?.end ?? 0,
      });
      rows.push(row);
      if (!row.ok) mismatches.push(`group ${group} ${key}: ${row.detail}`);
    }
    return { group, ok: rows.every((r) => r.ok), partitions: rows };
  });

  return {
    kind: 'verification',
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

