/**
 * A fetch loop over an explicit set of partitions, each at an exact position: no consumer group, no
 * rebalances, nothing committed anywhere. Fetches go to each partition's leader in parallel; decoded
 * records wait in per-partition queues bounded by bytes (backpressure), and the position always moves to
 * the end of the last whole batch seen, so control batches, aborted transactions and compacted-away
 * batches are stepped over exactly.
 */
import { decodeRecordSet, type DecodedBatch } from './recordBatchCodec';
import { sendFetch, READ_COMMITTED, type FetchPartitionResponse } from './fetchProtocol';
import { errorFromCode, type InternalCluster } from './kafkaInternals';
import { NonRetryableCopyError } from './copyErrors';
import { isUnknownTopic } from '../inventory/concurrency';
import type { KafkaRecord } from './kafkaRecord';
import type { TokenBucket } from './throttle';
import { BYTES_HELD_PER_RECORD_BYTE, recordCost, type MemoryBudget } from './memoryBudget';
import { partitionKey, type TopicPartitionRef } from '../types/copy';
import type { ClusterRole } from '../kafka/clients';
import { tagClusterRole } from '../kafka/clusterRole';
import { backoffDelay, sleep, type BackoffPolicy } from '../retry/backoff';

const OFFSET_OUT_OF_RANGE = 1;
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const MAX_PARTITION_FETCH_BYTES = 64 * 1024 * 1024;
const MAX_CONSECUTIVE_FAILURES = 10;
/** Between fetches after a transient failure (leader move, connection): 400 ms doubling to 5 s. */
const FETCH_BACKOFF: BackoffPolicy = { initialMs: 400, maxMs: 5000 };

export interface ReaderPartition extends TopicPartitionRef {
  position: number;
  /** Stop fetching once the position reaches this offset. */
  stopAt?: number;
}

export interface ReaderOptions {
  isolationLevel: number;
  /** Target size of one partition's fetch; also what one partition may hold buffered. */
  partitionFetchBytes: number;
  /** Total buffered bytes over all partitions. */
  maxBufferedBytes: number;
  maxWaitMs: number;
  throttle?: TokenBucket;
  /**
   * Shared by all copies in the process: a fetch reserves room first, buffered records are charged their cost,
   * and take() hands that cost to the caller, who releases it once the records are written.
   */
  budget?: MemoryBudget;
  /** The cluster read: named in error messages, and every error the reader raises is tagged with it (clusterRole). */
  cluster: ClusterRole;
}

/** Records taken from a partition's queue; `nextOffset` is the position after them. */
export interface TakenRecords {
  records: KafkaRecord[];
  nextOffset: number;
  bytes: number;
  /** What the records hold of the memory budget (recordCost each): release it once they are written. */
  cost: number;
}

export class PositionOutOfRangeError extends Error {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly position: number,
    cluster: string,
  ) {
    super(`${cluster} partition ${topic}:${partition}: offset ${position} is out of range (deleted by retention or beyond the end)`);
    this.name = 'PositionOutOfRangeError';
  }
}

interface Chunk {
  records: KafkaRecord[];
  /** Index of the first record not taken yet. */
  next: number;
  nextOffset: number;
  bytes: number;
  /** Budget still charged for the records not taken yet. */
  cost: number;
}

/**
 * A fetch reserves for what its records will hold until written (recordCost): at least this many budget bytes
 * per fetched byte, which also covers the fetch itself (kafkajs' received chunks, their concatenation and each
 * partition's own copy). Small records cost more per byte (their objects): the reader learns the ratio.
 */
const MIN_BUDGET_PER_FETCHED_BYTE = BYTES_HELD_PER_RECORD_BYTE;
/** Before the first response: what ~100-byte records cost, so that a reader's first fetch does not overshoot. */
const INITIAL_BUDGET_PER_FETCHED_BYTE = 8;
/** The smallest fetch worth sending when the budget is tight. */
const MIN_FETCH_BYTES = 1024 * 1024;

class PartitionState {
  chunks: Chunk[] = [];
  buffered = 0;
  fetchBytes: number;
  highWatermark = -1;
  lastStableOffset = -1;
  logStartOffset = -1;
  logAppendTime = false;
  constructor(
    readonly ref: ReaderPartition,
    fetchBytes: number,
  ) {
    this.fetchBytes = fetchBytes;
  }
}

/**
 * Only a partial batch came back. When the batch is larger than this partition's fetch size, ask for all of it
 * next time (KIP-74 only returns an oversized batch whole for the first partition of a response); when it is
 * not, the response's overall limit cut it and the next fetch will do.
 */
