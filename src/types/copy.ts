/** Types of the copy engine (target topics, offset map, copy rounds). Pure: safe in workflow code. */
import type { MigrationSpec } from '../config/spec';

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

/** Consecutive source offsets copied to consecutive target offsets. A new run starts at every source gap. */
export interface OffsetRun {
  sourceStart: number;
  targetStart: number;
  count: number;
}

/** Everything before sourceNext is copied (or was a gap); the next copied record lands at targetNext. */
export interface OffsetCheckpoint {
  /** Source offset the copy began at (the log-start offset then): offsets below it were never copied. */
  sourceStart: number;
  sourceNext: number;
  targetNext: number;
  /** Cumulative totals since the migration started copying this partition. */
  recordsCopied: number;
  bytesCopied: number;
  updatedAt: string;
}

/** The exact source -> target offset mapping of one partition, as stored in `__kafka_migrate_offsets`. */
export interface PartitionOffsetMap {
  migration: string;
  topic: string;
  partition: number;
  /** Sorted by sourceStart (and targetStart: both grow together). */
  runs: OffsetRun[];
  /** null: nothing copied yet. */
  checkpoint: OffsetCheckpoint | null;
}

export type TopicCreationAction =
  /** Created by this call. */
  | 'created'
  /** Existed, empty and compatible, adopted under existingTopicPolicy 'adopt-if-empty'. */
  | 'adopted'
  /** Created or adopted earlier by this same migration (an activity retry or a later round). */
  | 'owned';

export interface TopicCreationResult {
  topic: string;
  action: TopicCreationAction;
  partitions: number;
  /** Partitions added on the target because the source grew. */
  partitionsAdded: number;
  /** null: the target cluster's default replication factor. */
  replicationFactor: number | null;
  /** Topic configs set on the target (non-default source configs the target profile accepts). */
  configs: Record<string, string>;
  /** Non-default source configs the target profile does not accept: not set on the target. */
  droppedConfigs: { name: string; value: string }[];
  /** 'LogAppendTime': the target stamps records with its own append time, source timestamps are not kept. */
  timestampType: 'CreateTime' | 'LogAppendTime';
  warnings: string[];
}

export interface TopicCreationReport {
  migration: string;
  checkedAt: string;
  topics: TopicCreationResult[];
}

export interface PartitionCountChange {
  topic: string;
  sourcePartitions: number;
  targetPartitionsBefore: number;
  targetPartitions: number;
}

export type CopyMode = 'follow' | 'drain';

/**
 * One copy round's input: only what the round needs (its connections, settings and partitions), not the whole
 * spec: a batch of 2,000 partitions schedules 250 of these per round, and each is stored in the history.
 */
export interface CopyRoundInput {
  migration: string;
  source: MigrationSpec['source'];
  target: MigrationSpec['target'];
  copy: Pick<MigrationSpec['copy'], 'roundSeconds' | 'maxBatchBytes' | 'throttleBytesPerSecond'>;
  partitions: TopicPartitionRef[];
  mode: CopyMode;
  /** "topic:partition" -> source end offset to reach (drain). */
  stopAt?: Record<string, number>;
  readyMaxLagRecords: number;
}

export interface PartitionProgress {
  topic: string;
  partition: number;
  /** Source log-start offset. */
  sourceStart: number;
  /** Source end offset as a read_committed consumer sees it (last stable offset). */
  sourceEnd: number;
  /** Next source offset to copy: everything below is on the target (or was a gap). */
  sourceNext: number;
  /** Where the next copied record lands on the target. */
  targetNext: number;
  lagRecords: number;
  /** now - timestamp of the next un-copied source record; 0 when caught up. */
  lagSeconds: number;
  /** Cumulative since the migration started copying this partition. */
  bytesCopied: number;
  recordsCopied: number;
  /** Offsets equal on both sides (source started at 0, no gaps): clients need no translation. */
  identicalOffsets: boolean;
  /** The source topic uses LogAppendTime: the target re-stamps records. */
  logAppendTime?: boolean;
}

/** "topic:partition", the key of stopAt and of end-offset maps. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}
