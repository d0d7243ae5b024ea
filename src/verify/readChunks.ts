/**
 * Which partitions verification reads at the same time, and the memory that takes.
 *
 * The partitions of a chunk are compared concurrently, each walking its source and target in lock-step. Each
 * side's stream pulls (src/verify/rangeReader.ts over src/verify/independent/readRange.ts): it fetches only
 * when its records are wanted and holds at most one fetch response plus the one entry being decoded, and
 * nothing is shared between streams, so partitions waiting on each other cannot deadlock. What a partition can
 * hold at worst (partitionHoldBytes) is summed over a chunk, and a chunk takes only as many partitions as fit
 * in SIDE_MEMORY_BYTES per side (at least one): memory stays bounded whatever the topic sizes. (A batch larger
 * than its topic's max.message.bytes, written before the limit was lowered, is still read whole: the bound is
 * then exceeded by that batch, never unbounded.)
 */
import type { TopicConfigs } from './compareConfigs';

/** Size of one partition's fetch while verifying. */
export const PARTITION_FETCH_BYTES = 256 * 1024;
/** What the partitions of one chunk may hold buffered on one side, at worst. */
export const SIDE_MEMORY_BYTES = 32 * 1024 * 1024;
/** Enough concurrent partitions to hide fetch round trips on small partitions. */
export const MAX_PARTITIONS_PER_CHUNK = 64;
/** Kafka's default message.max.bytes: the largest batch when a topic's config could not be read. */
const DEFAULT_MAX_BATCH_BYTES = 1048588;
/** The reader grows a partition's fetch to whole oversized batches, never beyond this (readRange.ts). */
const MAX_GROWN_FETCH_BYTES = 64 * 1024 * 1024;

/** The largest record batch a topic accepts (its effective max.message.bytes). */
export function maxBatchBytes(configs: TopicConfigs | undefined): number {
  const v = Number(configs?.get('max.message.bytes')?.configValue);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_MAX_BATCH_BYTES;
}

/**
 * Worst-case bytes one partition holds in a reader: one fetch response of its fetch size, or one whole batch
 * beyond it (a broker returns a first batch larger than the limit whole), and the batch being decoded; a batch
 * larger than the fetch size grows the fetch size (to the batch, at least doubled).
 */
export function partitionHoldBytes(maxBatch: number, fetchBytes = PARTITION_FETCH_BYTES): number {
  const fetch = maxBatch > fetchBytes ? Math.min(Math.max(maxBatch, 2 * fetchBytes), MAX_GROWN_FETCH_BYTES) : fetchBytes;
  return fetch + maxBatch;
}

export interface ReadChunk<T> {
  items: T[];
  /** Sum of the items' holds: the reader limit of each side. */
  holdBytes: number;
}

/** Splits items (in the order given) into chunks of at most maxCount whose holds fit in budget. */
export function chunkByMemory<T>(items: T[], holdOf: (item: T) => number, budget = SIDE_MEMORY_BYTES, maxCount = MAX_PARTITIONS_PER_CHUNK): ReadChunk<T>[] {
  const chunks: ReadChunk<T>[] = [];
  let current: ReadChunk<T> = { items: [], holdBytes: 0 };
  for (const item of items) {
    const hold = holdOf(item);
    if (current.items.length > 0 && (current.items.length >= maxCount || current.holdBytes + hold > budget)) {
      chunks.push(current);
      current = { items: [], holdBytes: 0 };
    }
    current.items.push(item);
    current.holdBytes += hold;
  }
  if (current.items.length) chunks.push(current);
  return chunks;
}
