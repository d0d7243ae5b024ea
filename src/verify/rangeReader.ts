/**
 * Reads offset ranges of many partitions of one cluster at once, for verification, with the copy engine's own
 * fetch loop (src/copy/partitionReader.ts): explicit partitions at exact positions, no consumer group, one
 * fetch per leader for all of them, compressed batches decoded. Each range is a stream of raw records in
 * offset order that ends when the position reaches `to`, whether the last offsets held data, aborted records
 * or transaction markers. A stream that gets no records for `stallTimeoutMs` while it waits fails loudly.
 */
import type { InternalCluster } from '../copy/kafkaInternals';
import type { KafkaRecord } from '../copy/kafkaRecord';
import { PartitionReader } from '../copy/partitionReader';
import type { ClusterRole } from '../kafka/clients';
import { partitionKey } from '../types/copy';
import { throwIfCancelled } from '../cutover/activityContext';

export interface RecordRange {
  topic: string;
  partition: number;
  /** First offset to read. */
  from: number;
  /** End (exclusive): records at or after it are not part of the range. */
  to: number;
}

export interface RangeReaderOptions {
  role: ClusterRole;
  /** READ_COMMITTED for the source (what the copy read), READ_UNCOMMITTED for the target (all it holds). */
  isolationLevel: number;
  partitionFetchBytes: number;
  /** Buffer limit over all ranges; see src/verify/readChunks.ts for why it must cover every partition. */
  maxBufferedBytes: number;
  stallTimeoutMs?: number;
}

/** A fetch waits this long on the broker when it has nothing new (ranges end at offsets that exist). */
const FETCH_MAX_WAIT_MS = 100;
/** How often a waiting stream wakes to check cancellation, the stall timeout and an abort. */
const WAKE_MS = 500;
/** Records handed to a stream at a time: the rest stays in the reader, counted against its limits. */
const TAKE_BYTES = 256 * 1024;
const DEFAULT_STALL_MS = 60_000;

export class RangeReader {
  private readonly reader: PartitionReader;
  private readonly ranges = new Map<string, RecordRange>();
  private abortReason: Error | undefined;

  constructor(
    cluster: InternalCluster,
    ranges: RecordRange[],
    private readonly options: RangeReaderOptions,
  ) {
    for (const r of ranges) this.ranges.set(partitionKey(r.topic, r.partition), r);
    const readable = ranges.filter((r) => r.from < r.to).map((r) => ({ topic: r.topic, partition: r.partition, position: r.from, stopAt: r.to }));
    this.reader = new PartitionReader(cluster, readable, {
      isolationLevel: options.isolationLevel,
      partitionFetchBytes: options.partitionFetchBytes,
      maxBufferedBytes: options.maxBufferedBytes,
      maxWaitMs: FETCH_MAX_WAIT_MS,
      cluster: options.role,
    });
    this.reader.start();
  }

  /** Every readable record of the partition's range, in offset order. */
  async *records(topic: string, partition: number): AsyncGenerator<KafkaRecord> {
    const range = this.ranges.get(partitionKey(topic, partition));
    if (!range) throw new Error(`partition ${topic}:${partition} is not read by this ${this.options.role} reader`);
    if (range.from >= range.to) return;
    let position = range.from;
    let waitingSince: number | undefined;
    try {
      while (position < range.to) {
        if (this.abortReason) throw this.abortReason;
        const taken = this.reader.take(topic, partition, TAKE_BYTES, (r) => r.size);
        if (!taken) {
          waitingSince ??= Date.now();
          this.checkStall(range, position, waitingSince);
          throwIfCancelled();
          // take() and this registration run in the same tick: records that arrive after are not missed.
          await this.reader.waitForNewData(WAKE_MS);
          continue;
        }
        waitingSince = undefined;
        for (const r of taken.records) {
          if (r.offset >= range.to) break;
          yield r;
        }
        position = taken.nextOffset;
      }
    } finally {
      // Records fetched beyond the range (the last fetch returns whole batches) are dropped at once.
      this.reader.stopPartition(topic, partition);
    }
  }

  /** Makes every stream still reading fail with `reason` (within WAKE_MS); close() once they have settled. */
  abort(reason: Error): void {
    this.abortReason ??= reason;
  }

  async close(): Promise<void> {
    this.abort(new Error(`the ${this.options.role} reader was closed`));
    await this.reader.close();
  }

  private checkStall(range: RecordRange, position: number, since: number): void {
    const limit = this.options.stallTimeoutMs ?? DEFAULT_STALL_MS;
    if (Date.now() - since <= limit) return;
    throw new Error(
      `reading ${this.options.role} partition ${range.topic}:${range.partition} stalled at offset ${position} (range end ${range.to}): no records for ${Math.round(limit / 1000)}s; ` +
        `check that the partition's leader on the ${this.options.role} cluster is up, then retry the verification`,
    );
  }
}
