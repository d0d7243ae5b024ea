/**
 * The copy engine: copies a set of source partitions to the same partitions on the target, record for
 * record, in order, and keeps the exact offset map durable. A plain library function (the `copyRound`
 * activity and the benchmark script are thin wrappers around it).
 *
 * Per run: resume from the durable checkpoint (never from memory), reconcile the target tail left by a
 * crash, then loop: take buffered source records per partition (bounded by bytes, read ahead by the
 * PartitionReader), write one batch per partition in one request with an idempotent producer (a few
 * requests pipelined), check the offsets the target assigned, extend the offset runs in order, and write
 * checkpoint + runs to the store once the records are acknowledged (one store write in flight at a time,
 * overlapping the next data writes). After a crash the target holds at most the in-flight writes beyond
 * the checkpoint, and the next run reconciles them.
 */
import { fetchPartitionBoundsOnCluster } from '../cutover/endOffsets';
import { ConfigResourceTypes } from 'kafkajs';
import type { ClusterConnection } from '../config/spec';
import { partitionKey, type PartitionOffsetMap, type PartitionProgress, type TopicPartitionRef } from '../types/copy';
import { openClusterClients, type ClusterClients } from './clusterClients';
import { onCluster } from '../kafka/clusterRole';
import { NonRetryableCopyError } from './copyErrors';
import { READ_COMMITTED } from './fetchProtocol';
import { appendMapping, hasIdenticalOffsets } from './offsetRuns';
import { ensureOffsetStoreTopic, offsetMapRecords, OFFSET_STORE_TOPIC, readOffsetStore, targetIdOf } from './offsetMapStore';
import { PartitionReader, PositionOutOfRangeError } from './partitionReader';
import { encodedSizeEstimate } from './recordBatchCodec';
import type { KafkaRecord } from './kafkaRecord';
import { reconcileTargetTail, type TailToReconcile } from './reconcileTargetTail';
import { IdempotentWriter, type WriteResult } from './targetWriter';
import type { TokenBucket } from './throttle';
import { processCopyBudget, type MemoryBudget } from './memoryBudget';

const DEFAULT_MAX_MESSAGE_BYTES = 1048588;
const DEFAULT_MAX_WRITE_BYTES = 8 * 1024 * 1024;
const CHECKPOINT_INTERVAL_MS = 250;

export interface CopyPartitionsOptions {
  source: ClusterConnection;
  target: ClusterConnection;
  migration: string;
  partitions: TopicPartitionRef[];
  /** Return at this time (ms since the epoch). */
  deadline?: number;
  /**
   * Return this long after the copy began, i.e. after connecting and reading the offset store ('follow' rounds):
   * with hundreds of activities starting at once on a small worker, set-up alone could use up a short round.
   */
  followForMs?: number;
  /** Return once every partition's sourceNext reached this ("topic:partition" -> offset): 'drain'. */
  stopAt?: Record<string, number>;
  /** Bytes of one partition's fetch and produce batch (spec.copy.maxBatchBytes). */
  maxBatchBytes?: number;
  /** Read-ahead buffer over all partitions (memory bound). */
  maxBufferedBytes?: number;
  throttle?: TokenBucket;
  /** Replication factor for the store topic if it must be created. */
  storeReplicationFactor?: number;
  signal?: AbortSignal;
  onProgress?: (progress: PartitionProgress[]) => void;
  progressIntervalMs?: number;
  /** Produce requests in flight at once (pipelining; the idempotent producer keeps order, up to 5). Default 5. */
  maxInFlightWrites?: number;
  /** Bytes of records in one produce request over all partitions (at least maxBatchBytes). Default 8 MiB. */
  maxWriteBytes?: number;
  /** Memory shared with the other copies of this process; default: the process's (processCopyBudget). */
  budget?: MemoryBudget;
  /** Test hook: runs after records are acknowledged and before their checkpoint is written. */
  afterWrite?: (results: WriteResult[]) => void | Promise<void>;
  /** Records (and their bytes) of a partition the target acknowledged: the worker's metrics count them. */
  onCopied?: (ref: TopicPartitionRef, records: number, bytes: number) => void;
}

