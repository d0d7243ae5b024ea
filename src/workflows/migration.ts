/**
 * The migration workflow: one per migration, id `migration-<name>`. Runs the phases in order, each made of
 * retriable activities, with an operator approval (signal or checked update) between phases:
 *   connectivity → preflight [overridePreflight on a fail] → inventory → plan [approvePlan | rejectPlan]
 *   → batches, each a child workflow, in plan order [approveBatch before each next one] → final report.
 * `abort` is accepted at any time: before the batches it ends the migration; during a batch it is forwarded
 * to the batch (which rolls back if clients have not moved yet) and no further batch starts.
 * Progress lives in the `status` query and in search attributes, not in history events.
 */
import {
  ApplicationFailure,
  condition,
  log,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration, RetryPolicy } from '@temporalio/common';
import type * as activities from '../activities';
import type { MigrationSpec } from '../config/spec';
import type { BatchSummary, CheckResult, InventorySummary, MigrationPhase, MigrationPlan, MigrationStatus, PlanBatch } from '../types';
import { summarizePreflight } from '../activities/preflight/summary';
import { buildPlan } from '../plan/buildPlan';
import { emptyPlanError } from '../plan/emptyPlan';
import { validateEditedPlan } from '../plan/validateEditedPlan';
import { batchWorkflow } from './batch';
import { batchWorkflowId } from './ids';
import { actionSignals, batchMilestoneSignal, statusQuery, type OperatorAction } from './messages';
import { OperatorInbox } from './operatorInbox';
import { KM_BATCH, KM_BUSINESS_SYSTEM, KM_MIGRATION, KM_PHASE } from './searchAttributes';

export interface MigrationInput {
  /** The validated spec: holds secret references only, never a secret. */
  spec: MigrationSpec;
}

export interface MigrationResult {
  outcome: 'completed' | 'aborted' | 'rejected';
  status: MigrationStatus;
}

const NON_RETRYABLE = ['KafkaAuthenticationFailed', 'KafkaAuthorizationFailed', 'SecretUnavailable', 'InvalidConfiguration'];
const retry: RetryPolicy = { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE };

const PREFLIGHT_CHECKS = [
  'checkVersions',
  'checkSecurity',
  'checkPermissions',
  'checkAcls',
  'checkEcosystem',
  'checkReachability',
  'checkCapacity',
  'checkTargetState',
  'checkClients',
] as const;

