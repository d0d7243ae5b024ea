/**
 * What a failed step tells the operator: the innermost ApplicationFailure's type, message and details, read
 * from the chain Temporal wraps around an activity's error (ActivityFailure → ApplicationFailure). Workflow-safe.
 */
import { ApplicationFailure, ChildWorkflowFailure, TimeoutFailure } from '@temporalio/workflow';

export interface FailureFacts {
  type: string;
  message: string;
  topics?: string[];
  partitions?: string[];
  groups?: string[];
  details?: unknown;
}

export function failureFacts(e: unknown): FailureFacts {
  let app: ApplicationFailure | undefined;
  let timeout: TimeoutFailure | undefined;
  let innermost: { message?: string } | undefined;
  for (let cur = e as { cause?: unknown; message?: string } | undefined, depth = 0; cur && depth < 10; cur = cur.cause as typeof cur, depth++) {
    if (cur instanceof ApplicationFailure) app = cur;
    if (cur instanceof TimeoutFailure) timeout = cur;
    innermost = cur;
  }
  const message = app?.message || innermost?.message || String(e);
  const type =
    app?.type ??
    (timeout
      ? `Timeout${timeout.timeoutType !== undefined ? `:${timeout.timeoutType}` : ''}`
      : e instanceof ChildWorkflowFailure
        ? 'ChildWorkflowFailed'
        : (e as Error)?.name || 'Error');
  const details = app?.details?.[0] as { topics?: unknown; partitions?: unknown; groups?: unknown } | undefined;
  const facts: FailureFacts = { type, message };
  if (details && typeof details === 'object') {
    facts.details = details;
    if (Array.isArray(details.topics)) facts.topics = details.topics.map(String);
    if (Array.isArray(details.partitions))
      facts.partitions = details.partitions.map((p) =>
        typeof p === 'string' ? p : `${(p as { topic: string }).topic}:${(p as { partition: number }).partition}`,
      );
    if (Array.isArray(details.groups)) facts.groups = details.groups.map((g) => (typeof g === 'string' ? g : String((g as { group: string }).group)));
  }
  return facts;
}
