/**
 * Reads offset ranges of one topic's partitions, one partition at a time, with bounded memory.
 *
 * kafkajs has no manual assignment, so the reader joins a private consumer group (unique id, no commits;
 * deleted when the reader closes, src/kafka/toolGroups.ts), pauses every partition at once, then for each range seeks the one partition it reads and resumes it.
 * eachBatch hands one fetched batch at a time to the caller and waits until the caller has consumed it
 * (back-pressure: memory is one fetch per reader). The reader is read_committed: aborted records and
 * transaction markers are skipped, and a range ends when the fetch position reaches `to`, whether the last
 * offsets were data or markers. A range that makes no progress for `stallTimeoutMs` fails loudly.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { deleteToolGroup } from '../kafka/toolGroups';

export interface TopicRangeReaderOptions {
  /** Prefix of the private group id (one of src/kafka/toolGroups.ts); the group never commits and is deleted on close. */
  groupIdPrefix: string;
  maxBytesPerPartition?: number;
  stallTimeoutMs?: number;
}

interface ActiveRange {
  partition: number;
  /** The next offset the fetch position must be at. */
  position: number;
  to: number;
  queue: KafkaMessage[][];
  done: boolean;
  failure?: Error;
  wake?: () => void;
  drained?: () => void;
}

const DEFAULT_STALL_MS = 60_000;

export class TopicRangeReader {
  private active?: ActiveRange;
  private constructor(
    private readonly consumer: Consumer,
    private readonly topic: string,
    private readonly partitions: number[],
    private readonly stallTimeoutMs: number,
    /** Deletes the private group once the consumer has left. */
    private readonly forgetGroup: () => Promise<unknown>,
  ) {}

  /** Joins a private group on `topic` and pauses all its partitions. */
  static async open(kafka: Kafka, topic: string, options: TopicRangeReaderOptions): Promise<TopicRangeReader> {
    const groupId = `${options.groupIdPrefix}-${randomUUID()}`;
    const forgetGroup = () => deleteToolGroup(kafka, groupId);
    const consumer = kafka.consumer({
      groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
      maxWaitTimeInMs: 250,
      retry: { retries: 5 },
    });
    let reader: TopicRangeReader | undefined;
    const ready = new Promise<number[]>((resolve) => {
      // Pause before the first fetch: GROUP_JOIN fires after join/sync and before the fetch loop starts.
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        const assigned = (payload.memberAssignment[topic] ?? []) as number[];
        const active = reader?.active;
        consumer.pause([{ topic, partitions: assigned.filter((p) => p !== active?.partition) }]);
        // A rejoin (e.g. after a long pause) forgets the seek: put the active partition back where it was.
        if (active && !active.done) consumer.seek({ topic, partition: active.partition, offset: String(active.position) });
        resolve(assigned);
      });
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => reader?.onBatchProcessed(payload));
    consumer.on(consumer.events.CRASH, ({ payload }) => reader?.fail(new Error(`reading ${topic}: consumer crashed: ${payload.error.message}`)));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const created = new TopicRangeReader(consumer, topic, [], options.stallTimeoutMs ?? DEFAULT_STALL_MS, forgetGroup);
      reader = created;
      await consumer.run({ autoCommit: false, eachBatch: (p) => created.onBatch(p) });
      const assigned = await ready;
      created.partitions.push(...assigned.sort((a, b) => a - b));
      return created;
    } catch (e) {
      await consumer.disconnect().catch(() => undefined);
      await forgetGroup();
      throw e;
    }
  }

  /** Yields every readable record with offset in [from, to) of one partition, in offset order. */
  async *read(partition: number, from: number, to: number): AsyncGenerator<KafkaMessage> {
    if (from >= to) return;
    if (this.active) throw new Error(`reader of ${this.topic} is already reading partition ${this.active.partition}`);
    if (!this.partitions.includes(partition)) throw new Error(`partition ${this.topic}:${partition} is not assigned to the reader`);
    const range: ActiveRange = { partition, position: from, to, queue: [], done: false };
    this.active = range;
    this.consumer.seek({ topic: this.topic, partition, offset: String(from) });
    this.consumer.resume([{ topic: this.topic, partitions: [partition] }]);
    try {
      for (;;) {
        const batch = await this.nextBatch(range);
        if (!batch) return;
        for (const m of batch) yield m;
        if (range.queue.length === 0) range.drained?.();
      }
    } finally {
      this.consumer.pause([{ topic: this.topic, partitions: [partition] }]);
      this.active = undefined;
      range.done = true;
      range.drained?.();
    }
  }

  async close(): Promise<void> {
    await this.consumer.disconnect().catch(() => undefined);
    await this.forgetGroup(); // a group that cannot be deleted (no DELETE right) expires on its own: not an error of the read
  }

  private async nextBatch(range: ActiveRange): Promise<KafkaMessage[] | undefined> {
    let lastPosition = range.position;
    let lastProgress = Date.now();
    for (;;) {
      if (range.failure) throw range.failure;
      const queued = range.queue.shift();
      if (queued) return queued;
      if (range.done) return undefined;
      if (range.position !== lastPosition) {
        lastPosition = range.position;
        lastProgress = Date.now();
      }
      if (Date.now() - lastProgress > this.stallTimeoutMs) {
        throw new Error(
          `reading ${this.topic}:${range.partition} stalled at offset ${range.position} (range end ${range.to}) for ${Math.round(this.stallTimeoutMs / 1000)}s`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        range.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** kafkajs delivers a batch: keep the part inside the range and wait until the caller consumed it. */
  private async onBatch({ batch, heartbeat, isRunning }: EachBatchPayload): Promise<void> {
    const range = this.active;
    if (!range || range.done || batch.partition !== range.partition || batch.topic !== this.topic) return;
    // A fetch issued before the seek describes another position: ignore it, the next fetch is at the seek.
    if (Number((batch as unknown as { fetchedOffset: string }).fetchedOffset) !== range.position) return;
    const inRange = batch.messages.filter((m) => Number(m.offset) < range.to);
    range.position = Number(batch.lastOffset()) + 1;
    if (range.position >= range.to) range.done = true;
    if (inRange.length) range.queue.push(inRange);
    range.wake?.();
    // Back-pressure: hold the fetch loop until this batch is consumed, heartbeating the private group.
    while (range.queue.length > 0 && !range.done && !range.failure && isRunning()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        range.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      await heartbeat().catch(() => undefined);
    }
  }

  /** Batches made only of aborted records or markers never reach eachBatch: advance the position here. */
  private onBatchProcessed(payload: { topic: string; partition: number; firstOffset: string | null; lastOffset: string; batchSize: number }): void {
    const range = this.active;
    if (!range || range.done || payload.topic !== this.topic || payload.partition !== range.partition) return;
    if (payload.batchSize !== 0 || payload.firstOffset === null || Number(payload.firstOffset) < range.position) return;
    range.position = Number(payload.lastOffset) + 1;
    if (range.position >= range.to) range.done = true;
    range.wake?.();
  }

  private fail(error: Error): void {
    if (this.active) {
      this.active.failure = error;
      this.active.wake?.();
    }
  }
}
