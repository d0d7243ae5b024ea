/**
 * Reads what the CLI shows: the migration's status and its batches' statuses. A workflow that completed is
 * read from its result (no worker needed); a running one is asked through its query. A workflow that ended
 * otherwise (failed, terminated, cancelled, timed out) is asked too when a worker polls its queue (the query
 * replays it there); without one its status is rebuilt from its history, so that the operator still sees
 * what it was doing and why it ended.
 */
import { WorkflowNotFoundError, type WorkflowExecutionDescription, type WorkflowHandle } from '@temporalio/client';
import type { BatchStatus, BatchSummary, MigrationPhase, MigrationStatus } from '../types';
import { batchStatusQuery, statusQuery } from '../workflows/messages';
import type { BatchResult } from '../types';
import type { MigrationResult } from '../workflows/migration';
import { KM_PHASE } from '../workflows/searchAttributes';
import { closeOf, hasWorkflowPoller, type ClosedExecution } from './workflowClose';
import { answeredByWorker, CliError, EXIT, type TemporalSession } from './temporalClient';

export interface MigrationState {
  workflowId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, TERMINATED, ... */
  execution: string;
  /** The workflow's outcome when it completed; otherwise the current phase. */
  outcome: string;
  status: MigrationStatus;
  /** How and why it ended, unless it is running or completed. */
  ended?: ClosedExecution;
  /** Set when no worker could answer and the status was rebuilt from the history (fewer details). */
  fromHistory?: boolean;
}

/** Executions that ended without the workflow's own completion: status exits 1 for them. */
export const UNSUCCESSFUL_EXECUTIONS = ['FAILED', 'TERMINATED', 'CANCELLED', 'CANCELED', 'TIMED_OUT'];

export function endedBadly(execution: string): boolean {
  return UNSUCCESSFUL_EXECUTIONS.includes(execution);
}

export async function readMigration(session: TemporalSession, workflowId: string): Promise<MigrationState> {
  const handle = session.client.workflow.getHandle(workflowId);
  const described = await handle.describe();
  const execution = described.status.name;
  if (execution === 'COMPLETED') {
    const result = (await handle.result()) as MigrationResult;
    return { workflowId, execution, outcome: result.outcome ?? result.status.phase, status: normalize(result.status) };
  }
  if (execution === 'RUNNING') {
    const status = normalize(await answeredByWorker(session, `status of ${workflowId}`, () => handle.query(statusQuery), described.taskQueue));
    return { workflowId, execution, outcome: `in progress (${status.phase})`, status };
  }
  const ended = await closeOf(session, workflowId);
  const queried = await queryClosed<MigrationStatus>(session, handle, described, statusQuery);
  const status = queried ? normalize(queried) : await statusFromHistory(handle, described, ended);
  return { workflowId, execution, outcome: `${execution.toLowerCase()} (${status.phase})`, status, ended, ...(queried ? {} : { fromHistory: true }) };
}

/**
 * The query of a workflow that ended: only a worker can answer it (by replaying the history). Undefined when no
 * worker polls the queue, or none answers, or the workflow never ran a task (there is nothing to replay).
 */
async function queryClosed<T>(
  session: TemporalSession,
  handle: WorkflowHandle,
  described: WorkflowExecutionDescription,
  query: Parameters<WorkflowHandle['query']>[0],
): Promise<T | undefined> {
  if (!(await hasWorkflowPoller(session, described.taskQueue))) return undefined;
  try {
    return (await answeredByWorker(session, `status of ${described.workflowId}`, () => handle.query(query as never), described.taskQueue)) as T;
  } catch (e) {
    if (e instanceof CliError && e.exitCode === EXIT.unavailable) return undefined;
    if (isQueryOfClosedRefused(e)) return undefined;
    throw e;
  }
}

/** FAILED_PRECONDITION on a query: e.g. "Workflow execution closed before WorkflowTaskStarted event". */
function isQueryOfClosedRefused(e: unknown): boolean {
  for (let cur = e as { code?: number; cause?: unknown } | undefined, depth = 0; cur && depth < 5; cur = cur.cause as typeof cur, depth++) {
    if (cur.code === 9) return true;
  }
  return false;
}