export async function migrationWorkflow(input: MigrationInput): Promise<MigrationResult> {
  const { spec } = input;
  const quick = proxyActivities<typeof activities>({ startToCloseTimeout: '2 minutes', retry });
  const sampling = proxyActivities<typeof activities>({
    startToCloseTimeout: `${Math.ceil(spec.thresholds.capacitySampleSeconds) + 120}s` as Duration,
    retry,
  });
  const long = proxyActivities<typeof activities>({ startToCloseTimeout: '30 minutes', heartbeatTimeout: '60s', retry });

  const now = () => new Date().toISOString(); // workflow time: deterministic
  const status: MigrationStatus = {
    name: spec.name,
    phase: 'starting',
    batches: [],
    reports: {},
    decisions: [],
    startedAt: now(),
    updatedAt: now(),
  };
  const terminal = () => ['completed', 'aborted', 'failed'].includes(status.phase);
  const inbox = new OperatorInbox(() => status.phase, now, terminal);
  status.decisions = inbox.decisions;
  inbox.install();
  setHandler(statusQuery, () => ({
    ...status,
    waitingFor: inbox.waitingFor && { signal: inbox.waitingFor.actions.join('|'), reason: inbox.waitingFor.reason },
  }));
  upsertSearchAttributes([{ key: KM_MIGRATION, value: spec.name }]);
  // Batches whose clients may already use the target: a migration-wide abort can no longer roll them back.
  const clientsMovedIn = new Set<number>();
  setHandler(batchMilestoneSignal, ({ batch }) => void clientsMovedIn.add(batch));
  inbox.abortBlockedReason = () => {
    const running = status.batches.find((b) => b.state === 'running');
    return running && clientsMovedIn.has(running.number)
      ? `clients of batch ${running.number} (${running.name}) may already use the target: it cannot be rolled back; let it finish, then abort before the next batch`
      : undefined;
  };

  const enter = (phase: MigrationPhase) => {
    status.phase = phase;
    status.updatedAt = now();
    upsertSearchAttributes([{ key: KM_PHASE, value: phase }]);
    upsertMemo({ phase, summary: summary(status) });
    log.info('migration phase', { migration: spec.name, phase, workflowId: workflowInfo().workflowId });
  };

  const writeReport = async (fileStem: string, kind: 'preflight' | 'plan' | 'migration', data: unknown) => {
    const paths = await quick.writeReportFiles({ spec, fileStem, kind, data });
    status.reports[fileStem] = paths.markdownPath;
  };

  const end = async (outcome: MigrationResult['outcome'], phase: 'completed' | 'aborted'): Promise<MigrationResult> => {
    enter(phase);
    await writeReport('migration', 'migration', { outcome, status });
    return { outcome, status };
  };

  const abortedBy = (a: OperatorAction | undefined) => (a?.action === 'abort' ? a : undefined);

  try {
    // ---------------------------------------------------------------- connectivity
    enter('connectivity');
    status.connectivity = await quick.checkConnectivity({ source: spec.source, target: spec.target });
    if (inbox.aborted) return await end('aborted', 'aborted');

    // ---------------------------------------------------------------- preflight
    enter('preflight');
    const checks: CheckResult[] = await Promise.all(
      PREFLIGHT_CHECKS.map((name) => (name === 'checkCapacity' ? sampling : quick)[name]({ spec }) as Promise<CheckResult>),
    );
    const preflight = summarizePreflight(spec.name, checks);
    status.preflight = preflight;
    await writeReport('preflight', 'preflight', preflight);
    if (inbox.aborted) return await end('aborted', 'aborted');
    if (preflight.verdict === 'fail') {
      const failed = preflight.checks.filter((c) => c.verdict === 'fail').map((c) => c.id);
      const a = await inbox.waitFor({ actions: ['overridePreflight'], reason: `preflight failed: ${failed.join(', ')}; fix and restart, or override with a reason` });
      if (abortedBy(a)) return await end('aborted', 'aborted');
    }

    // ---------------------------------------------------------------- inventory
    enter('inventory');
    const inventory: InventorySummary = await long.collectInventory({ spec });
    status.inventory = inventoryCounts(inventory);
    if (inbox.aborted) return await end('aborted', 'aborted');

    // ---------------------------------------------------------------- plan
    enter('plan');
    let plan: MigrationPlan = buildPlan(spec, inventory);
    status.plan = plan;
    await writeReport('plan', 'plan', plan);
    const empty = emptyPlanError(spec, plan);
    if (empty) throw ApplicationFailure.nonRetryable(empty, 'EmptyPlan');
    const decision = await inbox.waitFor({
      actions: ['approvePlan', 'rejectPlan'],
      reason: `approve the plan of ${plan.batches.length} batches (see the plan report), optionally with an edited plan`,
      validate: (a) => {
        if (a.action !== 'approvePlan' || a.plan === undefined) return undefined;
        const checked = validateEditedPlan(spec, inventory, plan, a.plan);
        return checked.ok ? undefined : `approvePlan: edited plan refused: ${checked.error}`;
      },
    });
    if (abortedBy(decision)) return await end('aborted', 'aborted');
    if (decision.action === 'rejectPlan') return await end('rejected', 'aborted');
    if (decision.plan !== undefined) {
      const checked = validateEditedPlan(spec, inventory, plan, decision.plan);
      if (checked.ok) {
        status.proposedPlan = plan;
        plan = checked.plan;
        status.plan = plan;
        await writeReport('plan-approved', 'plan', plan);
      }
    }

    // ---------------------------------------------------------------- batches
    enter('sync');
    status.batches = plan.batches.map((b) => ({ number: b.number, name: b.name, workflowId: batchWorkflowId(spec.name, b.number, b.name), state: 'pending' }));
    for (const [i, batch] of plan.batches.entries()) {
      const summaryOf = status.batches[i];
      if (i > 0) {
        const a = await inbox.waitFor({ actions: ['approveBatch'], reason: `batch ${batch.number - 1} is done; approve batch ${batch.number} (${batch.name})`, batch: batch.number });
        if (abortedBy(a)) {
          markSkipped(status.batches, i);
          return await end('aborted', 'aborted');
        }
      }
      if (inbox.aborted) {
        markSkipped(status.batches, i);
        return await end('aborted', 'aborted');
      }
      const outcome = await runBatch(spec, batch, summaryOf, inbox);
      if (outcome === 'aborted' || inbox.aborted) {
        markSkipped(status.batches, i + 1);
        return await end('aborted', 'aborted');
      }
    }
    return await end('completed', 'completed');
  } catch (e) {
    const failedIn = status.phase;
    status.error = `${failedIn}: ${rootMessage(e)}`;
    enter('failed');
    throw ApplicationFailure.nonRetryable(`migration ${spec.name} failed in phase ${failedIn}: ${rootMessage(e)}`, 'MigrationFailed');
  }
}

