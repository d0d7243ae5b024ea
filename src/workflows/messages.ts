/**
 * Signals, queries and the checked update of the migration workflow. Every operator action exists as a
 * signal (fire-and-forget, e.g. from the Temporal UI or CLI) and through the `operatorAction` update,
 * which the kafka-migrate CLI uses so that a refused action (wrong phase, bad payload) is reported back.
 * Either way the action is validated by the same code and every outcome is recorded as a Decision.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BatchStatus, BlockedState, MigrationStatus } from '../types';

export const OPERATOR_ACTIONS = [
  'overridePreflight',
  'approvePlan',
  'rejectPlan',
  'approveCutover',
  'producersStopped',
  'consumersStopped',
  'clientsStopped',
  'approveBatch',
  'retryVerification',
  'acceptMismatches',
  'retry',
  'excludeTopic',
  'abort',
] as const;
export type OperatorActionName = (typeof OPERATOR_ACTIONS)[number];

export interface OperatorActionPayload {
  /** Who acts (required). */
  by: string;
  comment?: string;
  /** Why (required for overridePreflight, rejectPlan, abort). */
  reason?: string;
  /** The batch an action is meant for (cutover actions). */
  batch?: number;
  /** An edited plan (approvePlan only). */
  plan?: unknown;
  /** The topic to drop from a blocked batch (excludeTopic only). */
  topic?: string;
  /** excludeTopic: also delete the target copy of the topic, when this migration created it. */
  deleteTarget?: boolean;
  /**
   * ISO time after which the action must not be applied. The CLI sets it to the moment it stops waiting for
   * an answer: an action it reported as not done never takes effect later (e.g. once a worker starts).
   */
  deadline?: string;
}

export interface OperatorAction extends OperatorActionPayload {
  action: OperatorActionName;
  /** Set by the workflow when it accepts the action (workflow time): when it arrived. */
  receivedAt?: string;
}

export interface OperatorActionResult {
  accepted: true;
  action: OperatorActionName;
  phase: string;
  message: string;
  /** What a checked action's check found (e.g. the quiet period observed, the groups found Empty). */
  evidence?: unknown;
}

/**
 * Actions whose acceptance depends on a check against the clusters (the source stands still, the groups are
 * Empty). The update returns only once the check has run: accepted, or refused (ActionRefused) with evidence.
 */
export const CHECKED_ACTIONS: readonly OperatorActionName[] = ['producersStopped', 'consumersStopped', 'clientsStopped'];

/** The failure type of a checked action the check refused; its details[0] carries the evidence. */
export const ACTION_REFUSED = 'ActionRefused';

/** Who acts when the workflow is cancelled from Temporal (UI "Request Cancellation", API): handled as an abort. */
export const CANCELLED_FROM_TEMPORAL: OperatorActionPayload = { by: 'temporal', reason: 'cancelled from Temporal' };

export const actionSignals = Object.fromEntries(OPERATOR_ACTIONS.map((name) => [name, defineSignal<[OperatorActionPayload]>(name)])) as {
  [K in OperatorActionName]: ReturnType<typeof defineSignal<[OperatorActionPayload]>>;
};

export const operatorActionUpdate = defineUpdate<OperatorActionResult, [OperatorAction]>('operatorAction');

export const statusQuery = defineQuery<MigrationStatus>('status');

/** Whether a status's waitingFor (`signal`: the expected actions joined by "|") expects this action. */
export function waitsFor(waitingFor: { signal: string } | undefined, action: OperatorActionName): boolean {
  return !!waitingFor && waitingFor.signal.split('|').includes(action);
}

export const batchStatusQuery = defineQuery<BatchStatus>('batchStatus');

/** Sent by a batch to its migration when clients may use the target (from then on an abort cannot roll back). */
export const batchMilestoneSignal = defineSignal<[BatchMilestone]>('batchMilestone');

export interface BatchMilestone {
  batch: number;
  /** clientsMayMove | consumersMayMove | blocked | unblocked | topicExcluded */
  milestone: string;
  /** With `blocked`: what the batch is blocked on. */
  blocked?: BlockedState;
  /** With `topicExcluded`: the topic the operator dropped (a restarted run of the batch leaves it out too). */
  topic?: string;
}