/**
 * What the history alone says about a migration that ended: its name, last phase (the KmPhase search
 * attribute), the batches it started (child workflows) and why it ended.
 */
async function statusFromHistory(handle: WorkflowHandle, described: WorkflowExecutionDescription, ended: ClosedExecution): Promise<MigrationStatus> {
  const history = await handle.fetchHistory();
  const batches = new Map<string, BatchSummary>();
  const childId = (e: { workflowExecution?: { workflowId?: string | null } | null }) => e.workflowExecution?.workflowId ?? '';
  for (const e of history.events ?? []) {
    const started = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    if (started) {
      const m = /-batch-(\d+)-(.+)$/.exec(started);
      batches.set(started, { number: m ? Number(m[1]) : batches.size + 1, name: m ? m[2] : started, workflowId: started, state: 'running' });
    }
    const done = e.childWorkflowExecutionCompletedEventAttributes;
    if (done && batches.has(childId(done))) batches.get(childId(done))!.state = 'completed';
    const failed = e.childWorkflowExecutionFailedEventAttributes;
    if (failed && batches.has(childId(failed))) batches.get(childId(failed))!.state = 'failed';
  }
  const phase = (described.typedSearchAttributes.get(KM_PHASE) ?? 'starting') as MigrationPhase;
  return {
    name: described.workflowId.replace(/^migration-/, ''),
    phase,
    batches: [...batches.values()].sort((a, b) => a.number - b.number),
    reports: {},
    decisions: [],
    error: ended.reason,
    startedAt: described.startTime.toISOString(),
    updatedAt: (described.closeTime ?? described.startTime).toISOString(),
  };
}

/** Runs of older workflow versions may lack newer fields: show them rather than fail. */
function normalize(s: MigrationStatus): MigrationStatus {
  return { ...s, batches: s.batches ?? [], decisions: s.decisions ?? [], reports: s.reports ?? {} };
}

/** One batch workflow as Temporal knows it: its execution status and, when it can be read, its own status. */
export interface BatchRead {
  workflowId: string;
  execution: string;
  status?: BatchStatus;
  ended?: ClosedExecution;
}

/** The status of one batch workflow, or undefined when it has not been started yet. */
export async function readBatch(session: TemporalSession, workflowId: string): Promise<BatchRead | undefined> {
  const handle: WorkflowHandle = session.client.workflow.getHandle(workflowId);
  let described;
  try {
    described = await handle.describe();
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return undefined;
    throw e;
  }
  const execution = described.status.name;
  if (execution === 'COMPLETED') return { workflowId, execution, status: ((await handle.result()) as BatchResult).status };
  if (execution === 'RUNNING')
    return {
      workflowId,
      execution,
      status: await answeredByWorker(session, `status of ${workflowId}`, () => handle.query(batchStatusQuery), described.taskQueue),
    };
  const ended = await closeOf(session, workflowId);
  return { workflowId, execution, ended, status: await queryClosed<BatchStatus>(session, handle, described, batchStatusQuery) };
}

/** Every started batch of a migration, in plan order, with its execution status. */
export async function readBatchStates(session: TemporalSession, status: MigrationStatus): Promise<BatchRead[]> {
  const out: BatchRead[] = [];
  for (const b of status.batches) {
    if (b.state === 'pending' || b.state === 'skipped') continue;
    const r = await readBatch(session, b.workflowId);
    if (r) out.push(r);
  }
  return out;
}

/** The statuses of the started batches that could be read. */
export async function readBatches(session: TemporalSession, status: MigrationStatus): Promise<BatchStatus[]> {
  return (await readBatchStates(session, status)).flatMap((b) => (b.status ? [b.status] : []));
}

/** The batch an operator most likely means: the one running now. */
export function runningBatch(status: MigrationStatus): MigrationStatus['batches'][number] | undefined {
  return status.batches.find((b) => b.state === 'running' || b.state === 'blocked');
}

export const TERMINAL_PHASES = ['completed', 'aborted', 'failed'];