function growFetchSize(s: PartitionState, partial: Buffer): void {
  if (partial.length < 12) return;
  const batchBytes = 12 + partial.readInt32BE(8); // baseOffset (8) + batchLength (4) + batchLength bytes
  if (batchBytes > s.fetchBytes) s.fetchBytes = Math.min(Math.max(batchBytes, s.fetchBytes * 2), MAX_PARTITION_FETCH_BYTES);
}

export class PartitionReader {
  private readonly states = new Map<string, PartitionState>();
  private buffered = 0;
  private closed = false;
  private failure: Error | undefined;
  private dataWaiters: (() => void)[] = [];
  private spaceWaiters: (() => void)[] = [];
  private loop: Promise<void> | undefined;
  private rotation = 0;
  /** Budget bytes held per fetched byte, as observed (see MIN_BUDGET_PER_FETCHED_BYTE). */
  private costPerByte = INITIAL_BUDGET_PER_FETCHED_BYTE;
  /** Cancels a fetch waiting for budget when the reader closes. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly kafka: InternalCluster,
    partitions: ReaderPartition[],
    private readonly options: ReaderOptions,
  ) {
    for (const p of partitions) this.states.set(partitionKey(p.topic, p.partition), new PartitionState({ ...p }, options.partitionFetchBytes));
  }

  start(): void {
    this.loop ??= this.run().catch((e) => this.fail(e));
  }

  /** Fetch metadata of the partition (end offsets, log start) as of the last fetch response. */
  info(
    topic: string,
    partition: number,
  ): { position: number; highWatermark: number; lastStableOffset: number; logStartOffset: number; logAppendTime: boolean; headTimestamp: number | undefined } {
    const s = this.state(topic, partition);
    const head = s.chunks.find((c) => c.next < c.records.length);
    return {
      position: s.ref.position,
      highWatermark: s.highWatermark,
      lastStableOffset: s.lastStableOffset,
      logStartOffset: s.logStartOffset,
      logAppendTime: s.logAppendTime,
      headTimestamp: head ? head.records[head.next].timestamp : undefined,
    };
  }

  hasData(topic: string, partition: number): boolean {
    return this.state(topic, partition).chunks.length > 0;
  }

  /** Takes buffered records in order up to about maxBytes (at least one record) or maxRecords. */
  take(topic: string, partition: number, maxBytes: number, sizeOf: (r: KafkaRecord) => number): TakenRecords | undefined {
    const s = this.state(topic, partition);
    if (s.chunks.length === 0) return undefined;
    const out: KafkaRecord[] = [];
    let bytes = 0;
    let cost = 0;
    let released = 0;
    let nextOffset = -1;
    while (s.chunks.length) {
      const chunk = s.chunks[0];
      while (chunk.next < chunk.records.length) {
        const rec = chunk.records[chunk.next];
        const size = sizeOf(rec);
        if (out.length > 0 && bytes + size > maxBytes) break;
        out.push(rec);
        bytes += size;
        const c = this.options.budget ? recordCost(rec.size) : 0;
        cost += c;
        chunk.cost -= c;
        chunk.next++;
        nextOffset = rec.offset + 1;
      }
      if (chunk.next < chunk.records.length) break;
      s.chunks.shift();
      released += chunk.bytes;
      nextOffset = chunk.nextOffset;
    }
    if (released) this.release(s, released);
    return { records: out, nextOffset, bytes, cost };
  }

  /** Stops reading a partition and drops what is buffered for it (a caller that needs no more of it). */
  stopPartition(topic: string, partition: number): void {
    const s = this.state(topic, partition);
    s.ref.stopAt = s.ref.position;
    let released = 0;
    for (const chunk of s.chunks) {
      released += chunk.bytes;
      this.options.budget?.release(chunk.cost);
    }
    s.chunks = [];
    if (released) this.release(s, released);
  }

  /** Resolves when some partition has data, after timeoutMs, or rejects when the fetch loop failed. */
  async waitForData(timeoutMs: number): Promise<void> {
    if (this.failure) throw this.failure;
    for (const s of this.states.values()) if (s.chunks.length) return;
    await this.waitForNewData(timeoutMs);
  }

  /**
   * Resolves when the next fetched records arrive (whatever is buffered already), after timeoutMs, or rejects when
   * the fetch loop failed. For callers that cannot use what is buffered yet: waitForData would return at once
   * and their loop would never let the fetches' I/O run.
   */
  async waitForNewData(timeoutMs: number): Promise<void> {
    if (this.failure) throw this.failure;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.dataWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopping.abort();
    this.wake(this.spaceWaiters);
    await this.loop;
    // Records fetched but never taken give their share of the budget back.
    for (const s of this.states.values()) {
      for (const chunk of s.chunks) this.options.budget?.release(chunk.cost);
      s.chunks = [];
    }
  }

