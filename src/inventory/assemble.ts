/**
 * Turns what the collectors read from the cluster into the inventory: per-topic totals and byte estimates,
 * group lag, business systems, and the inactive / unclaimed flags. Pure (no I/O), so it is unit-testable
 * and its rules live in one place.
 */
import type { MigrationSpec } from '../config/spec';
import { isClusterInternalTopic } from '../plan/scope';
import { systemMatcher } from '../plan/systems';
import type {
  GroupInventory,
  GroupMemberInventory,
  GroupOffsetInventory,
  Inventory,
  InventoryPhases,
  InventoryCluster,
  PartitionInventory,
  SystemInventory,
  TopicConfigEntry,
  TopicInventory,
} from '../types/inventory';
import { compareNames } from '../plan/compare';

export interface RawPartition {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  earliestOffset: number;
  latestOffset: number;
}

export interface PartitionSample {
  lastRecordTimestamp: number | null;
  records: number;
  bytes: number;
}

export interface RawTopic {
  name: string;
  partitions: RawPartition[];
  configs: TopicConfigEntry[];
  timestampType: 'CreateTime' | 'LogAppendTime' | null;
  cleanupPolicy: string | null;
}

export interface RawGroup {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: GroupMemberInventory[];
  committed: { topic: string; partition: number; offset: number }[];
}

export interface AssembleInput {
  spec: Pick<MigrationSpec, 'name' | 'businessSystems' | 'thresholds'>;
  now: number;
  durationMs: number;
  phases?: InventoryPhases;
  cluster: InventoryCluster;
  topics: RawTopic[];
  /** Samples by `topic:partition`. */
  samples: Map<string, PartitionSample>;
  groups: RawGroup[];
  warnings: string[];
}

const DAY_MS = 86_400_000;

export const partitionKey = (topic: string, partition: number) => `${topic}:${partition}`;

export function assembleInventory(input: AssembleInput): Inventory {
  const { spec, now } = input;
  const warnings = [...input.warnings];
  const matcher = systemMatcher(spec);
  const topics = [...input.topics].sort((a, b) => compareNames(a.name, b.name)).map((t) => topicTotals(t, input.samples));
  const byName = new Map(topics.map((t) => [t.name, t]));

  for (const t of topics) {
    if (t.internal) continue;
    const m = matcher.topic(t.name);
    t.system = m.system;
    if (m.ambiguous.length) warnings.push(`topic ${t.name} matches the rules of several systems (${m.ambiguous.join(', ')}): it is put in ${m.system}`);
  }

  const groups = [...input.groups].sort((a, b) => compareNames(a.groupId, b.groupId)).map((g) => groupWithLag(g, byName));
  for (const g of groups) {
    const fromTopics = [...new Set(g.topics.map((t) => byName.get(t)?.system).filter((s): s is string => !!s))].sort();
    const own = matcher.group(g.groupId);
    g.systems = fromTopics.length ? fromTopics : own.system ? [own.system] : [];
    for (const t of g.topics) byName.get(t)?.groups.push(g.groupId);
    flagUnclaimed(g);
  }
  for (const t of topics) flagInactive(t, now, spec.thresholds.inactiveDays, warnings);

  const systems: SystemInventory[] = spec.businessSystems
    .map((s) => {
      const own = topics.filter((t) => t.system === s.name);
      return {
        name: s.name,
        priority: s.priority,
        topics: own.map((t) => t.name),
        groups: groups.filter((g) => g.systems.includes(s.name)).map((g) => g.groupId),
        partitions: sum(own.map((t) => t.partitions)),
        records: sum(own.map((t) => t.records)),
        bytes: sum(own.map((t) => t.bytes)),
      };
    })
    .sort((a, b) => compareNames(a.name, b.name));

  return {
    migration: spec.name,
    collectedAt: new Date(now).toISOString(),
    durationMs: input.durationMs,
    ...(input.phases ? { phases: input.phases } : {}),
    cluster: input.cluster,
    inactiveDays: spec.thresholds.inactiveDays,
    topics,
    groups,
    systems,
    unassigned: {
      topics: topics.filter((t) => !t.internal && t.system === null).map((t) => t.name),
      groups: groups.filter((g) => g.systems.length === 0).map((g) => g.groupId),
    },
    warnings,
  };
}

