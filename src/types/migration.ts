import type { ConnectivityReport } from './connectivity';

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
  phase: MigrationPhase;
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
  decisions: Decision[];
  error?: string;
  startedAt: string;
  updatedAt: string;
}
