/** Types of the rollback window (reverse sync, rollback, finalize). Pure: safe in workflow code. */
import type { Decision, BlockedState } from './migration';

/**
 * open: reverse sync running; rolling-back: the rollback runs (drain, offsets, verification); rolled-back: clients
 * may move back to the source; finalized: ended by `finalize`; expired: the window's time ran out (finalized by
 * policy).
 */
export type WindowState = 'open' | 'rolling-back' | 'rolled-back' | 'finalized' | 'expired';

export const WINDOW_CLOSED_STATES: readonly WindowState[] = ['rolled-back', 'finalized', 'expired'];

/** The migration's view of one batch's window. */
export interface WindowSummary {
  batch: number;
  workflowId: string;
  state: WindowState;
  openedAt: string;
  /** ISO time the window expires; absent for `until-finalize`. */
  closesAt?: string;
  /** Set by the window when it closes. */
  closedAt?: string;
  /** Paths of the rollback's reports (offsets, verification) once rolled back. */
  reports?: Record<string, string>;
}

/**
 * The window's write fence on the source (src/cutover/windowFence.ts): in place while open, lifted by a rollback,
 * left in place by finalize and expiry (`removeCommands` say how to remove it by hand).
 */
export interface WindowFenceState {
  state: 'in-place' | 'partial' | 'not-applied' | 'lifted';
  bindings: number;
  deniedPrincipals: string[];
  topicsFenced: number;
  unfenceable?: { topic: string; reason: string }[];
  reason?: string;
  removeCommands: string[];
}

/** The window workflow's own status (query `windowStatus`). */
export interface WindowStatus {
  migration: string;
  batch: number;
  name: string;
  state: WindowState;
  topics: string[];
  groups: string[];
  openedAt: string;
  closesAt?: string;
  /** Seconds until the window expires (at the last workflow task); absent for `until-finalize`. */
  timeLeftSeconds?: number;
  /** Records clients wrote to the target that are not back on the source yet, over all partitions. */
  reverseLagRecords: number;
  /** Records copied back (target -> source) since the window opened. */
  recordsCopiedBack: number;
  rounds: number;
  /** Per partition: the reverse copy's positions (target offset next to copy back, source offset it lands at). */
  partitions: { topic: string; partition: number; targetNext: number; sourceNext: number; lagRecords: number; recordsCopied: number }[];
  decisions: Decision[];
  blocked?: BlockedState;
  /** The rollback's outcome: write pause and reports. */
  rollback?: { writePauseMs?: number; verification?: { ok: boolean; mismatchCount: number }; offsets?: RollbackOffsetsSummary };
  reports: Record<string, string>;
  /** The write fence on the batch's source topics (absent: a window from before the fence existed). */
  fence?: WindowFenceState;
  continuedAsNew?: number;
  updatedAt: string;
}

/** details of the group offsets moved back (target -> source). */
export interface RollbackGroupOffsets {
  group: string;
  partitions: { topic: string; partition: number; targetOffset: number; sourceOffset: number; via: 'forward-map' | 'reverse-map' }[];
  withoutOffset: string[];
}

export interface RollbackOffsetsReport {
  migration: string;
  at: string;
  groups: RollbackGroupOffsets[];
}

export interface RollbackOffsetsSummary {
  groups: number;
  partitionsCommitted: number;
  report?: { jsonPath: string; markdownPath: string };
}

export interface RollbackPartitionCheck {
  topic: string;
  partition: number;
  /** Source records before the cutover (untouched) and records copied back. */
  sourceBeforeCutover: number;
  writtenOnTarget: number;
  copiedBack: number;
  ok: boolean;
  problem?: string;
}

/** source = source-before-cutover + everything written on the target, in order, per partition. */
export interface RollbackVerificationReport {
  migration: string;
  at: string;
  ok: boolean;
  partitions: RollbackPartitionCheck[];
  mismatches: string[];
  decoder: string;
}
