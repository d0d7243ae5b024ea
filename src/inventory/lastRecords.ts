/**
 * Reads the last few records of many partitions with ONE consumer: the last record's timestamp says when a
 * topic was last written, and the records' sizes estimate its bytes. kafkajs has no manual assignment, so
 * the consumer joins a private group of its own, never commits an offset and deletes the group once it has left
 * (src/kafka/toolGroups.ts); every partition is sought to `latest - samplePerPartition`, so only the tail is read.
 */
import type { ClusterConnection } from '../config/spec';
import { createKafka, withAdmin } from '../kafka/clients';
import { deleteToolGroup } from '../kafka/toolGroups';
import { partitionKey, type PartitionSample } from './assemble';
import { isUnknownTopic } from './concurrency';
import { retry } from '../retry/backoff';
import type { ProgressFn } from './progress';

export interface SampleTarget {
  topic: string;
  partition: number;
  earliestOffset: number;
  latestOffset: number;
}

export interface SampleOptions {
  groupId: string;
  samplePerPartition: number;
  /** Partitions that have not reached their last record by then are reported, not waited for. */
  deadlineMs: number;
  progress: ProgressFn;
}

export interface SampleResult {
  /** By `topic:partition`; lastRecordTimestamp is null where the last record was not reached. */
  samples: Map<string, PartitionSample>;
  unfinished: string[];
  /** Why the private group could not be deleted after the read (it stays listed until the broker expires it). */
  groupNotDeleted?: string;
}

interface Tail extends PartitionSample {
  target: number;
  lastSeenOffset: number;
  finished: boolean;
}

/** Payload size of a record: key + value + header keys and values (what the target will store). */
function recordBytes(m: { key: Buffer | null; value: Buffer | null; headers?: Record<string, unknown> }): number {
  let n = (m.key?.length ?? 0) + (m.value?.length ?? 0);
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    n += Buffer.byteLength(k);
    for (const x of Array.isArray(v) ? v : [v]) n += Buffer.isBuffer(x) ? x.length : x == null ? 0 : Buffer.byteLength(String(x));
  }
  return n;
}

/** Samples the tails; a topic deleted meanwhile fails the consumer's subscription: drop it and start again. */
export async function sampleLastRecords(conn: ClusterConnection, targets: SampleTarget[], opts: SampleOptions): Promise<SampleResult> {
  let remaining = targets;
  return retry(
    async (attempt) => {
      if (attempt > 1) {
        const listed = new Set(await withAdmin(conn, 'source', (admin) => admin.listTopics(), { clientIdSuffix: 'inventory' }));
        remaining = remaining.filter((t) => listed.has(t.topic));
      }
      return sampleOnce(conn, remaining, opts);
    },
    { initialMs: 50, maxMs: 500, maxAttempts: 3, retryIf: isUnknownTopic },
  );
}

async function sampleOnce(conn: ClusterConnection, targets: SampleTarget[], opts: SampleOptions): Promise<SampleResult> {
  const withData = targets.filter((t) => t.latestOffset > t.earliestOffset);
  const tails = new Map<string, Tail>(
    withData.map((t) => [
      partitionKey(t.topic, t.partition),
      { target: t.latestOffset - 1, lastSeenOffset: -1, finished: false, lastRecordTimestamp: null, records: 0, bytes: 0 },
    ]),
  );
  if (withData.length === 0) return { samples: new Map(), unfinished: [] };

  let pending = tails.size;
  let settle: (error?: Error) => void = () => undefined;
  const settled = new Promise<Error | undefined>((resolve) => (settle = resolve));
  const markReached = (key: string, lastOffset: number) => {
    const tail = tails.get(key);
    if (!tail || tail.finished || lastOffset < tail.target) return;
    tail.finished = true;
    if (--pending === 0) settle();
  };

  const kafka = createKafka(conn, 'source', { clientIdSuffix: 'inventory' });
  const consumer = kafka.consumer({
    groupId: opts.groupId,
    allowAutoTopicCreation: false,
    maxBytesPerPartition: 64 * 1024,
    maxBytes: 16 * 1024 * 1024,
    maxWaitTimeInMs: 200,
  });
  // Batches of only control records or aborted messages still move the position: count them as read.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => markReached(partitionKey(payload.topic, payload.partition), Number(payload.lastOffset)));
  consumer.on(consumer.events.CRASH, ({ payload }) => settle(payload.error));

  const ticker = setInterval(() => opts.progress('last-records', { pending, of: tails.size }), 2000);
  const deadline = setTimeout(() => settle(), opts.deadlineMs);
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...new Set(withData.map((t) => t.topic))], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const tail = tails.get(partitionKey(batch.topic, batch.partition));
        if (!tail) return;
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset <= tail.lastSeenOffset) continue;
          tail.lastSeenOffset = offset;
          tail.records += 1;
          tail.bytes += recordBytes(m);
          const ts = Number(m.timestamp);
          tail.lastRecordTimestamp = Number.isFinite(ts) && ts >= 0 ? ts : null;
        }
      },
    });
    for (const t of withData)
      consumer.seek({ topic: t.topic, partition: t.partition, offset: String(Math.max(t.earliestOffset, t.latestOffset - opts.samplePerPartition)) });
    const error = await settled;
    if (error) throw error;
  } finally {
    clearInterval(ticker);
    clearTimeout(deadline);
    await consumer.disconnect().catch(() => undefined);
  }
  const groupNotDeleted = await deleteToolGroup(kafka, opts.groupId);

  const samples = new Map<string, PartitionSample>();
  const unfinished: string[] = [];
  for (const [key, t] of tails) {
    samples.set(key, { lastRecordTimestamp: t.finished ? t.lastRecordTimestamp : null, records: t.records, bytes: t.bytes });
    if (!t.finished) unfinished.push(key);
  }
  return { samples, unfinished, ...(groupNotDeleted ? { groupNotDeleted } : {}) };
}
