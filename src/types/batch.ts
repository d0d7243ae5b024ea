import type { PartitionProgress } from './copy';
import type { BlockedState, Decision } from './migration';

/** The steps of one batch, in the order producers-first walks them (consumers-first swaps the middle). */
export type BatchStep =
  | 'creating-topics'
  | 'copying'
  | 'awaiting-cutover-approval'
  | 'awaiting-producers-stopped'
  | 'checking-quiet'
  /** clientsStopped (producers-first): the quiet check and, beside it, the groups' check and offset translation. */
  | 'checking-clients'
  | 'draining'
  | 'awaiting-consumers-stopped'
  | 'checking-groups'
  | 'translating-offsets'
  | 'verifying'
  | 'verification-failed'
  | 'blocked'
  | 'completed'
  | 'rolling-back'
  | 'aborted';

/** A partition's copy progress as the batch status shows it: the copy engine's own report. */
export type PartitionProgressView = Omit<PartitionProgress, 'sourceStart' | 'logAppendTime'>;

export interface BatchTotals {
  partitions: number;
  lagRecords: number;
  maxLagSeconds: number;
  recordsCopied: number;
  bytesCopied: number;
  /** Records/s over the last round, for an ETA. */
  recordsPerSecond: number;
  etaSeconds: number | null;
}

/** The batch's totals after one copy round (src/workflows/copySamples.ts keeps at most 200 of them, evenly spread). */
export interface CopySample {
  at: string;
  round: number;
  recordsCopied: number;
  bytesCopied: number;
  recordsPerSecond: number;
  lagRecords: number;
  maxLagSeconds: number;
  /** The cutover's drain round. */
  drain?: boolean;
}

/** What the batch workflow's `batchStatus` query returns. */
export interface BatchStatus {
  migration: string;
  number: number;
  name: string;
  workflowId: string;
  strategy: 'producers-first' | 'consumers-first';
  step: BatchStep;
  ready: boolean;
  waitingFor?: { signal: string; reason: string };
  rounds: number;
  totals: BatchTotals;
  partitions: PartitionProgressView[];
  /** Milestones of the cutover with their workflow times (ISO). */
  milestones: Record<string, string>;
  /** Producers stopped → clients may move on the target, in ms (the write pause). */
  writePauseMs?: number;
  notes: string[];
  /** Notes dropped from the middle of `notes` to keep it bounded (the first and the latest are kept). */
  notesOmitted?: number;
  /** How many times this batch's workflow continued as new (each run carries the whole state over). */
  continuedAsNew?: number;
  decisions: Decision[];
  reports: Record<string, string>;
  /** The worker whose disk holds each report of `reports` (absent in runs from before it was recorded). */
  reportWriters?: Record<string, string>;
  /** Set while the batch waits for a decision on a fault (step is then 'blocked'). */
  blocked?: BlockedState;
  /** Topics the operator excluded (exclude-topic): not migrated, not verified, reported as such. */
  excludedTopics?: { topic: string; by: string; at: string; reason: string; targetDeleted: boolean }[];
  /** The verification verdict, once verified. */
  verification?: { ok: boolean; mismatchCount: number };
  /** Copy progress over time, bounded (for the report's charts). */
  samples?: CopySample[];
  /** Only every sampleStride-th round is sampled (doubles each time the samples are thinned out). */
  sampleStride?: number;
  error?: string;
}

export interface BatchResult {
  number: number;
  name: string;
  outcome: 'completed' | 'aborted' | 'accepted-with-mismatches';
  status: BatchStatus;
}