  private state(topic: string, partition: number): PartitionState {
    const s = this.states.get(partitionKey(topic, partition));
    if (!s) throw new Error(`partition ${topic}:${partition} is not read by this reader`);
    return s;
  }

  private release(s: PartitionState, bytes: number): void {
    s.buffered -= bytes;
    this.buffered -= bytes;
    this.wake(this.spaceWaiters);
  }

  private wake(waiters: (() => void)[]): void {
    const all = waiters.splice(0);
    for (const w of all) w();
  }

  private fail(e: unknown): void {
    this.failure ??= tagClusterRole(e instanceof Error ? e : new Error(String(e)), this.options.cluster);
    this.closed = true;
    this.wake(this.dataWaiters);
  }

  private async run(): Promise<void> {
    await this.kafka.addMultipleTargetTopics([...new Set([...this.states.values()].map((s) => s.ref.topic))]);
    let failures = 0;
    while (!this.closed) {
      const eligible = [...this.states.values()].filter((s) => (s.ref.stopAt === undefined || s.ref.position < s.ref.stopAt) && s.buffered < s.fetchBytes);
      if (eligible.length === 0 || this.buffered >= this.options.maxBufferedBytes) {
        await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
        continue;
      }
      try {
        await this.fetchOnce(eligible);
        failures = 0;
      } catch (e) {
        if (this.closed) return;
        // A topic gone from the metadata never comes back by retrying (kafkajs' metadata refresh would retry for
        // seconds each time): the caller tells a deletion from a leader move.
        if (isUnknownTopic(e)) throw e;
        const err = e as { retriable?: boolean; name?: string };
        const transient = err.retriable === true || /Connection|Timeout|NotLeader|Metadata|BrokerNotFound/i.test(err.name ?? '');
        if (!transient || ++failures > MAX_CONSECUTIVE_FAILURES) throw e;
        await sleep(backoffDelay(FETCH_BACKOFF, failures));
        await this.kafka.refreshMetadata().catch(() => undefined);
      }
    }
  }

