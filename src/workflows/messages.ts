/**
 * Signals, queries and the checked update of the migration workflow. Every operator action exists as a
 * signal (fire-and-forget, e.g. from the Temporal UI or CLI) and through the `operatorAction` update,
 * which the kafka-migrate CLI uses so that a refused action (wrong phase, bad payload) is reported back.
 * Either way the action is validated by the same code and every outcome is recorded as a Decision.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BatchStatus, MigrationStatus } from '../types';

export const OPERATOR_ACTIONS = [
  'overridePreflight',
  'approvePlan',
  'rejectPlan',
  'approveCutover',
  'producersStopped',
  'consumersStopped',
  'approveBatch',
  'retryVerification',
  'acceptMismatches',
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
}

export interface OperatorAction extends OperatorActionPayload {
  action: OperatorActionName;
}

export interface OperatorActionResult {
  accepted: true;
  action: OperatorActionName;
  phase: string;
  message: string;
}

export const actionSignals = Object.fromEntries(
  OPERATOR_ACTIONS.map((name) => [name, defineSignal<[OperatorActionPayload]>(name)]),
) as { [K in OperatorActionName]: ReturnType<typeof defineSignal<[OperatorActionPayload]>> };

export const operatorActionUpdate = defineUpdate<OperatorActionResult, [OperatorAction]>('operatorAction');

export const statusQuery = defineQuery<MigrationStatus>('status');

export const batchStatusQuery = defineQuery<BatchStatus>('batchStatus');

/** Sent by a batch to its migration when clients may use the target (from then on an abort cannot roll back). */
export const batchMilestoneSignal = defineSignal<[{ batch: number; milestone: string }]>('batchMilestone');
