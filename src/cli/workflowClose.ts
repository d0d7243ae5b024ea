/**
 * How a workflow ended and whether a worker polls its queue: what `status` needs to explain a migration that
 * failed, was terminated, cancelled or timed out, without replaying it.
 */
import type { TemporalSession } from './temporalClient';

/** The ending of a workflow that is not running, as its close event records it. */
export interface ClosedExecution {
  /** ISO time of the close event. */
  at?: string;
  /** The failure message, the termination reason, or what Temporal says about a cancel or a timeout. */
  reason: string;
}

/** Numeric enum values (@temporalio/proto is not a direct dependency). */
const HISTORY_EVENT_FILTER_CLOSE_EVENT = 2;
const TASK_QUEUE_TYPE_WORKFLOW = 1;

/** A failure's message with its causes ("activity failed: cause: ..."), as the history holds them. */
function failureText(f: { message?: string | null; cause?: unknown } | null | undefined): string {
  const parts: string[] = [];
  for (let cur = f, depth = 0; cur && depth < 5; cur = cur.cause as typeof cur, depth++) if (cur.message) parts.push(cur.message);
  return parts.join(': ') || 'no message';
}

/** Reads only the close event of the workflow's latest run. */
export async function closeOf(session: TemporalSession, workflowId: string): Promise<ClosedExecution> {
  const res = await session.client.workflowService.getWorkflowExecutionHistory({
    namespace: session.settings.namespace,
    execution: { workflowId },
    historyEventFilterType: HISTORY_EVENT_FILTER_CLOSE_EVENT,
  });
  const e = res.history?.events?.[0];
  if (!e) return { reason: 'no close event recorded' };
  const at = e.eventTime?.seconds != null ? new Date(Number(e.eventTime.seconds) * 1000 + Math.floor((e.eventTime.nanos ?? 0) / 1e6)).toISOString() : undefined;
  const reason = e.workflowExecutionFailedEventAttributes
    ? `failed: ${failureText(e.workflowExecutionFailedEventAttributes.failure)}`
    : e.workflowExecutionTerminatedEventAttributes
      ? `terminated${e.workflowExecutionTerminatedEventAttributes.identity ? ` by ${e.workflowExecutionTerminatedEventAttributes.identity}` : ''}: ${e.workflowExecutionTerminatedEventAttributes.reason || 'no reason given'}`
      : e.workflowExecutionCanceledEventAttributes
        ? 'cancelled from Temporal'
        : e.workflowExecutionTimedOutEventAttributes
          ? 'timed out (workflow execution timeout)'
          : e.workflowExecutionContinuedAsNewEventAttributes
            ? 'continued as a new run'
            : 'ended';
  return { at, reason };
}

/** True when some worker polls the queue's workflow tasks now (a query of an ended workflow needs one). */
export async function hasWorkflowPoller(session: TemporalSession, taskQueue: string): Promise<boolean> {
  const res = await session.client.workflowService.describeTaskQueue({
    namespace: session.settings.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (res.pollers ?? []).length > 0;
}