type CheckpointedMap = PartitionOffsetMap & { checkpoint: NonNullable<PartitionOffsetMap['checkpoint']> };

interface PartitionCopy {
  ref: TopicPartitionRef;
  key: string;
  map: CheckpointedMap;
  /** targetNext including writes in flight. */
  submittedTarget: number;
  /** Index of the first run changed since the last store write; Infinity when none. */
  firstChangedRun: number;
  dirty: boolean;
  produceLimit: number;
  sourceStart: number;
  sourceEnd: number;
  lagSeconds: number;
  logAppendTime: boolean;
}

/**
 * Under a throttle, a fetch larger than the round can pay for would wait past the deadline and be thrown away
 * (re-read next round): every round would copy nothing. Each partition's fetch is kept to half of what the rate
 * allows in the time left (at least 16 KiB; a larger record batch still comes whole).
 */
function throttledFetchBytes(maxBatchBytes: number, options: Pick<CopyPartitionsOptions, 'throttle' | 'deadline'>): number {
  if (!options.throttle || options.deadline === undefined) return maxBatchBytes;
  const affordable = Math.floor((options.throttle.bytesPerSecond * Math.max(0, options.deadline - Date.now())) / 1000 / 2);
  return Math.max(16 * 1024, Math.min(maxBatchBytes, affordable));
}

/** Copies until the deadline or until every partition reached stopAt, or until cancelled; returns progress. */
export async function copyPartitionsUntil(options: CopyPartitionsOptions): Promise<PartitionProgress[]> {
  if (options.deadline === undefined && options.followForMs === undefined && options.stopAt === undefined)
    throw new Error('copyPartitionsUntil needs a deadline, followForMs or stopAt');
  const maxBatchBytes = options.maxBatchBytes ?? 4 * 1024 * 1024;
  const source = await openClusterClients(options.source, 'source', 'copy');
  let target: ClusterClients | undefined;
  try {
    target = await openClusterClients(options.target, 'target', 'copy');
    const states = await prepare(options, source, target, maxBatchBytes);
    const timed = options.followForMs === undefined ? options : { ...options, deadline: Date.now() + options.followForMs };
    return await copyLoop(timed, source, target, states, maxBatchBytes);
  } finally {
    await Promise.all([source.close(), target?.close()]);
  }
}

