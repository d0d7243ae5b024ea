/** The batch plan: which topics and groups move together, in which order. Built by src/plan/buildPlan.ts. */

export type SystemPriority = 'core' | 'non-core';

export interface PlanTopic {
  name: string;
  partitions: number;
  bytes: number;
  records: number;
}

export interface PlanBatch {
  /** 1..n, the order batches run in. */
  number: number;
  /** Names the batch's workflow: the system (or `a+b` for merged systems), `-2of3` when split. */
  name: string;
  systems: string[];
  priority: SystemPriority;
  topics: PlanTopic[];
  /** Consumer groups whose offsets are translated at this batch's cutover. */
  groups: string[];
}

export interface PlanExclusion {
  kind: 'topic' | 'group';
  name: string;
  reason: string;
}

export interface MigrationPlan {
  batches: PlanBatch[];
  excluded: PlanExclusion[];
  warnings: string[];
}

export type EditedPlanResult = { ok: true; plan: MigrationPlan } | { ok: false; error: string };
