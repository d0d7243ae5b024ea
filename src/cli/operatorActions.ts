/**
 * Sends an operator action as the checked update `operatorAction`, to the workflow that owns it: plan-level
 * actions to the migration, cutover actions to the batch's child workflow. The workflow's validator refuses
 * an action it cannot take now; that refusal comes back here and is reported with its reason (exit 3).
 */
import { WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import {
  ACTION_REFUSED,
  CHECKED_ACTIONS,
  operatorActionUpdate,
  type OperatorAction,
  type OperatorActionName,
  type OperatorActionResult,
} from '../workflows/messages';
import { readMigration, runningBatch } from './migrationState';
import { answeredByWorker, CliError, EXIT, withinDeadline, type TemporalSession } from './temporalClient';

/** Actions taken on one batch: they go to the batch's child workflow. */
export const BATCH_ACTIONS: ReadonlySet<OperatorActionName> = new Set([
  'approveCutover',
  'producersStopped',
  'consumersStopped',
  'clientsStopped',
  'retryVerification',
  'acceptMismatches',
  'excludeTopic',
]);

/** How long a checked action's check may take once the workflow took it (quiet period, stopping a round). */
const CHECK_WAIT_MS = 10 * 60 * 1000;

export interface SentAction {
  workflowId: string;
  result: OperatorActionResult;
}

/** Which workflow receives the action, and with which batch number. */
export async function actionTarget(session: TemporalSession, migrationId: string, action: OperatorAction): Promise<{ workflowId: string; batch?: number }> {
  const retryOfBatch = action.action === 'retry';
  if (!BATCH_ACTIONS.has(action.action) && !retryOfBatch) return { workflowId: migrationId, batch: action.batch };
  const { status } = await readMigration(session, migrationId);
  if (retryOfBatch) {
    // retry goes to whoever is blocked: the batch (blocked in one of its steps) or the migration itself.
    const blocked = status.batches.find((b) => b.state === 'blocked' && (action.batch === undefined || b.number === action.batch));
    return blocked ? { workflowId: blocked.workflowId, batch: blocked.number } : { workflowId: migrationId, batch: action.batch };
  }
  const batch = action.batch !== undefined ? status.batches.find((b) => b.number === action.batch) : runningBatch(status);
  if (!batch) {
    if (action.batch !== undefined) {
      const known = status.batches.map((b) => b.number).join(', ') || 'none yet';
      throw new CliError(`migration ${migrationId} has no batch ${action.batch} (batches: ${known})`, EXIT.notFound);
    }
    throw new CliError(`refused: ${action.action}: no batch of ${migrationId} is running (phase ${status.phase}); give --batch N`, EXIT.refused);
  }
  if (batch.state !== 'running' && batch.state !== 'blocked') {
    throw new CliError(`refused: ${action.action}: batch ${batch.number} (${batch.name}) is ${batch.state}, not running`, EXIT.refused);
  }
  return { workflowId: batch.workflowId, batch: batch.number };
}

/**
 * Sends the action. The workflow must take it before `deadline` (now + the RPC timeout): if no worker answers in
 * time, the CLI says so and the action is void — the workflow refuses it when a worker picks it up later. A
 * checked action's answer is the check's verdict (accepted, or refused with evidence), waited for separately.
 */
export async function sendOperatorAction(session: TemporalSession, migrationId: string, action: OperatorAction): Promise<SentAction> {
  const target = await actionTarget(session, migrationId, action);
  const deadline = new Date(Date.now() + session.rpcTimeoutMs).toISOString();
  const payload: OperatorAction = { ...action, deadline, ...(target.batch !== undefined ? { batch: target.batch } : {}) };
  const handle = session.client.workflow.getHandle(target.workflowId);
  const what = `${action.action} on ${target.workflowId}`;
  try {
    const update = await answeredByWorker(
      session,
      what,
      () => handle.startUpdate(operatorActionUpdate, { args: [payload], waitForStage: WorkflowUpdateStage.ACCEPTED }),
      undefined,
      deadline,
    );
    const wait = CHECKED_ACTIONS.includes(action.action) ? CHECK_WAIT_MS : session.rpcTimeoutMs;
    const result = await withinDeadline(session, wait, () => update.result());
    return { workflowId: target.workflowId, result };
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) throw new CliError(`refused: ${refusalReason(e)}${refusalEvidence(e)}`, EXIT.refused);
    if (isClosedWorkflowError(e)) throw new CliError(`refused: ${action.action}: ${target.workflowId} has already ended`, EXIT.refused);
    throw e;
  }
}

/** The evidence a refused checked action carries (partitions that moved, members still connected), as lines. */
function refusalEvidence(e: WorkflowUpdateFailedError): string {
  const cause = e.cause as { type?: string; details?: unknown[] } | undefined;
  if (cause?.type !== ACTION_REFUSED) return '';
  const evidence = cause.details?.[0] as
    | { partitionsMoved?: string[]; groups?: { group: string; state: string; members?: { memberId?: string; clientId?: string; host?: string }[] }[] }
    | null
    | undefined;
  if (!evidence) return '';
  const lines: string[] = [];
  if (evidence.partitionsMoved?.length) lines.push(`  partitions still written to: ${evidence.partitionsMoved.join(', ')}`);
  for (const g of evidence.groups ?? []) {
    const members = (g.members ?? []).map((m) => `${m.clientId ?? '?'}@${m.host ?? '?'}${m.memberId ? ` (${m.memberId})` : ''}`);
    lines.push(`  group ${g.group}: ${g.state}${members.length ? `, members still connected: ${members.join(', ')}` : ''}`);
  }
  return lines.length ? `\n${lines.join('\n')}` : '';
}

/** The validator's message (an ApplicationFailure cause); never a stack. */
function refusalReason(e: WorkflowUpdateFailedError): string {
  const cause = e.cause as { message?: string } | undefined;
  return (cause?.message || e.message).split('\n')[0];
}

function isClosedWorkflowError(e: unknown): boolean {
  return /workflow execution already completed/i.test((e as Error)?.message ?? '');
}