function topicTotals(raw: RawTopic, samples: Map<string, PartitionSample>): TopicInventory {
  const partitionDetails: PartitionInventory[] = [...raw.partitions]
    .sort((a, b) => a.partition - b.partition)
    .map((p) => {
      const s = samples.get(partitionKey(raw.name, p.partition));
      return {
        ...p,
        records: Math.max(0, p.latestOffset - p.earliestOffset),
        lastRecordTimestamp: s?.lastRecordTimestamp ?? null,
        sampledRecords: s?.records ?? 0,
        sampledBytes: s?.bytes ?? 0,
      };
    });
  const sampledRecords = sum(partitionDetails.map((p) => p.sampledRecords));
  const avgRecordBytes = sampledRecords > 0 ? sum(partitionDetails.map((p) => p.sampledBytes)) / sampledRecords : null;
  const records = sum(partitionDetails.map((p) => p.records));
  const stamps = partitionDetails.map((p) => p.lastRecordTimestamp).filter((x): x is number => x !== null);
  const last = stamps.length ? Math.max(...stamps) : null;
  return {
    name: raw.name,
    internal: isClusterInternalTopic(raw.name),
    partitions: partitionDetails.length,
    replicationFactor: Math.max(0, ...partitionDetails.map((p) => p.replicas.length)),
    configs: raw.configs,
    timestampType: raw.timestampType,
    cleanupPolicy: raw.cleanupPolicy,
    records,
    bytes: avgRecordBytes === null ? 0 : Math.round(records * avgRecordBytes),
    avgRecordBytes: avgRecordBytes === null ? null : Math.round(avgRecordBytes),
    lastRecordTimestamp: last,
    lastRecordAt: last === null ? null : new Date(last).toISOString(),
    partitionDetails,
    system: null,
    groups: [],
    flags: [],
    flagReasons: {},
  };
}

function groupWithLag(raw: RawGroup, topics: Map<string, TopicInventory>): GroupInventory {
  const offsets: GroupOffsetInventory[] = raw.committed
    .filter((c) => c.offset >= 0)
    .sort((a, b) => compareNames(a.topic, b.topic) || a.partition - b.partition)
    .map((c) => {
      const p = topics.get(c.topic)?.partitionDetails.find((x) => x.partition === c.partition);
      const latestOffset = p ? p.latestOffset : null;
      const lag = latestOffset === null ? null : Math.max(0, latestOffset - c.offset);
      return { topic: c.topic, partition: c.partition, committedOffset: c.offset, latestOffset, lag };
    });
  const named = new Set<string>(offsets.map((o) => o.topic));
  for (const m of raw.members) {
    m.subscription.forEach((t) => named.add(t));
    m.assignment.forEach((a) => named.add(a.topic));
  }
  const all = [...named].sort();
  return {
    groupId: raw.groupId,
    state: raw.state,
    protocolType: raw.protocolType,
    protocol: raw.protocol,
    members: raw.members,
    topics: all.filter((t) => topics.has(t)),
    missingTopics: all.filter((t) => !topics.has(t)),
    offsets,
    totalLag: sum(offsets.map((o) => o.lag ?? 0)),
    systems: [],
    flags: [],
    flagReasons: {},
  };
}

/** No member, and no committed offset on a topic that exists: nothing will miss this group. */
function flagUnclaimed(g: GroupInventory): void {
  if (g.members.length > 0) return;
  const liveOffsets = g.offsets.filter((o) => o.latestOffset !== null);
  if (liveOffsets.length > 0) return;
  const missing = [...new Set(g.offsets.map((o) => o.topic))].sort();
  g.flags.push('unclaimed');
  g.flagReasons.unclaimed = missing.length
    ? `${g.state} with committed offsets only on missing topics (${missing.join(', ')})`
    : `${g.state} with no committed offsets`;
}

/** No write for `days` (by the last record's timestamp) and no group consuming it. */
function flagInactive(t: TopicInventory, now: number, days: number, warnings: string[]): void {
  if (t.internal || t.groups.length > 0) return;
  if (t.records > 0 && t.lastRecordTimestamp === null) {
    warnings.push(`topic ${t.name}: the timestamp of its last record could not be read, so it is not judged inactive`);
    return;
  }
  const idleMs = t.lastRecordTimestamp === null ? Infinity : now - t.lastRecordTimestamp;
  if (idleMs < days * DAY_MS) return;
  t.flags.push('inactive');
  t.flagReasons.inactive =
    t.lastRecordTimestamp === null
      ? `holds no records (latest offset ${Math.max(0, ...t.partitionDetails.map((p) => p.latestOffset))}) and no group consumes it`
      : `last record written ${t.lastRecordAt} (${(idleMs / DAY_MS).toFixed(1)} days ago, threshold ${days} days) and no group consumes it`;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