  /** One fetch per leader, in parallel, for the eligible partitions. */
  private async fetchOnce(eligible: PartitionState[]): Promise<void> {
    // Rotate the order so that no partition is always last in a size-limited response.
    const rotated = eligible.map((_, i) => eligible[(i + this.rotation) % eligible.length]);
    this.rotation++;
    const perLeader = new Map<number, PartitionState[]>();
    let staleMetadata = false;
    for (const s of rotated) {
      const meta = this.kafka.findTopicPartitionMetadata(s.ref.topic).find((m) => m.partitionId === s.ref.partition);
      if (!meta || meta.leader === null || meta.leader === undefined || meta.leader < 0) {
        staleMetadata = true;
        continue;
      }
      perLeader.set(meta.leader, [...(perLeader.get(meta.leader) ?? []), s]);
    }
    const room = Math.max(this.options.maxBufferedBytes - this.buffered, 1024 * 1024);
    const results = await Promise.all(
      [...perLeader].map(async ([nodeId, states]) => {
        const broker = await this.kafka.findBroker({ nodeId });
        const byTopic = new Map<string, PartitionState[]>();
        for (const s of states) byTopic.set(s.ref.topic, [...(byTopic.get(s.ref.topic) ?? []), s]);
        const topics = [...byTopic].map(([topic, ss]) => ({
          topic,
          partitions: ss.map((s) => ({ partition: s.ref.partition, fetchOffset: s.ref.position, maxBytes: Math.max(s.fetchBytes - s.buffered, 64 * 1024) })),
        }));
        const asked = topics.reduce((n, t) => n + t.partitions.reduce((m, p) => m + p.maxBytes, 0), 0);
        let maxBytes = Math.min(room, 256 * 1024 * 1024);
        const budget = this.options.budget;
        const reservation = {
          bytes: budget
            ? await budget.reserve(this.costPerByte * Math.min(MIN_FETCH_BYTES, asked), this.costPerByte * Math.min(maxBytes, asked), this.stopping.signal)
            : 0,
        };
        try {
          // Under a budget the response may be cut short of what the partitions asked for: accept() then sees
          // partial batches that are not "too large" (see growFetchSize).
          if (budget) maxBytes = Math.max(Math.floor(reservation.bytes / this.costPerByte), 64 * 1024);
          const response = await sendFetch(broker, { isolationLevel: this.options.isolationLevel, maxWaitTime: this.options.maxWaitMs, maxBytes, topics });
          let stale = false;
          for (const t of response.topics) {
            for (const p of t.partitions) {
              const s = this.states.get(partitionKey(t.topic, p.partition));
              if (s && (await this.accept(s, p, reservation))) stale = true;
            }
          }
          return stale;
        } finally {
          // The records kept were paid for out of the reservation in accept(); what is left goes back.
          budget?.release(reservation.bytes);
        }
      }),
    );
    if (staleMetadata || results.some(Boolean)) {
      await this.kafka.refreshMetadata();
      if (staleMetadata && perLeader.size === 0) await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Applies one partition's fetch result; true when metadata looks stale (leader moved). */
  private async accept(s: PartitionState, p: FetchPartitionResponse, reservation: { bytes: number }): Promise<boolean> {
    const { topic, partition } = s.ref;
    if (p.errorCode === OFFSET_OUT_OF_RANGE) throw new PositionOutOfRangeError(topic, partition, s.ref.position, this.options.cluster);
    if (p.errorCode !== 0) {
      const err = errorFromCode(p.errorCode, `fetch from ${this.options.cluster} partition ${topic}:${partition}`);
      // Deleted topic or moved partition: fail now, the caller looks at the metadata (src/copy/sourceTopicMissing.ts).
      if (p.errorCode === UNKNOWN_TOPIC_OR_PARTITION) throw err;
      if (err.retriable) return true;
      throw err;
    }
    s.highWatermark = p.highWatermark;
    s.lastStableOffset = p.lastStableOffset >= 0 ? p.lastStableOffset : p.highWatermark;
    if (p.logStartOffset >= 0) s.logStartOffset = p.logStartOffset;
    if (p.records.length === 0) return false;

    // Records are slices of what they were decoded from: decode from this partition's own copy, so that the
    // fetch response (all partitions) is freed now and a partition's records keep only their own bytes alive.
    const { batches, partialBytes } = await decodeRecordSet(Buffer.from(p.records)).catch((e: Error) => {
      // The same bytes decode the same way every time: retrying cannot help.
      throw new NonRetryableCopyError(
        'SourceBatchUnreadable',
        `${this.options.cluster} partition ${topic}:${partition} at offset ${s.ref.position}: ${e.message}`,
      );
    });
    if (batches.length === 0) {
      if (partialBytes > 0) growFetchSize(s, p.records);
      return false;
    }
    const records = this.committedRecords(s, batches, p.abortedTransactions);
    const nextOffset = batches[batches.length - 1].lastOffset + 1;
    if (nextOffset <= s.ref.position) return false;
    const bytes = p.records.length - partialBytes;
    await this.options.throttle?.take(bytes);
    s.ref.position = nextOffset;
    let cost = 0;
    if (this.options.budget) {
      for (const r of records) cost += recordCost(r.size);
      if (bytes > 0) this.costPerByte = Math.max(MIN_BUDGET_PER_FETCHED_BYTE, 0.7 * this.costPerByte + 0.3 * (cost / bytes));
      // Paid from the fetch's reservation; only a response costlier than reserved charges more.
      const fromReservation = Math.min(cost, reservation.bytes);
      reservation.bytes -= fromReservation;
      this.options.budget.charge(cost - fromReservation);
    }
    s.chunks.push({ records, next: 0, nextOffset, bytes, cost });
    s.buffered += bytes;
    this.buffered += bytes;
    this.wake(this.dataWaiters);
    return false;
  }

  /**
   * Records at or after the position, without control records and, when reading committed data, without
   * records of aborted transactions (the Java consumer's algorithm: an aborted transaction's records are
   * dropped from its first offset until its producer's abort marker).
   */
  private committedRecords(s: PartitionState, batches: DecodedBatch[], abortedTransactions: { producerId: number; firstOffset: number }[]): KafkaRecord[] {
    const position = s.ref.position;
    const aborted = [...abortedTransactions].sort((a, b) => a.firstOffset - b.firstOffset);
    const abortedProducers = new Set<number>();
    const filterAborted = this.options.isolationLevel === READ_COMMITTED;
    const out: KafkaRecord[] = [];
    for (const batch of batches) {
      while (aborted.length && aborted[0].firstOffset <= batch.lastOffset) abortedProducers.add(aborted.shift()!.producerId);
      if (batch.lastOffset < position) continue;
      if (batch.isControl) {
        if (batch.isAbortMarker) abortedProducers.delete(batch.producerId);
        continue;
      }
      if (filterAborted && batch.isTransactional && abortedProducers.has(batch.producerId)) continue;
      if (batch.logAppendTime) s.logAppendTime = true;
      for (const rec of batch.records) if (rec.offset >= position) out.push(rec);
    }
    return out;
  }
}