/** Runs one batch as a child workflow; forwards an abort to it. */
async function runBatch(spec: MigrationSpec, batch: PlanBatch, summaryOf: BatchSummary, inbox: OperatorInbox): Promise<BatchSummary['state']> {
  upsertSearchAttributes([
    { key: KM_BATCH, value: batch.number },
    { key: KM_BUSINESS_SYSTEM, value: batch.name },
  ]);
  summaryOf.state = 'running';
  const child = await startChild(batchWorkflow, {
    workflowId: summaryOf.workflowId,
    args: [{ spec, batch, parentWorkflowId: workflowInfo().workflowId }],
    // An abandoned child would keep copying without supervision: a batch ends with its migration.
    parentClosePolicy: ParentClosePolicy.TERMINATE,
    typedSearchAttributes: [
      { key: KM_MIGRATION, value: spec.name },
      { key: KM_BATCH, value: batch.number },
      { key: KM_BUSINESS_SYSTEM, value: batch.name },
      { key: KM_PHASE, value: 'batch:creating-topics' },
    ],
    memo: { summary: `batch ${batch.number} (${batch.name}) of migration ${spec.name}: ${batch.topics.length} topics, ${batch.groups.length} groups` },
  });
  let forwarded = false;
  let done = false;
  const result = child.result().finally(() => void (done = true));
  for (;;) {
    await condition(() => done || (!!inbox.aborted && !forwarded));
    if (done) break;
    const a = inbox.aborted!;
    forwarded = true;
    await child.signal(actionSignals.abort, { by: a.by, reason: a.reason, comment: a.comment });
  }
  const r = await result;
  summaryOf.state = r.outcome;
  summaryOf.writePauseMs = r.status.writePauseMs;
  summaryOf.recordsCopied = r.status.totals.recordsCopied;
  summaryOf.bytesCopied = r.status.totals.bytesCopied;
  summaryOf.report = r.status.reports.batch;
  return r.outcome;
}

function markSkipped(batches: BatchSummary[], from: number): void {
  for (let i = from; i < batches.length; i++) if (batches[i].state === 'pending') batches[i].state = 'skipped';
}

function inventoryCounts(inv: InventorySummary): NonNullable<MigrationStatus['inventory']> {
  const t = inv.totals;
  return { topics: t.topics, partitions: t.partitions, groups: t.groups, bytes: t.bytes, inactiveTopics: t.inactiveTopics, unclaimedGroups: t.unclaimedGroups };
}

function summary(s: MigrationStatus): string {
  const done = s.batches.filter((b) => b.state === 'completed').length;
  return `migration ${s.name}: ${s.phase}${s.batches.length ? `, batches ${done}/${s.batches.length}` : ''}`;
}

/** The innermost cause's message (an ActivityFailure wraps the activity's own error). */
function rootMessage(e: unknown): string {
  let cur = e as { cause?: unknown; message?: string } | undefined;
  while (cur && cur.cause) cur = cur.cause as typeof cur;
  return cur?.message ?? String(e);
}
