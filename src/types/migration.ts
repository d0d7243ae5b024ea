import type { ConnectivityReport } from './connectivity';
import type { PreflightReport } from './preflight';
import type { MigrationPlan } from './plan';
import type { WindowSummary } from './rollback';

export type MigrationPhase =
  'starting' | 'connectivity' | 'preflight' | 'inventory' | 'plan' | 'sync' | 'verification' | 'blocked' | 'completed' | 'aborted' | 'failed';

/** A human decision, kept with who/when/why for the final report. */
export interface Decision {
  kind: string;
  by: string;
  at: string;
  comment?: string;
  /** The migration phase, or the batch step, the action was taken in. */
  phase: string;
  accepted: boolean;
  /** Why: the operator's reason, or for a refused action why it was refused. */
  reason?: string;
  batch?: number;
  /** The topic an excludeTopic decision dropped. */
  topic?: string;
}

/**
 * A fault that retries could not cure: the batch (or the migration phase) stops here and waits for the operator's
 * retry, excludeTopic or abort. Nothing is failed by it.
 */
export interface BlockedState {
  /** The batch step or migration phase that failed (what `retry` runs again). */
  step: string;
  /** The failure type (e.g. SourceTopicMissing, GroupActiveOnTarget, KafkaUnavailable). */
  type: string;
  error: string;
  since: string;
  /** Topics, partitions ("topic:partition") and groups the fault concerns, when known. */
  topics?: string[];
  partitions?: string[];
  groups?: string[];
  /** The failure's own evidence (e.g. the members still connected). */
  details?: unknown;
  /** What the operator can do about it. */
  actions: string[];
  /** The batch it concerns (migration status only). */
  batch?: number;
}

/** What the `status` query returns: small, so that it can be polled. */
export interface MigrationStatus {
  name: string;
  phase: MigrationPhase;
  /** What the workflow waits for, if anything (a signal name and why). */
  waitingFor?: { signal: string; reason: string };
  connectivity?: ConnectivityReport;
  preflight?: PreflightReport;
  /** Counts of the inventory (the full one is in the inventory report). */
  inventory?: { topics: number; partitions: number; groups: number; bytes: number; inactiveTopics: number; unclaimedGroups: number };
  plan?: MigrationPlan;
  /** The plan as first proposed, when the operator approved an edited one. */
  proposedPlan?: MigrationPlan;
  batches: BatchSummary[];
  reports: Record<string, string>;
  /** The worker whose disk holds each report of `reports` (absent in runs from before it was recorded). */
  reportWriters?: Record<string, string>;
  decisions: Decision[];
  /** Set while the migration (or its running batch) waits for a decision on a fault. */
  blocked?: BlockedState;
  /** Topics created on the source in scope after the plan was made, and what became of them. */
  newTopics?: NewTopicState[];
  /** The run this one resumed, when started with resume. */
  resumedFrom?: { runsBefore: number; adoptedBatches: number[] };
  /** How many times the migration workflow continued as new (between batches; its state carried over). */
  continuedAsNew?: number;
  /** Rollback windows of the batches whose clients moved (cutover.rollbackWindow): the migration ends once all closed. */
  windows?: WindowSummary[];
  error?: string;
  startedAt: string;
  updatedAt: string;
}

export interface NewTopicState {
  name: string;
  partitions: number;
  foundAt: string;
  /** proposed: in an extra batch awaiting approval; ignored: scope.newTopics is ignore (reported, not migrated). */
  disposition: 'proposed' | 'ignored';
  batch?: number;
}

export interface BatchSummary {
  number: number;
  name: string;
  workflowId: string;
  state: 'pending' | 'running' | 'blocked' | 'completed' | 'aborted' | 'accepted-with-mismatches' | 'failed' | 'skipped' | 'rolled-back';
  /** Topics the operator excluded from the batch (not migrated, never verified as if they were). */
  excludedTopics?: string[];
  writePauseMs?: number;
  recordsCopied?: number;
  bytesCopied?: number;
  report?: string;
  /** The batch's own decisions (cutover, producers/consumers stopped, ...), for the migration report. */
  decisions?: Decision[];
  /** Paths of the batch's offset translation and verification reports (Markdown). */
  reports?: Record<string, string>;
  /** The verification verdict, once the batch verified. */
  verification?: { ok: boolean; mismatchCount: number };
}
