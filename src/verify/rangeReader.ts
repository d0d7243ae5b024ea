/**
 * Reads offset ranges of many partitions of one cluster, for verification, with the verification decoder
 * (src/verify/independent): explicit partitions at exact positions, no consumer group, compressed batches
 * decoded, control batches and (read_committed) aborted transactions skipped. None of the copy engine's
 * reading code (src/copy/partitionReader.ts, recordBatchCodec.ts, fetchProtocol.ts, compressionCodecs.ts) is
 * used, so a decoding bug there shows as a mismatch instead of happening on both sides.
 *
 * Each range is a stream of records in offset order that ends when the position reaches `to`, whether the last
 * offsets held data, aborted records or transaction markers. Streams pull: a partition fetches only when its
 * stream is read and holds at most one fetch response (see readChunks.ts for the memory bound). A stream that
 * gets no records for `stallTimeoutMs` while it is read fails loudly.
 */
import type { InternalCluster } from '../copy/kafkaInternals';
import type { ClusterRole } from '../kafka/clients';
import { partitionKey } from '../types/copy';
import { throwIfCancelled } from '../cutover/activityContext';
import { ISOLATION, readRange, type VerifiedRecord } from './independent';

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
  /** ISOLATION.readCommitted (1) for the source (what the copy read), readUncommitted (0) for the target (all it holds). */
  isolationLevel: number;
  /** Size of one partition's fetch. */
  partitionFetchBytes: number;
  /** Not needed any more (streams pull; memory is bounded per partition, readChunks.ts); accepted and ignored. */
  maxBufferedBytes?: number;
  stallTimeoutMs?: number;
}

/** A fetch waits this long on the broker when it has nothing new (ranges end at offsets that exist). */
const FETCH_MAX_WAIT_MS = 100;
const DEFAULT_STALL_MS = 60_000;

export class RangeReader {
  private readonly ranges = new Map<string, RecordRange>();
  private abortReason: Error | undefined;

  constructor(
    private readonly cluster: InternalCluster,
    ranges: RecordRange[],
    private readonly options: RangeReaderOptions,
  ) {
    for (const r of ranges) this.ranges.set(partitionKey(r.topic, r.partition), r);
  }

  /** Every readable record of the partition's range, in offset order. */
  async *records(topic: string, partition: number): AsyncGenerator<VerifiedRecord> {
    const range = this.ranges.get(partitionKey(topic, partition));
    if (!range) throw new Error(`partition ${topic}:${partition} is not read by this ${this.options.role} reader`);
    if (range.from >= range.to) return;
    yield* readRange(this.cluster, range, {
      role: this.options.role,
      readCommitted: this.options.isolationLevel === ISOLATION.readCommitted,
      fetchBytes: this.options.partitionFetchBytes,
      maxWaitMs: FETCH_MAX_WAIT_MS,
      check: (position, lastProgressAt) => {
        if (this.abortReason) throw this.abortReason;
        throwIfCancelled();
        this.checkStall(range, position, lastProgressAt);
      },
    });
  }

  /** Makes every stream still reading fail with `reason` (at its next fetch); close() once they have settled. */
  abort(reason: Error): void {
    this.abortReason ??= reason;
  }

  async close(): Promise<void> {
    this.abort(new Error(`the ${this.options.role} reader was closed`));
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
