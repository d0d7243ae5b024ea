/**
 * Reads what the CLI shows: the migration's status and its batches' statuses. A workflow that completed is
 * read from its result (no worker needed); a running or failed one is asked through its query.
 */
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { BatchStatus, MigrationStatus } from '../types';
import { batchStatusQuery, statusQuery } from '../workflows/messages';
import type { BatchResult } from '../types';
import type { MigrationResult } from '../workflows/migration';
import { answeredByWorker, type TemporalSession } from './temporalClient';

export interface MigrationState {
  workflowId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, TERMINATED, ... */
  execution: string;
  /** The workflow's outcome when it completed; otherwise the current phase. */
  outcome: string;
  status: MigrationStatus;
}

export async function readMigration(session: TemporalSession, workflowId: string): Promise<MigrationState> {
  const handle = session.client.workflow.getHandle(workflowId);
  const { status: exec, taskQueue } = await handle.describe();
  const execution = exec.name;
  if (execution === 'COMPLETED') {
    const result = (await handle.result()) as MigrationResult;
    return { workflowId, execution, outcome: result.outcome ?? result.status.phase, status: normalize(result.status) };
  }
  const status = normalize(await answeredByWorker(session, `status of ${workflowId}`, () => handle.query(statusQuery), taskQueue));
  return { workflowId, execution, outcome: execution === 'RUNNING' ? `in progress (${status.phase})` : status.phase, status };
}

/** Runs of older workflow versions may lack newer fields: show them rather than fail. */
function normalize(s: MigrationStatus): MigrationStatus {
  return { ...s, batches: s.batches ?? [], decisions: s.decisions ?? [], reports: s.reports ?? {} };
}

/** The status of one batch workflow, or undefined when it has not been started yet. */
export async function readBatch(session: TemporalSession, workflowId: string): Promise<BatchStatus | undefined> {
  const handle: WorkflowHandle = session.client.workflow.getHandle(workflowId);
  let described;
  try {
    described = await handle.describe();
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return undefined;
    throw e;
  }
  if (described.status.name === 'COMPLETED') return ((await handle.result()) as BatchResult).status;
  return answeredByWorker(session, `status of ${workflowId}`, () => handle.query(batchStatusQuery), described.taskQueue);
}

/** Every started batch of a migration, in plan order. */
export async function readBatches(session: TemporalSession, status: MigrationStatus): Promise<BatchStatus[]> {
  const out: BatchStatus[] = [];
  for (const b of status.batches) {
    if (b.state === 'pending' || b.state === 'skipped') continue;
    const s = await readBatch(session, b.workflowId);
    if (s) out.push(s);
  }
  return out;
}

/** The batch an operator most likely means: the one running now. */
export function runningBatch(status: MigrationStatus): MigrationStatus['batches'][number] | undefined {
  return status.batches.find((b) => b.state === 'running');
}

export const TERMINAL_PHASES = ['completed', 'aborted', 'failed'];
