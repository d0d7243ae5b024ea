import type { ConnectivityReport } from './connectivity';
import type { PreflightReport } from './preflight';
import type { MigrationPlan } from './plan';

export type MigrationPhase =
  | 'starting'
  | 'connectivity'
  | 'preflight'
  | 'inventory'
  | 'plan'
  | 'sync'
  | 'verification'
  | 'completed'
  | 'aborted'
  | 'failed';

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
  decisions: Decision[];
  error?: string;
  startedAt: string;
  updatedAt: string;
}

export interface BatchSummary {
  number: number;
  name: string;
  workflowId: string;
  state: 'pending' | 'running' | 'completed' | 'aborted' | 'accepted-with-mismatches' | 'failed' | 'skipped';
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