async function prepare(options: CopyPartitionsOptions, source: ClusterClients, target: ClusterClients, maxBatchBytes: number): Promise<PartitionCopy[]> {
  const topics = [...new Set(options.partitions.map((p) => p.topic))];
  const targetTopics = new Set(await onCluster('target', () => target.admin.listTopics()));
  const missing = topics.filter((t) => !targetTopics.has(t));
  if (missing.length) {
    throw new NonRetryableCopyError('TargetTopicMissing', `target topic(s) ${missing.join(', ')} do not exist: run createTargetTopics before copying`, missing);
  }
  await onCluster('target', () => ensureOffsetStoreTopic(target.admin, options.storeReplicationFactor));
  const [sourceOffsets, targetOffsets, snapshot, maxMessageBytes] = await Promise.all([
    offsetsByPartition(source, topics),
    offsetsByPartition(target, topics),
    onCluster('target', () => readOffsetStore(target.cluster, target.admin, options.migration, targetIdOf(options.target))),
    targetMaxMessageBytes(target, topics),
  ]);
  const states: PartitionCopy[] = [];
  const tails: TailToReconcile[] = [];
  for (const ref of options.partitions) {
    const key = partitionKey(ref.topic, ref.partition);
    const s = sourceOffsets.get(key);
    const t = targetOffsets.get(key);
    // The caller (copyRound) tells a deleted source topic from a missing partition by metadata.
    if (!s) throw new NonRetryableCopyError('TargetTopicMissing', `source partition ${key} does not exist`, [ref.topic]);
    if (!t) {
      throw new NonRetryableCopyError(
        'TargetTopicMissing',
        `target partition ${key} does not exist: the target topic has fewer partitions than the source (run syncPartitionCounts)`,
        [ref.topic],
      );
    }
    const stored = snapshot.get(ref.topic, ref.partition);
    const map: CheckpointedMap = {
      ...stored,
      checkpoint: stored.checkpoint ?? {
        sourceStart: s.low,
        sourceNext: s.low,
        targetNext: t.low,
        recordsCopied: 0,
        bytesCopied: 0,
        updatedAt: new Date().toISOString(),
      },
    };
    const cp = map.checkpoint;
    if (cp.sourceNext < s.low) {
      throw new NonRetryableCopyError(
        'SourceRecordsLost',
        `source partition ${key}: records ${cp.sourceNext}..${s.low - 1} were deleted (retention) before they were copied; the copy cannot be exact. Raise retention on the source and restart the migration of this topic from scratch (delete the target topic)`,
      );
    }
    if (t.high < cp.targetNext) {
      throw new NonRetryableCopyError(
        'TargetTruncated',
        `target partition ${key} ends at offset ${t.high}, below the migration's checkpoint ${cp.targetNext}: the target topic was truncated or recreated outside the migration`,
      );
    }
    if (t.high > cp.targetNext) tails.push({ map, targetEnd: t.high });
    const limit = Math.floor((maxMessageBytes.get(ref.topic) ?? DEFAULT_MAX_MESSAGE_BYTES) * 0.9);
    states.push({
      ref,
      key,
      map,
      submittedTarget: 0,
      firstChangedRun: stored.checkpoint ? Infinity : 0,
      dirty: !stored.checkpoint,
      produceLimit: Math.max(Math.min(maxBatchBytes, limit), 1),
      sourceStart: s.low,
      sourceEnd: s.high,
      lagSeconds: 0,
      logAppendTime: false,
    });
  }
  if (tails.length) {
    const lengths = tails.map((tail) => tail.map.runs.length);
    await reconcileTargetTail(source.cluster, target.cluster, tails, options.signal);
    tails.forEach((tail, i) => {
      const st = states.find((s) => s.map === tail.map)!;
      st.firstChangedRun = Math.min(st.firstChangedRun, Math.max(lengths[i] - 1, 0));
      st.dirty = true;
    });
  }
  for (const st of states) st.submittedTarget = st.map.checkpoint.targetNext;
  return states;
}

