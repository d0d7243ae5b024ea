/**
 * Which record formats the source's logs hold, per topic: the first entry at each partition's log start is fetched
 * (a few KB) and its magic byte read (byte 16 in every format: 0 = v0, Kafka 0.8-0.9; 1 = v1, 0.10; 2 = v2, 0.11+).
 * A topic whose format was upgraded keeps its old entries until retention or compaction removes them, so the first
 * entry is the oldest format still there. Every format is copied (the target gets v2): this is information for the
 * operator (v0 records have no timestamp, v0/v1 no headers), never a failure.
 */
import type { Admin } from 'kafkajs';
import { createInternalCluster } from '../../copy/kafkaInternals';
import { createKafka } from '../../kafka/clients';
import type { MigrationSpec } from '../../config/spec';
import { fetchPartition, ISOLATION } from '../../verify/independent/fetch';

const SAMPLE_BYTES = 16 * 1024;
const MAX_PARTITIONS_SAMPLED = 2000;

export interface TopicRecordFormats {
  topic: string;
  /** Formats of the first entry of its non-empty partitions, e.g. ['v1']. */
  formats: string[];
  /** Partitions whose first entry could not be read (error named). */
  unread?: string[];
}

export async function sampleRecordFormats(spec: MigrationSpec, admin: Admin, topics: string[]): Promise<TopicRecordFormats[]> {
  const cluster = createInternalCluster(createKafka(spec.source, 'source', { clientIdSuffix: 'preflight-formats', retries: 1, quiet: true }));
  await cluster.connect();
  let budget = MAX_PARTITIONS_SAMPLED;
  try {
    await cluster.addMultipleTargetTopics(topics);
    const out: TopicRecordFormats[] = [];
    for (const topic of topics) {
      const formats = new Set<string>();
      const unread: string[] = [];
      for (const p of await admin.fetchTopicOffsets(topic)) {
        if (Number(p.high) <= Number(p.low) || budget-- <= 0) continue;
        try {
          const leader = cluster.findTopicPartitionMetadata(topic).find((m) => m.partitionId === p.partition)?.leader;
          if (leader === null || leader === undefined || leader < 0) throw new Error('no leader');
          const broker = await cluster.findBroker({ nodeId: leader });
          const r = await fetchPartition(broker, {
            topic,
            partition: p.partition,
            offset: Number(p.low),
            maxBytes: SAMPLE_BYTES,
            isolationLevel: ISOLATION.readUncommitted,
            maxWaitMs: 100,
          });
          if (r.errorCode !== 0) throw new Error(`error code ${r.errorCode}`);
          if (r.records.length > 16) formats.add(`v${r.records.readInt8(16)}`);
        } catch (e) {
          unread.push(`${p.partition}: ${(e as Error).message}`);
        }
      }
      out.push({ topic, formats: [...formats].sort(), ...(unread.length ? { unread } : {}) });
    }
    return out;
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}
