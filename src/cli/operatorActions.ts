/**
 * Sends an operator action as the checked update `operatorAction`, to the workflow that owns it: plan-level
 * actions to the migration, cutover actions to the batch's child workflow. The workflow's validator refuses
 * an action it cannot take now; that refusal comes back here and is reported with its reason (exit 3).
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { operatorActionUpdate, type OperatorAction, type OperatorActionName, type OperatorActionResult } from '../workflows/messages';
import { readMigration, runningBatch } from './migrationState';
import { answeredByWorker, CliError, EXIT, type TemporalSession } from './temporalClient';

/** Actions taken on one batch: they go to the batch's child workflow. */
export const BATCH_ACTIONS: ReadonlySet<OperatorActionName> = new Set(['approveCutover', 'producersStopped', 'consumersStopped', 'retryVerification', 'acceptMismatches']);

export interface SentAction {
  workflowId: string;
  result: OperatorActionResult;
}

/** Which workflow receives the action, and with which batch number. */
export async function actionTarget(session: TemporalSession, migrationId: string, action: OperatorAction): Promise<{ workflowId: string; batch?: number }> {
  if (!BATCH_ACTIONS.has(action.action)) return { workflowId: migrationId, batch: action.batch };
  const { status } = await readMigration(session, migrationId);
  const batch = action.batch !== undefined ? status.batches.find((b) => b.number === action.batch) : runningBatch(status);
  if (!batch) {
    if (action.batch !== undefined) {
      const known = status.batches.map((b) => b.number).join(', ') || 'none yet';
      throw new CliError(`migration ${migrationId} has no batch ${action.batch} (batches: ${known})`, EXIT.notFound);
    }
    throw new CliError(`refused: ${action.action}: no batch of ${migrationId} is running (phase ${status.phase}); give --batch N`, EXIT.refused);
  }
  if (batch.state !== 'running') {
    throw new CliError(`refused: ${action.action}: batch ${batch.number} (${batch.name}) is ${batch.state}, not running`, EXIT.refused);
  }
  return { workflowId: batch.workflowId, batch: batch.number };
}

export async function sendOperatorAction(session: TemporalSession, migrationId: string, action: OperatorAction): Promise<SentAction> {
  const target = await actionTarget(session, migrationId, action);
  const payload: OperatorAction = { ...action, ...(target.batch !== undefined ? { batch: target.batch } : {}) };
  const handle = session.client.workflow.getHandle(target.workflowId);
  try {
    const result = await answeredByWorker(session, `${action.action} on ${target.workflowId}`, () => handle.executeUpdate(operatorActionUpdate, { args: [payload] }));
    return { workflowId: target.workflowId, result };
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) throw new CliError(`refused: ${refusalReason(e)}`, EXIT.refused);
    if (isClosedWorkflowError(e)) throw new CliError(`refused: ${action.action}: ${target.workflowId} has already ended`, EXIT.refused);
    throw e;
  }
}

/** The validator's message (an ApplicationFailure cause); never a stack. */
function refusalReason(e: WorkflowUpdateFailedError): string {
  const cause = e.cause as { message?: string } | undefined;
  return (cause?.message || e.message).split('\n')[0];
}

function isClosedWorkflowError(e: unknown): boolean {
  return /workflow execution already completed/i.test((e as Error)?.message ?? '');
}