async function copyLoop(
  options: CopyPartitionsOptions,
  source: ClusterClients,
  target: ClusterClients,
  states: PartitionCopy[],
  maxBatchBytes: number,
): Promise<PartitionProgress[]> {
  const budget = options.budget ?? processCopyBudget();
  const writer = new IdempotentWriter(target.cluster, target.conn.requestTimeoutMs);
  await writer.init([...new Set(states.map((s) => s.ref.topic)), OFFSET_STORE_TOPIC]);
  const reader = new PartitionReader(
    source.cluster,
    states.map((s) => ({ ...s.ref, position: s.map.checkpoint.sourceNext })),
    {
      isolationLevel: READ_COMMITTED,
      partitionFetchBytes: throttledFetchBytes(maxBatchBytes, options),
      maxBufferedBytes: options.maxBufferedBytes ?? Math.min(Math.max(states.length * maxBatchBytes * 2, 16 * 1024 * 1024), 128 * 1024 * 1024),
      maxWaitMs: 250,
      throttle: options.throttle,
      budget,
      cluster: 'source',
    },
  );
  let storeWrite: Promise<unknown> = Promise.resolve();
  let storeError: unknown;
  let lastFlush = 0;
  /**
   * Writes the checkpoints of partitions that moved. While copying, at most every CHECKPOINT_INTERVAL_MS (`soon`):
   * each flush rewrites a checkpoint per moving partition, and a crash costs only a longer reconciliation of
   * the target tail, never a lost or duplicated record.
   */
  const flushStore = async (soon = false) => {
    if (soon && Date.now() - lastFlush < CHECKPOINT_INTERVAL_MS) return;
    lastFlush = Date.now();
    await storeWrite;
    if (storeError) throw storeError;
    const records = states
      .filter((s) => s.dirty)
      .flatMap((s) => {
        s.map.checkpoint.updatedAt = new Date().toISOString();
        const recs = offsetMapRecords(s.map, s.firstChangedRun);
        s.dirty = false;
        s.firstChangedRun = Infinity;
        return recs;
      });
    if (records.length === 0) return;
    storeWrite = writer.write([{ topic: OFFSET_STORE_TOPIC, partition: 0, records }]).catch((e) => {
      storeError = e;
    });
  };
  const progress = () => states.map(toProgress);
  const done = () =>
    (options.stopAt !== undefined && states.every((s) => s.map.checkpoint.sourceNext >= (options.stopAt![s.key] ?? s.sourceEnd))) ||
    (options.deadline !== undefined && Date.now() >= options.deadline) ||
    options.signal?.aborted === true;

  reader.start();
  let lastProgress = 0;
  // Writes in flight, oldest first. Results are applied strictly in submission order (a promise chain),
  // so the offset map always grows in order even if a later request is acknowledged first.
  const inFlight: Promise<void>[] = [];
  let applied: Promise<void> = Promise.resolve();
  const maxInFlight = options.maxInFlightWrites ?? 5;
  const maxWriteBytes = Math.max(options.maxWriteBytes ?? DEFAULT_MAX_WRITE_BYTES, maxBatchBytes);
  let rotation = 0;
  try {
    await flushStore(); // checkpoints of reconciled or first-seen partitions right away
    while (!done()) {
      if (inFlight.length === 0) await reader.waitForData(200);
      const batch: { state: PartitionCopy; records: KafkaRecord[]; nextOffset: number; bytes: number; expectedBase: number }[] = [];
      let cost = 0;
      // One produce request carries at most maxWriteBytes: kafkajs frames a request by copying it twice into
      // power-of-two buffers, so big requests cost several times their size. Start at a rotating partition so
      // that every partition gets its turn when the cap is reached.
      let requestBytes = 0;
      const first = rotation++ % states.length;
      for (let i = 0; i < states.length && requestBytes < maxWriteBytes; i++) {
        const s = states[(first + i) % states.length];
        const taken = reader.take(s.ref.topic, s.ref.partition, Math.min(s.produceLimit, maxWriteBytes - requestBytes), encodedSizeEstimate);
        if (!taken) continue;
        if (taken.records.length === 0 && s.submittedTarget === s.map.checkpoint.targetNext) {
          // Only control records / aborted transactions / compacted batches: a gap, nothing to write.
          s.map.checkpoint.sourceNext = taken.nextOffset;
          s.dirty = true;
          continue;
        }
        batch.push({ state: s, ...taken, expectedBase: s.submittedTarget });
        cost += taken.cost;
        requestBytes += taken.bytes;
        s.submittedTarget += taken.records.length;
      }
      if (batch.length) {
        const written = writer.write(
          batch.filter((b) => b.records.length).map((b) => ({ topic: b.state.ref.topic, partition: b.state.ref.partition, records: b.records })),
        );
        // Acknowledged (or failed) records hold no memory any more: neither their fetched bytes nor the request.
        written.then(
          () => budget.release(cost),
          () => budget.release(cost),
        );
        applied = applied.then(async () => {
          const results = await written;
          for (const b of batch) {
            const r = results.find((x) => x.topic === b.state.ref.topic && x.partition === b.state.ref.partition);
            applyWrite(b.state, b.records, r ? r.baseOffset : b.expectedBase, b.expectedBase, b.nextOffset, b.bytes);
            options.onCopied?.(b.state.ref, b.records.length, b.bytes);
          }
          await options.afterWrite?.(results);
        });
        applied.catch(() => undefined); // a failure surfaces where the write is awaited, never as unhandled
        inFlight.push(applied);
      }
      // Keep at most maxInFlight writes outstanding; with nothing new to send, wait for the oldest.
      while (inFlight.length >= maxInFlight || (batch.length === 0 && inFlight.length > 0)) {
        await inFlight.shift();
        if (batch.length === 0) break;
      }
      if (storeError) throw storeError;
      await flushStore(true);
      for (const s of states) updateLag(s, reader);
      if (options.onProgress && Date.now() - lastProgress >= (options.progressIntervalMs ?? 2000)) {
        lastProgress = Date.now();
        options.onProgress(progress());
      }
    }
    while (inFlight.length) await inFlight.shift();
    await flushStore();
    await storeWrite;
    if (storeError) throw storeError;
    for (const s of states) updateLag(s, reader);
    return progress();
  } catch (e) {
    if (e instanceof PositionOutOfRangeError) {
      const s = states.find((st) => st.ref.topic === e.topic && st.ref.partition === e.partition);
      throw new NonRetryableCopyError(
        'SourceRecordsLost',
        `source partition ${e.topic}:${e.partition}: offset ${e.position} is no longer on the source (deleted by retention before it was copied${s ? `; copied up to ${s.map.checkpoint.sourceNext}` : ''}). Raise retention on the source and restart the migration of this topic from scratch`,
      );
    }
    throw e;
  } finally {
    await reader.close();
    await applied.catch(() => undefined);
    await storeWrite;
  }
}

