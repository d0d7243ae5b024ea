/**
 * The migration workflow: one per migration, id `migration-<name>`. Runs the phases in order, each made of
 * retriable activities, with an operator approval (signal or checked update) between phases. Progress lives
 * in the `status` query and in search attributes, not in history events.
 */
import { ApplicationFailure, log, proxyActivities, setHandler, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type * as activities from '../activities';
import type { MigrationSpec } from '../config/spec';
import type { MigrationPhase, MigrationStatus } from '../types';
import { statusQuery } from './messages';
import { OperatorInbox } from './operatorInbox';
import { KM_PHASE } from './searchAttributes';

export interface MigrationInput {
  /** The validated spec: holds secret references only, never a secret. */
  spec: MigrationSpec;
}

export interface MigrationResult {
  status: MigrationStatus;
}

const NON_RETRYABLE = ['KafkaAuthenticationFailed', 'KafkaAuthorizationFailed', 'SecretUnavailable', 'InvalidConfiguration'];

const { checkConnectivity } = proxyActivities<typeof activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});

export async function migrationWorkflow(input: MigrationInput): Promise<MigrationResult> {
  const { spec } = input;
  const now = () => new Date().toISOString(); // workflow time: deterministic
  const status: MigrationStatus = {
    name: spec.name,
    phase: 'starting',
    decisions: [],
    startedAt: now(),
    updatedAt: now(),
  };
  const terminal = () => ['completed', 'aborted', 'failed'].includes(status.phase);
  const inbox = new OperatorInbox(() => status.phase, now, terminal);
  status.decisions = inbox.decisions;
  inbox.install();
  setHandler(statusQuery, () => ({ ...status, waitingFor: inbox.waitingFor && { signal: inbox.waitingFor.actions.join('|'), reason: inbox.waitingFor.reason } }));

  const enter = (phase: MigrationPhase) => {
    status.phase = phase;
    status.updatedAt = now();
    upsertSearchAttributes([{ key: KM_PHASE, value: phase }]);
    upsertMemo({ phase, summary: `migration ${spec.name}: ${phase}` });
    log.info('migration phase', { migration: spec.name, phase, workflowId: workflowInfo().workflowId });
  };

  try {
    enter('connectivity');
    status.connectivity = await checkConnectivity({ source: spec.source, target: spec.target });
    enter('completed');
  } catch (e) {
    const failedIn = status.phase;
    status.error = `${failedIn}: ${rootMessage(e)}`;
    enter('failed');
    throw ApplicationFailure.nonRetryable(`migration ${spec.name} failed in phase ${failedIn}: ${rootMessage(e)}`, 'MigrationFailed');
  }
  return { status };
}

/** The innermost cause's message (an ActivityFailure wraps the activity's own error). */
function rootMessage(e: unknown): string {
  let cur = e as { cause?: unknown; message?: string } | undefined;
  while (cur && cur.cause) cur = cur.cause as typeof cur;
  return cur?.message ?? String(e);
}
