/**
 * Partition offsets of whole topics, keyed "topic:partition". kafkajs' admin asks ListOffsets with
 * read_committed, so `end` is the last stable offset: what a read_committed consumer (and the copy) reaches.
 */
import type { Admin } from 'kafkajs';
import type { InternalCluster } from '../copy/kafkaInternals';
import { retry } from '../retry/backoff';
import { partitionKey } from '../types/copy';
import type { PartitionOffsets } from '../types/cutover';

export interface PartitionBounds {
  start: number;
  end: number;
}

export { partitionKey };

/** Splits "topic:partition" at the last colon (topic names cannot contain one, but be exact anyway). */
export function parsePartitionKey(key: string): { topic: string; partition: number } {
  const i = key.lastIndexOf(':');
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) };
}

/** Log-start and end offsets of every partition of the topics. */
export async function fetchPartitionBounds(admin: Admin, topics: string[]): Promise<Record<string, PartitionBounds>> {
  const sorted = [...new Set(topics)].sort();
  // All topics at once: the requests pipeline on the broker connections (one topic after the other took
  // ~0.5 s for 50 topics, paid at every poll of the quiet check during the write pause).
  const fetched = await Promise.all(sorted.map((topic) => admin.fetchTopicOffsets(topic)));
  const out: Record<string, PartitionBounds> = {};
  sorted.forEach((topic, i) => {
    for (const o of fetched[i].sort((a, b) => a.partition - b.partition)) {
      out[partitionKey(topic, o.partition)] = { start: Number(o.low), end: Number(o.high) };
    }
  });
  return out;
}

export async function fetchEndOffsets(admin: Admin, topics: string[]): Promise<PartitionOffsets> {
  const bounds = await fetchPartitionBounds(admin, topics);
  return Object.fromEntries(Object.entries(bounds).map(([k, b]) => [k, b.end]));
}

/** A leader moved or not elected yet, metadata behind: worth a metadata refresh and another try. */
const RETRY_AFTER_REFRESH = new Set(['NOT_LEADER_FOR_PARTITION', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION', 'KafkaJSError']);

/**
 * Partition bounds over kafkajs' cluster, for many topics and many samples (the quiet check, a copy run's
 * start): the topics' metadata is loaded once per cluster, and each sample is one ListOffsets per leader
 * broker and bound (read_committed end; log start only when asked). admin.fetchTopicOffsets instead sends both
 * per topic, and a fresh admin refreshes the metadata once per topic new to it: 2.8 s for the first sample of
 * 200 topics, ~0.3 s for each later one (here ~90 ms and ~35 ms).
 */
export async function fetchPartitionBoundsOnCluster(cluster: InternalCluster, topics: string[]): Promise<Record<string, PartitionBounds>> {
  return boundsOnCluster(cluster, topics, true) as Promise<Record<string, PartitionBounds>>;
}

/** The read_committed end offsets of every partition of the topics, over kafkajs' cluster (see above). */
export async function fetchEndOffsetsOnCluster(cluster: InternalCluster, topics: string[]): Promise<PartitionOffsets> {
  const bounds = await boundsOnCluster(cluster, topics, false);
  return Object.fromEntries(Object.entries(bounds).map(([k, b]) => [k, b.end]));
}

async function boundsOnCluster(cluster: InternalCluster, topics: string[], withStart: boolean): Promise<Record<string, { start?: number; end: number }>> {
  const sorted = [...new Set(topics)].sort();
  if (sorted.length === 0) return {};
  return retry(
    async () => {
      await cluster.addMultipleTargetTopics(sorted);
      const request = (fromBeginning: boolean) =>
        sorted.map((topic) => ({
          topic,
          fromBeginning,
          partitions: cluster.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId })),
        }));
      const [high, low] = await Promise.all([cluster.fetchTopicsOffset(request(false)), withStart ? cluster.fetchTopicsOffset(request(true)) : undefined]);
      const offsetsOf = (answer: typeof high) => new Map(answer.map((t) => [t.topic, new Map(t.partitions.map((p) => [p.partition, Number(p.offset)]))]));
      const ends = offsetsOf(high);
      const starts = low && offsetsOf(low);
      const out: Record<string, { start?: number; end: number }> = {};
      for (const topic of sorted) {
        const topicEnds = ends.get(topic);
        if (!topicEnds) continue;
        for (const partition of [...topicEnds.keys()].sort((a, b) => a - b)) {
          const key = partitionKey(topic, partition);
          if (!starts) out[key] = { end: topicEnds.get(partition)! };
          else {
            const start = starts.get(topic)?.get(partition);
            if (start === undefined) throw Object.assign(new Error(`no log-start offset for ${key}`), { type: 'KafkaJSError' });
            out[key] = { start, end: topicEnds.get(partition)! };
          }
        }
      }
      return out;
    },
    {
      initialMs: 100,
      maxMs: 1000,
      maxAttempts: 5,
      retryIf: (e) => RETRY_AFTER_REFRESH.has((e as { type?: string; name?: string }).type ?? (e as Error).name ?? ''),
      onRetry: () => cluster.refreshMetadata(),
    },
  );
}

/** Keys whose offset differs between two samples (including partitions that appeared), sorted. */
export function changedPartitions(before: PartitionOffsets, after: PartitionOffsets): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => before[k] !== after[k]).sort(comparePartitionKeys);
}

export function comparePartitionKeys(a: string, b: string): number {
  const pa = parsePartitionKey(a);
  const pb = parsePartitionKey(b);
  return pa.topic === pb.topic ? pa.partition - pb.partition : pa.topic < pb.topic ? -1 : 1;
}