/** Checks the offsets the target assigned and extends the offset map. */
function applyWrite(s: PartitionCopy, records: { offset: number }[], baseOffset: number, expectedBase: number, nextOffset: number, bytes: number): void {
  const cp = s.map.checkpoint;
  if (baseOffset !== expectedBase || expectedBase !== cp.targetNext) {
    throw new NonRetryableCopyError(
      'TargetWrittenByOthers',
      `target partition ${s.key}: the copied records landed at offset ${baseOffset}, expected ${expectedBase}: someone else writes to the target topic (or another copy of this partition runs concurrently)`,
    );
  }
  s.firstChangedRun = Math.min(s.firstChangedRun, Math.max(s.map.runs.length - 1, 0));
  for (let i = 0; i < records.length; i++) appendMapping(s.map.runs, records[i].offset, baseOffset + i);
  cp.sourceNext = nextOffset;
  cp.targetNext = baseOffset + records.length;
  cp.recordsCopied += records.length;
  cp.bytesCopied += bytes;
  s.dirty = true;
}

function updateLag(s: PartitionCopy, reader: PartitionReader): void {
  const info = reader.info(s.ref.topic, s.ref.partition);
  if (info.lastStableOffset >= 0) s.sourceEnd = Math.max(info.lastStableOffset, s.map.checkpoint.sourceNext);
  if (info.logStartOffset >= 0) s.sourceStart = info.logStartOffset;
  s.logAppendTime ||= info.logAppendTime;
  if (s.sourceEnd <= s.map.checkpoint.sourceNext) s.lagSeconds = 0;
  else if (info.headTimestamp !== undefined && info.headTimestamp >= 0) s.lagSeconds = Math.max(0, (Date.now() - info.headTimestamp) / 1000);
}

function toProgress(s: PartitionCopy): PartitionProgress {
  const cp = s.map.checkpoint;
  return {
    topic: s.ref.topic,
    partition: s.ref.partition,
    sourceStart: s.sourceStart,
    sourceEnd: s.sourceEnd,
    sourceNext: cp.sourceNext,
    targetNext: cp.targetNext,
    lagRecords: Math.max(0, s.sourceEnd - cp.sourceNext),
    lagSeconds: s.lagSeconds,
    bytesCopied: cp.bytesCopied,
    recordsCopied: cp.recordsCopied,
    identicalOffsets: hasIdenticalOffsets(s.map),
    ...(s.logAppendTime ? { logAppendTime: true } : {}),
  };
}

/**
 * Log start (low) and end (high, read_committed) of every partition of the topics: one metadata refresh and
 * two ListOffsets per leader broker for all topics (admin.fetchTopicOffsets per topic cost a metadata refresh
 * and two requests per topic: seconds for the 50 topics of a drain activity).
 */
async function offsetsByPartition(clients: ClusterClients, topics: string[]): Promise<Map<string, { low: number; high: number }>> {
  const bounds = await onCluster(clients.role, () => fetchPartitionBoundsOnCluster(clients.cluster, topics));
  return new Map(Object.entries(bounds).map(([key, b]) => [key, { low: b.start, high: b.end }]));
}

async function targetMaxMessageBytes(target: ClusterClients, topics: string[]): Promise<Map<string, number>> {
  const described = await onCluster('target', () =>
    target.admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['max.message.bytes'] })),
    }),
  );
  const out = new Map<string, number>();
  for (const r of described.resources) {
    const v = r.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue;
    if (v) out.set(r.resourceName, Number(v));
  }
  return out;
}
