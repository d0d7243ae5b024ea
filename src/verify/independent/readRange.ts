/**
 * Reads the records of one partition in [from, to), pulling: a fetch is sent only when the caller has used
 * every record of the previous one, and entries are decoded one at a time as the caller reaches them. A
 * partition therefore holds at most one fetch response (its fetch size, or one whole entry larger than that)
 * plus one decompressed entry, and a stream its caller does not read holds nothing in flight — so partitions
 * read side by side can never wait on each other's buffers.
 *
 * The position always moves to the end of the last whole entry, so control batches, aborted transactions and
 * batches emptied by compaction are stepped over exactly; the range ends when the position reaches `to`.
 */
import { errorFromCode, type InternalCluster } from '../../copy/kafkaInternals';
import { DecodeError } from './cursor';
import { CommittedFilter } from './committedFilter';
import { fetchPartition, ISOLATION } from './fetch';
import { decodeEntry, splitEntries } from './logEntries';
import type { VerifiedRecord } from './record';
import { backoffDelay, sleep, type BackoffPolicy } from '../../retry/backoff';

const OFFSET_OUT_OF_RANGE = 1;
const UNKNOWN_TOPIC_OR_PARTITION = 3;
/** An entry larger than the fetch size is asked for whole, never beyond this. */
const MAX_FETCH_BYTES = 64 * 1024 * 1024;
const MAX_CONSECUTIVE_FAILURES = 10;
/** Between fetches after a transient failure: 200 ms doubling to 3 s. */
const FETCH_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 3000 };

export class OffsetOutOfRangeError extends Error {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    role: string,
  ) {
    super(`${role} partition ${topic}:${partition}: offset ${offset} is out of range (deleted by retention or beyond the end)`);
    this.name = 'OffsetOutOfRangeError';
  }
}

export interface ReadRangeOptions {
  /** "source" or "target", for messages. */
  role: string;
  readCommitted: boolean;
  fetchBytes: number;
  maxWaitMs: number;
  /** Called between fetches: throws to stop the read (cancellation, another stream's failure, a stall). */
  check: (position: number, lastProgressAt: number) => void;
}

export interface RangeSpec {
  topic: string;
  partition: number;
  from: number;
  to: number;
}

function transient(e: unknown): boolean {
  const err = e as { retriable?: boolean; name?: string; type?: string };
  if (err.type === 'UNKNOWN_TOPIC_OR_PARTITION') return false;
  return err.retriable === true || /Connection|Timeout|NotLeader|Metadata|BrokerNotFound/i.test(err.name ?? '');
}

export async function* readRange(cluster: InternalCluster, range: RangeSpec, options: ReadRangeOptions): AsyncGenerator<VerifiedRecord> {
  const { topic, partition, to } = range;
  const where = `${options.role} partition ${topic}:${partition}`;
  let position = range.from;
  let fetchBytes = options.fetchBytes;
  let failures = 0;
  let lastProgressAt = Date.now();
  while (position < to) {
    options.check(position, lastProgressAt);
    let response;
    try {
      const leader = cluster.findTopicPartitionMetadata(topic).find((m) => m.partitionId === partition)?.leader;
      if (leader === null || leader === undefined || leader < 0) {
        await cluster.refreshMetadata();
        throw Object.assign(new Error(`${where}: no leader in the metadata`), { retriable: true });
      }
      const broker = await cluster.findBroker({ nodeId: leader });
      response = await fetchPartition(broker, {
        topic,
        partition,
        offset: position,
        maxBytes: fetchBytes,
        isolationLevel: options.readCommitted ? ISOLATION.readCommitted : ISOLATION.readUncommitted,
        maxWaitMs: options.maxWaitMs,
      });
      if (response.errorCode === OFFSET_OUT_OF_RANGE) throw new OffsetOutOfRangeError(topic, partition, position, options.role);
      if (response.errorCode !== 0) {
        const err = errorFromCode(response.errorCode, `fetch from ${where}`);
        if (response.errorCode === UNKNOWN_TOPIC_OR_PARTITION || !err.retriable) throw err;
        await cluster.refreshMetadata().catch(() => undefined);
        throw err;
      }
      failures = 0;
    } catch (e) {
      if (e instanceof DecodeError || e instanceof OffsetOutOfRangeError || !transient(e) || ++failures > MAX_CONSECUTIVE_FAILURES) throw e;
      await sleep(backoffDelay(FETCH_BACKOFF, failures));
      await cluster.refreshMetadata().catch(() => undefined);
      continue;
    }

    const { entries, partialEntryBytes } = splitEntries(response.records);
    if (entries.length === 0) {
      // Only a cut entry came back: ask for all of it next time (a broker returns a first entry larger than
      // the limit whole, but be exact either way).
      if (partialEntryBytes !== null && partialEntryBytes > fetchBytes) fetchBytes = Math.min(Math.max(partialEntryBytes, 2 * fetchBytes), MAX_FETCH_BYTES);
      continue;
    }
    const filter = new CommittedFilter(options.readCommitted, response.abortedTransactions);
    for (const raw of entries) {
      if (position >= to) break;
      const entry = await decodeEntry(raw);
      // Every entry goes through the filter in order (it tracks which transactions are open).
      const visible = filter.visible(entry);
      if (entry.lastOffset < position) continue;
      if (visible) {
        for (const r of entry.records) {
          if (r.offset < position) continue;
          if (r.offset >= to) break;
          yield r;
        }
      }
      position = entry.lastOffset + 1;
      // Also after the caller took the entry's last record: time it spent elsewhere is no stall of this read.
      lastProgressAt = Date.now();
    }
  }
}
