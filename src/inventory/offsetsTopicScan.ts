/**
 * Which groups have committed offsets, read from the brokers' own record of them: the `__consumer_offsets` topic
 * (as Burrow and Kafka's own GroupMetadataManager do). Needed where ListGroups cannot tell:
 * - Kafka before 0.10.1 forgets a group once its last member leaves (state Dead) although its offsets stay: a group
 *   of stopped consumers, or one that only commits (assign() + commitSync), is never listed;
 * - Kafka before 2.1 answers ListGroups only to a principal with Describe on the Cluster resource;
 * - OffsetFetch before v3 (kafkajs asks "all topics" only from v3) needs the group's topics named.
 * Keys of version 0 and 1 are offset commits (group, topic, partition); a null value deletes the commit. Version 2
 * keys (group metadata) are skipped: they say nothing about offsets.
 */
import type { Admin } from 'kafkajs';
import { PartitionReader } from '../copy/partitionReader';
import { READ_UNCOMMITTED } from '../copy/fetchProtocol';
import type { InternalCluster } from '../copy/kafkaInternals';
import type { ClusterRole } from '../kafka/clients';

export const OFFSETS_TOPIC = '__consumer_offsets';
/** A whole scan gives up after this (a huge offsets topic on an old cluster: the listing goes on without it). */
const SCAN_DEADLINE_MS = 5 * 60_000;

/** Group -> topic -> partitions with a live committed offset. */
export type CommittedByGroup = Map<string, Map<string, Set<number>>>;

/** The offset-commit key's group, topic and partition, or undefined for other keys (group metadata, unknown versions). */
export function decodeOffsetCommitKey(key: Buffer | null): { group: string; topic: string; partition: number } | undefined {
  if (!key || key.length < 2) return undefined;
  const version = key.readInt16BE(0);
  if (version !== 0 && version !== 1) return undefined;
  let at = 2;
  const str = (): string => {
    const n = key.readInt16BE(at);
    at += 2;
    const s = key.toString('utf8', at, at + n);
    at += n;
    return s;
  };
  try {
    const group = str();
    const topic = str();
    const partition = key.readInt32BE(at);
    return { group, topic, partition };
  } catch {
    return undefined; // truncated: not an offset key
  }
}

/** Reads the offsets topic from each partition's start to its current end (an empty map when the cluster has none yet). */
export async function scanCommittedOffsets(cluster: InternalCluster, admin: Admin, role: ClusterRole): Promise<CommittedByGroup> {
  const out: CommittedByGroup = new Map();
  const topics = await admin.listTopics();
  if (!topics.includes(OFFSETS_TOPIC)) return out; // nobody has committed to Kafka yet
  const offsets = await admin.fetchTopicOffsets(OFFSETS_TOPIC);
  const partitions = offsets.map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) })).filter((p) => p.high > p.low);
  if (partitions.length === 0) return out;
  await cluster.addMultipleTargetTopics([OFFSETS_TOPIC]);
  const reader = new PartitionReader(
    cluster,
    partitions.map((p) => ({ topic: OFFSETS_TOPIC, partition: p.partition, position: p.low, stopAt: p.high })),
    { isolationLevel: READ_UNCOMMITTED, partitionFetchBytes: 1024 * 1024, maxBufferedBytes: 16 * 1024 * 1024, maxWaitMs: 100, cluster: role },
  );
  const position = new Map(partitions.map((p) => [p.partition, p.low]));
  const deadline = Date.now() + SCAN_DEADLINE_MS;
  reader.start();
  try {
    while (partitions.some((p) => position.get(p.partition)! < p.high)) {
      if (Date.now() > deadline) throw new Error(`reading ${OFFSETS_TOPIC} took longer than ${SCAN_DEADLINE_MS / 1000} s`);
      await reader.waitForData(1000);
      for (const p of partitions) {
        for (;;) {
          const taken = reader.take(OFFSETS_TOPIC, p.partition, 1024 * 1024, (r) => r.size);
          if (!taken) break;
          position.set(p.partition, taken.nextOffset);
          for (const rec of taken.records) {
            const k = decodeOffsetCommitKey(rec.key);
            if (!k) continue;
            const byTopic = out.get(k.group) ?? new Map<string, Set<number>>();
            const parts = byTopic.get(k.topic) ?? new Set<number>();
            if (rec.value === null) parts.delete(k.partition);
            else parts.add(k.partition);
            if (parts.size) byTopic.set(k.topic, parts);
            else byTopic.delete(k.topic);
            if (byTopic.size) out.set(k.group, byTopic);
            else out.delete(k.group);
          }
        }
      }
    }
  } finally {
    await reader.close();
  }
  return out;
}
