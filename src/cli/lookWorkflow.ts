/**
 * Runs a read-only look (src/workflows/readOnly.ts) on a worker of the task queue and waits for its answer. The
 * worker has the secrets and the broker access; this machine needs only Temporal. When no worker picks the look
 * up within the CLI's --timeout, it is terminated (it would otherwise run whenever a worker comes) and the
 * command exits 5.
 */
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { MigrationSpec } from '../config/spec';
import { CliError, EXIT, withTemporal, type GlobalOptions, type TemporalSession } from './temporalClient';

export type LookKind = 'preflight' | 'inventory' | 'reports';

const WORKFLOW_TYPE: Record<LookKind, string> = {
  preflight: 'preflightLookWorkflow',
  inventory: 'inventoryLookWorkflow',
  reports: 'storedReportsLookWorkflow',
};
const SUMMARY: Record<LookKind, string> = {
  preflight: 'read-only preflight (kafka-migrate preflight -f): reads the clusters, changes nothing',
  inventory: 'read-only inventory (kafka-migrate inventory -f): reads the clusters, changes nothing',
  reports: "read-only look at the reports in the target's report store (kafka-migrate report): changes nothing",
};
/** The command and what runs on the worker, as the messages name them. */
const COMMAND: Record<LookKind, string> = { preflight: 'preflight', inventory: 'inventory', reports: 'report' };
const WORK: Record<LookKind, string> = {
  preflight: 'the preflight',
  inventory: 'the inventory',
  reports: "reading the reports this machine lacks from the target's report store",
};

/** Unique per look: several operators may look at the same migration at once. */
export function lookWorkflowId(kind: LookKind, name: string): string {
  return `kafka-migrate-look-${kind}-${name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Resolves once a worker has started the look's first workflow task (or it closed); false at the deadline. */
async function pickedUp(handle: WorkflowHandle, deadlineMs: number): Promise<boolean> {
  for (;;) {
    const d = await handle.describe();
    if (d.status.name !== 'RUNNING' || (d.historyLength ?? 0) >= 3) return true; // started, task scheduled, task started
    if (Date.now() >= deadlineMs) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The innermost message of a failed look: the activity's own error, not Temporal's wrappers. */
function rootCause(e: unknown): string {
  let cur = e as { cause?: unknown; message?: string } | undefined;
  while (cur?.cause && cur.cause !== cur) cur = cur.cause as typeof cur;
  return (cur?.message ?? String(e)).split('\n')[0];
}

export async function runLook<T>(opts: GlobalOptions, kind: LookKind, spec: MigrationSpec): Promise<T> {
  return withTemporal(opts, (session) => runLookIn<T>(session, kind, spec));
}

/** runLook on an open session; `more` joins the look's input (e.g. the report file stems of a reports look). */
export async function runLookIn<T>(session: TemporalSession, kind: LookKind, spec: MigrationSpec, more: Record<string, unknown> = {}): Promise<T> {
  const { taskQueue } = session.settings;
  const handle = await session.client.workflow.start(WORKFLOW_TYPE[kind], {
    taskQueue,
    workflowId: lookWorkflowId(kind, spec.name),
    args: [{ ...more, spec }],
    workflowExecutionTimeout: '40 minutes',
    staticSummary: `migration ${spec.name}: ${SUMMARY[kind]}`,
  });
  if (!(await pickedUp(handle, Date.now() + session.rpcTimeoutMs))) {
    await handle.terminate('no worker picked up the read-only look').catch(() => undefined);
    throw new CliError(
      `${COMMAND[kind]}: no worker of task queue ${taskQueue} answered within ${session.rpcTimeoutMs / 1000} s; ${WORK[kind]} runs on a worker (it has the secrets and the broker access): start one ("KM_TASK_QUEUE=${taskQueue} kafka-migrate-worker"), or raise --timeout`,
      EXIT.unavailable,
    );
  }
  try {
    const result = (await handle.result()) as unknown;
    return (result instanceof Uint8Array ? JSON.parse(gunzipSync(result).toString('utf8')) : result) as T;
  } catch (e) {
    if (e instanceof WorkflowFailedError)
      throw new CliError(`${COMMAND[kind]}: ${WORK[kind]} on a worker of ${taskQueue} failed: ${rootCause(e)}`, EXIT.failure);
    throw e;
  }
}
