/**
 * The migration workflow: one per migration, id `migration-<name>`. Runs the phases in order, each made of
 * retriable activities, with an operator approval (signal or checked update) between phases:
 *   connectivity → preflight [overridePreflight on a fail] → inventory → plan [approvePlan | rejectPlan]
 *   → batches, each a child workflow, in plan order [approveBatch before each next one] → final report.
 * `abort` is accepted at any time: before the batches it ends the migration; during a batch it is forwarded
 * to the batch (which rolls back if clients have not moved yet) and no further batch starts. A cancellation
 * requested from Temporal is the same abort ("cancelled from Temporal").
 *
 * Nothing fails the migration by itself: a phase whose activities fail beyond their retries, or a batch that
 * ends abnormally, blocks (phase `blocked`, KmPhase `blocked`) and waits for `retry` or `abort`. A run started
 * with `resume` adopts what an earlier run of the same migration finished (the batch ledger on the target).
 * Progress lives in the `status` query and in search attributes, not in history events.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  ContinueAsNew,
  log,
  ParentClosePolicy,
  patched,
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
import { NON_RETRYABLE_FAILURE_TYPES } from '../types/failureTypes';
import { PREFLIGHT_CHECKS } from '../types/preflight';
import type {
  BatchResult,
  BatchSummary,
  CheckResult,
  InventorySummary,
  LedgerEntry,
  MigrationPhase,
  MigrationPlan,
  MigrationStatus,
  NewTopicsReport,
  PlanBatch,
} from '../types';
import { summarizePreflight } from '../activities/preflight/summary';
import { buildPlan } from '../plan/buildPlan';
import { emptyPlanError } from '../plan/emptyPlan';
import { validateEditedPlan } from '../plan/validateEditedPlan';
import { batchWorkflow, type BatchInput } from './batch';
import { failureFacts } from './failures';
import { batchWorkflowId } from './ids';
import { actionSignals, batchMilestoneSignal, statusQuery, type OperatorAction } from './messages';
import { newTopicsBatch } from './newTopicsBatch';
import { OperatorInbox, type InboxSnapshot } from './operatorInbox';
import { MIGRATION_CONTINUE_AS_NEW, ROLLBACK_WINDOW } from './patches';
import { rollbackWindowMs } from '../config/rollbackWindow';
import { WINDOW_CLOSED_STATES } from '../types/rollback';
import { rollbackWindowWorkflow } from './rollbackWindow';
import { windowClosedSignal, windowWorkflowId } from './windowMessages';
import { withSummaries } from './activitySummaries';
import { adoptFinishedBatches } from './adoptFinishedBatches';
import { batchStaticSummary, keepCurrentDetails, migrationDetails } from './currentDetails';
import { failedPhaseOnError } from './failedPhase';
import { KM_BATCH, KM_BUSINESS_SYSTEM, KM_MIGRATION, KM_PHASE } from './searchAttributes';

export interface MigrationInput {
  /** The validated spec: holds secret references only, never a secret. */
  spec: MigrationSpec;
  /** Start again after an earlier run ended: adopt the batches it finished (see src/resume/batchLedger.ts). */
  resume?: boolean;
  /** With resume: earlier runs under this id that Temporal still lists (the CLI counts them). */
  runsBefore?: number;
  /** State carried across continueAsNew (between two batches). */
  carried?: MigrationCarry;
}

/** What a migration run hands to the next one when it continues as new before batch `nextBatch` (an index). */
interface MigrationCarry {
  status: MigrationStatus;
  inbox: InboxSnapshot;
  nextBatch: number;
  started: number;
  clientsMovedIn: number[];
  excludedBefore: [number, string[]][];
  watcher: WatcherState;
}

/** The default of spec.workflow.continueAsNewAfterEvents (also for specs carried from before it existed). */
const HISTORY_LIMIT_FOR_CONTINUE = 4000;

export interface MigrationResult {
  outcome: 'completed' | 'aborted' | 'rejected';
  status: MigrationStatus;
}

const retry: RetryPolicy = {
  initialInterval: '2s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 5,
  nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES],
};

/** Thrown inside the workflow (and caught by it) to end the run with an outcome; never leaves the workflow. */
class EndRun {
  constructor(readonly outcome: MigrationResult['outcome']) {}
}

export async function migrationWorkflow(input: MigrationInput): Promise<MigrationResult> {
  const { spec } = input;
  // Every activity carries a one-line summary for the Temporal UI (user metadata: no patch needed, see activitySummaries.ts).
  const summaryContext = `migration ${spec.name}`;
  const quick = withSummaries(proxyActivities<typeof activities>({ startToCloseTimeout: '2 minutes', retry }), summaryContext);
  const sampling = withSummaries(
    proxyActivities<typeof activities>({
      startToCloseTimeout: `${Math.ceil(spec.thresholds.capacitySampleSeconds) + 120}s` as Duration,
      retry,
    }),
    summaryContext,
  );
  const long = withSummaries(proxyActivities<typeof activities>({ startToCloseTimeout: '30 minutes', heartbeatTimeout: '60s', retry }), summaryContext);

  const now = () => new Date().toISOString(); // workflow time: deterministic
  const carried = input.carried;
  const status: MigrationStatus = carried?.status ?? {
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
  inbox.restore(carried?.inbox);
  status.decisions = inbox.decisions;
  inbox.install();
  inbox.installCancellation();
  setHandler(statusQuery, () => ({
    ...status,
    waitingFor: inbox.waitingFor ? { signal: inbox.waitingFor.actions.join('|'), reason: inbox.waitingFor.reason } : windowsWaiting(),
  }));
  /** Open rollback windows: the migration ends once each is finalized, rolled back or expired. */
  const openWindows = () => (status.windows ?? []).filter((w) => !WINDOW_CLOSED_STATES.includes(w.state));
  const windowsWaiting = () => {
    const open = openWindows();
    if (!open.length || status.phase === 'completed') return undefined;
    return {
      signal: 'finalize|rollback',
      reason: `rollback windows open: ${open.map((w) => `batch ${w.batch}${w.closesAt ? ` (expires ${w.closesAt})` : ''}`).join(', ')}: kafka-migrate finalize (or rollback) <name> --batch N`,
    };
  };
  setHandler(windowClosedSignal, (m) => {
    const w = status.windows?.find((x) => x.batch === m.batch);
    if (!w) return;
    w.state = m.state;
    w.closedAt = m.at;
    if (m.reports) w.reports = m.reports;
    const summaryOf = status.batches.find((b) => b.number === m.batch);
    if (summaryOf && m.state === 'rolled-back') summaryOf.state = 'rolled-back';
    status.updatedAt = now();
  });
  // The Temporal UI's "current details": phase, what it waits for (CLI command and signal), the batches.
  keepCurrentDetails(() => migrationDetails(status, inbox.waitingFor));
  upsertSearchAttributes([{ key: KM_MIGRATION, value: spec.name }]);
  // Batches whose clients may already use the target: a migration-wide abort can no longer roll them back.
  const clientsMovedIn = new Set<number>(carried?.clientsMovedIn ?? []);
  /**
   * Topics excluded from a batch, by an earlier run (batch ledger, on resume) or by an earlier run of its child
   * in this one (topicExcluded milestones): a restarted batch leaves them out too.
   */
  const excludedBefore = new Map<number, string[]>(carried?.excludedBefore ?? []);
  /** The phase to return to when a block is lifted. */
  let phaseBeforeBlock: MigrationPhase = 'sync';
  setHandler(batchMilestoneSignal, (m) => {
    const summaryOf = status.batches.find((b) => b.number === m.batch);
    if (m.milestone === 'clientsMayMove' || m.milestone === 'consumersMayMove') clientsMovedIn.add(m.batch);
    else if (m.milestone === 'blocked' && m.blocked) {
      if (summaryOf) summaryOf.state = 'blocked';
      block({ ...m.blocked, batch: m.batch });
    } else if (m.milestone === 'unblocked') {
      if (summaryOf?.state === 'blocked') summaryOf.state = 'running';
      unblock();
    } else if (m.milestone === 'topicExcluded' && m.topic) {
      const before = excludedBefore.get(m.batch) ?? [];
      if (!before.includes(m.topic)) excludedBefore.set(m.batch, [...before, m.topic]);
      if (summaryOf) summaryOf.excludedTopics = excludedBefore.get(m.batch);
    }
  });
  inbox.abortBlockedReason = () => {
    const current = status.batches.find((b) => b.state === 'running' || b.state === 'blocked' || b.state === 'failed');
    return current && clientsMovedIn.has(current.number)
      ? `clients of batch ${current.number} (${current.name}) may already use the target: it cannot be rolled back; let it finish, then abort before the next batch`
      : undefined;
  };

  const enter = (phase: MigrationPhase) => {
    status.phase = phase;
    status.updatedAt = now();
    upsertSearchAttributes([{ key: KM_PHASE, value: phase }]);
    upsertMemo({ phase, summary: summary(status) });
    log.info('migration phase', { migration: spec.name, phase, workflowId: workflowInfo().workflowId });
  };
  function block(b: NonNullable<MigrationStatus['blocked']>): void {
    if (status.phase !== 'blocked') phaseBeforeBlock = status.phase;
    status.blocked = b;
    enter('blocked');
  }
  function unblock(): void {
    status.blocked = undefined;
    if (status.phase === 'blocked') enter(phaseBeforeBlock);
  }

  const writeReport = async (fileStem: string, kind: 'preflight' | 'plan' | 'migration', data: unknown) => {
    const paths = await quick.writeReportFiles({ spec, fileStem, kind, data });
    status.reports[fileStem] = paths.markdownPath;
    if (paths.writtenBy) status.reportWriters = { ...status.reportWriters, [fileStem]: paths.writtenBy };
  };

  /**
   * Runs one phase's work; when it fails beyond its retries, the migration blocks on it and waits: `retry`
   * runs the work again, `abort` ends the run (EndRun). The failure never ends the migration by itself.
   */
  async function attempt<T>(phase: MigrationPhase, work: () => Promise<T>, batch?: number, evenIfAborted = false): Promise<T> {
    for (;;) {
      if (inbox.aborted && !evenIfAborted) throw new EndRun('aborted');
      try {
        return await work();
      } catch (e) {
        if (e instanceof EndRun) throw e;
        const facts = failureFacts(e);
        log.warn('migration blocked', { migration: spec.name, phase, type: facts.type, error: facts.message });
        block({
          step: phase,
          type: facts.type,
          error: facts.message,
          since: now(),
          ...(facts.topics ? { topics: facts.topics } : {}),
          ...(facts.groups ? { groups: facts.groups } : {}),
          ...(batch !== undefined ? { batch } : {}),
          actions: ['retry', ...(inbox.abortBlockedReason() ? [] : ['abort'])],
        });
        const a = await inbox.waitFor({
          actions: ['retry'],
          reason: `blocked in ${phase}${batch !== undefined ? ` (batch ${batch})` : ''}: ${facts.message.slice(0, 300)}; fix the cause and retry, or abort`,
        });
        unblock();
        if (a.action === 'abort' && !evenIfAborted) throw new EndRun('aborted');
      }
    }
  }

  const endWith = async (outcome: MigrationResult['outcome']): Promise<MigrationResult> => {
    markSkipped(status.batches, 0);
    const final: MigrationPhase = outcome === 'completed' ? 'completed' : 'aborted';
    // Written before the phase turns terminal: a fault here blocks like any other and `retry` is still accepted.
    await attempt(
      status.phase,
      () => writeReport('migration', 'migration', { outcome, status: { ...status, phase: final, updatedAt: now() } }),
      undefined,
      true,
    );
    enter(final);
    return { outcome, status };
  };

  const abortedBy = (a: OperatorAction | undefined) => a?.action === 'abort';
  const stopIfAborted = () => {
    if (inbox.aborted) throw new EndRun('aborted');
  };

  async function run(): Promise<MigrationResult> {
    if (carried) return runBatches(status.plan!, carried.nextBatch, carried.started, carried.watcher);
    // ---------------------------------------------------------------- connectivity
    enter('connectivity');
    status.connectivity = await attempt('connectivity', () => quick.checkConnectivity({ source: spec.source, target: spec.target }));
    stopIfAborted();

    // ---------------------------------------------------------------- preflight
    enter('preflight');
    const preflight = await attempt('preflight', async () => {
      const checks: CheckResult[] = await Promise.all(
        PREFLIGHT_CHECKS.map((name) => (name === 'checkCapacity' ? sampling : quick)[name]({ spec }) as Promise<CheckResult>),
      );
      const report = summarizePreflight(spec.name, checks);
      status.preflight = report;
      await writeReport('preflight', 'preflight', report);
      return report;
    });
    stopIfAborted();
    if (preflight.verdict === 'fail') {
      const failed = preflight.checks.filter((c) => c.verdict === 'fail').map((c) => c.id);
      const a = await inbox.waitFor({
        actions: ['overridePreflight'],
        reason: `preflight failed: ${failed.join(', ')}; fix and restart, or override with a reason`,
      });
      if (abortedBy(a)) throw new EndRun('aborted');
    }

    // ---------------------------------------------------------------- inventory and plan
    let inventory!: InventorySummary;
    let plan!: MigrationPlan;
    for (;;) {
      enter('inventory');
      inventory = await attempt('inventory', () => long.collectInventory({ spec }));
      status.inventory = inventoryCounts(inventory);
      stopIfAborted();
      enter('plan');
      plan = buildPlan(spec, inventory);
      status.plan = plan;
      await attempt('plan', () => writeReport('plan', 'plan', plan));
      const empty = emptyPlanError(spec, plan);
      if (!empty) break;
      // Nothing to migrate yet: block with why; `retry` takes the inventory again (topics may have been created).
      let reported = false;
      await attempt('plan', async () => {
        if (reported) return;
        reported = true;
        throw ApplicationFailure.nonRetryable(empty, 'EmptyPlan');
      });
    }
    const decision = await inbox.waitFor({
      actions: ['approvePlan', 'rejectPlan'],
      reason: `approve the plan of ${plan.batches.length} batches (see the plan report), optionally with an edited plan`,
      validate: (a) => {
        if (a.action !== 'approvePlan' || a.plan === undefined) return undefined;
        const checked = validateEditedPlan(spec, inventory, plan, a.plan);
        return checked.ok ? undefined : `approvePlan: edited plan refused: ${checked.error}`;
      },
    });
    if (abortedBy(decision)) throw new EndRun('aborted');
    if (decision.action === 'rejectPlan') throw new EndRun('rejected');
    if (decision.plan !== undefined) {
      const checked = validateEditedPlan(spec, inventory, plan, decision.plan);
      if (checked.ok) {
        status.proposedPlan = plan;
        plan = checked.plan;
        status.plan = plan;
        await attempt('plan', () => writeReport('plan-approved', 'plan', plan));
      }
    }

    // ---------------------------------------------------------------- batches
    enter('sync');
    const ledger: LedgerEntry[] = input.resume ? await attempt('sync', () => quick.readBatchLedger({ spec })) : [];
    status.batches = plan.batches.map((b) => batchSummary(spec, b));
    if (input.resume) adoptFinishedBatches(status, plan, ledger, clientsMovedIn, excludedBefore, input.runsBefore ?? 1);
    return runBatches(plan, 0, 0, undefined);
  }

  /**
   * Continues as new before batch index `next` once the history is long (spec.workflow.continueAsNewAfterEvents,
   * or Temporal suggests it): between two batches no child runs, so the whole state is plain data. At least one
   * batch runs in every continued run.
   */
  async function maybeContinueAsNew(next: number, started: number, startedInRun: number, watcher: NewTopicWatcher): Promise<void> {
    const info = workflowInfo();
    const limit = spec.workflow?.continueAsNewAfterEvents ?? HISTORY_LIMIT_FOR_CONTINUE;
    if (!(info.continueAsNewSuggested || info.historyLength > limit)) return;
    if ((carried && startedInRun === 0) || inbox.hasAction || inbox.aborted || !allHandlersFinished()) return;
    status.continuedAsNew = (status.continuedAsNew ?? 0) + 1;
    log.info('migration continues as new', { migration: spec.name, historyLength: info.historyLength, nextBatch: next });
    const { carried: _previous, ...rest } = input;
    await continueAsNew<typeof migrationWorkflow>({
      ...rest,
      carried: {
        status,
        inbox: inbox.snapshot(),
        nextBatch: next,
        started,
        clientsMovedIn: [...clientsMovedIn],
        excludedBefore: [...excludedBefore],
        watcher: watcher.snapshot(),
      },
    });
  }

  async function runBatches(plan: MigrationPlan, from: number, startedBefore: number, watcherState: WatcherState | undefined): Promise<MigrationResult> {
    if (carried) enter('sync');
    // findNewTopics heartbeats (keepAlive): a worker that dies mid-check is noticed in seconds, not after the
    // 2-minute timeout that would hold the end of a batch (runChild waits for the check in flight).
    const watching = withSummaries(
      proxyActivities<typeof activities>({ startToCloseTimeout: '2 minutes', heartbeatTimeout: '15s', retry }),
      `migration ${spec.name}: new-topic watch`,
    );
    const watcher = new NewTopicWatcher(spec, plan, status, watching, now, watcherState);
    let started = startedBefore;
    let startedInRun = 0;
    for (let i = from; i < plan.batches.length || (await watcher.proposeExtraBatch()); i++) {
      const batch = plan.batches[i];
      if (status.batches.length <= i) status.batches.push(batchSummary(spec, batch));
      const summaryOf = status.batches[i];
      if (summaryOf.state === 'completed' || summaryOf.state === 'accepted-with-mismatches' || summaryOf.state === 'rolled-back') continue; // adopted on resume
      if (patched(MIGRATION_CONTINUE_AS_NEW)) await maybeContinueAsNew(i, started, startedInRun, watcher);
      if (started > 0 || batch.number > 1) {
        const a = await inbox.waitFor({
          actions: ['approveBatch'],
          reason: `${started > 0 ? `batch ${status.batches[i - 1]?.number} is done; ` : ''}approve batch ${batch.number} (${batch.name})${watcher.extra(batch) ? ': topics created on the source since the plan' : ''}`,
          batch: batch.number,
        });
        if (abortedBy(a)) throw new EndRun('aborted');
      }
      stopIfAborted();
      started++;
      startedInRun++;
      const outcome = await runBatch(spec, batch, summaryOf, inbox, clientsMovedIn, attempt, watcher, () => excludedBefore.get(batch.number));
      if (outcome === 'aborted' || inbox.aborted) throw new EndRun('aborted');
      if (outcome === 'completed' && rollbackWindowMs(spec.cutover.rollbackWindow) && patched(ROLLBACK_WINDOW)) await openWindow(batch, summaryOf);
    }
    if (openWindows().length) {
      await condition(() => openWindows().length === 0 || !!inbox.aborted);
      if (inbox.aborted) throw new EndRun('aborted');
    }
    return endWith('completed');
  }

  /**
   * Starts the batch's rollback window beside the later batches (ABANDON: it outlives this run's continue-as-new and
   * tells the migration when it closed, by signal to the migration's id).
   */
  async function openWindow(batch: PlanBatch, summaryOf: BatchSummary): Promise<void> {
    if (status.windows?.some((w) => w.batch === batch.number)) return;
    const excluded = new Set(summaryOf.excludedTopics ?? []);
    const workflowId = windowWorkflowId(summaryOf.workflowId);
    const windowMs = rollbackWindowMs(spec.cutover.rollbackWindow) ?? 0;
    const openedAt = now();
    // Listed before the start: a window that closes at once signals an entry that exists.
    status.windows = [
      ...(status.windows ?? []),
      {
        batch: batch.number,
        workflowId,
        state: 'open',
        openedAt,
        ...(Number.isFinite(windowMs) ? { closesAt: new Date(Date.parse(openedAt) + windowMs).toISOString() } : {}),
      },
    ];
    await attempt(
      'sync',
      () =>
        startChild(rollbackWindowWorkflow, {
          workflowId,
          parentClosePolicy: ParentClosePolicy.ABANDON,
          args: [
            {
              spec,
              migrationWorkflowId: workflowInfo().workflowId,
              batch: { number: batch.number, name: batch.name, topics: batch.topics.map((t) => t.name).filter((t) => !excluded.has(t)), groups: batch.groups },
              ledger: { topics: batch.topics.map((t) => t.name), excludedTopics: [...excluded], batchWorkflowId: summaryOf.workflowId },
            },
          ],
          typedSearchAttributes: [
            { key: KM_MIGRATION, value: spec.name },
            { key: KM_BATCH, value: batch.number },
            { key: KM_BUSINESS_SYSTEM, value: batch.name },
          ],
        }),
      batch.number,
    );
  }

  // Inside a non-cancellable scope: a cancellation requested from Temporal reaches only the inbox (as an abort).
  const machine = CancellationScope.nonCancellable(async () => {
    try {
      return await run();
    } catch (e) {
      if (e instanceof EndRun) return endWith(e.outcome);
      if (e instanceof ContinueAsNew) throw e;
      // A defect in this code: still never FAILED by itself; wait for the operator, then end as aborted.
      const facts = failureFacts(e);
      status.error = `${status.phase}: ${facts.message}`;
      block({ step: status.phase, type: facts.type, error: facts.message, since: now(), actions: ['abort'] });
      await inbox.waitFor({ actions: [], reason: `internal error in ${status.blocked?.step}: ${facts.message}; abort, then resume the migration` });
      return endWith('aborted');
    }
  });
  return failedPhaseOnError(machine);
}

function batchSummary(spec: MigrationSpec, b: PlanBatch): BatchSummary {
  return { number: b.number, name: b.name, workflowId: batchWorkflowId(spec.name, b.number, b.name), state: 'pending' };
}

type Attempt = <T>(phase: MigrationPhase, work: () => Promise<T>, batch?: number, evenIfAborted?: boolean) => Promise<T>;
type Quick = ReturnType<typeof proxyActivities<typeof activities>>;

/**
 * Runs one batch as a child workflow; forwards an abort to it. A child that ends abnormally (terminated, a
 * defect, timed out) blocks the migration: `retry` starts it again (it adopts its own topics and offsets and
 * goes on from the durable checkpoints), `abort` starts it only to roll back.
 */
async function runBatch(
  spec: MigrationSpec,
  batch: PlanBatch,
  summaryOf: BatchSummary,
  inbox: OperatorInbox,
  clientsMovedIn: Set<number>,
  attempt: Attempt,
  watcher: NewTopicWatcher,
  /** Topics excluded so far (read at each start of the child: a retried child leaves out what its last run dropped). */
  excludedSoFar: () => string[] | undefined,
): Promise<BatchSummary['state']> {
  upsertSearchAttributes([
    { key: KM_BATCH, value: batch.number },
    { key: KM_BUSINESS_SYSTEM, value: batch.name },
  ]);
  const quick = withSummaries(proxyActivities<typeof activities>({ startToCloseTimeout: '2 minutes', retry }), `migration ${spec.name}, batch ${batch.number}`);
  const excluded = () => {
    const excludedTopics = excludedSoFar();
    return excludedTopics?.length ? { excludedTopics } : {};
  };
  let restart: BatchInput['restart'] =
    clientsMovedIn.has(batch.number) || excluded().excludedTopics ? { clientsMoved: clientsMovedIn.has(batch.number), ...excluded() } : undefined;
  let r: BatchResult;
  try {
    r = await attempt(
      'sync',
      async () => {
        summaryOf.state = 'running';
        try {
          return await runChild(spec, batch, summaryOf, inbox, restart, watcher);
        } catch (e) {
          summaryOf.state = 'failed';
          // Started again on retry: its clients may have moved meanwhile (the milestone reached us).
          restart = { clientsMoved: clientsMovedIn.has(batch.number), ...excluded() };
          throw e;
        }
      },
      batch.number,
    );
  } catch (e) {
    if (!(e instanceof EndRun) || summaryOf.state !== 'failed' || !inbox.aborted) throw e;
    // Aborted while the batch had ended abnormally: start it once more, only to roll back by its own rules.
    summaryOf.state = 'running';
    r = await attempt(
      'sync',
      () => runChild(spec, batch, summaryOf, inbox, { clientsMoved: false, abort: inbox.aborted, ...excluded() }, watcher),
      batch.number,
      true,
    );
  }
  summaryOf.state = r.outcome;
  summaryOf.writePauseMs = r.status.writePauseMs;
  summaryOf.recordsCopied = r.status.totals.recordsCopied;
  summaryOf.bytesCopied = r.status.totals.bytesCopied;
  summaryOf.report = r.status.reports.batch;
  summaryOf.reports = r.status.reports;
  summaryOf.decisions = r.status.decisions;
  summaryOf.verification = r.status.verification;
  const excludedAll = [...new Set([...(excludedSoFar() ?? []), ...(r.status.excludedTopics?.map((x) => x.topic) ?? [])])];
  if (excludedAll.length) summaryOf.excludedTopics = excludedAll;
  if (r.outcome === 'completed' || r.outcome === 'accepted-with-mismatches') {
    // Durable: a resumed migration adopts this batch instead of copying it again.
    const excludedNow = [...new Set([...(excludedSoFar() ?? []), ...(r.status.excludedTopics?.map((x) => x.topic) ?? [])])];
    const entry: LedgerEntry = {
      number: batch.number,
      name: batch.name,
      topics: batch.topics.map((t) => t.name),
      ...(excludedNow.length ? { excludedTopics: excludedNow } : {}),
      state: r.outcome,
      at: new Date().toISOString(),
      workflowId: summaryOf.workflowId,
    };
    await attempt('sync', () => quick.recordBatchLedger({ spec, entry }), batch.number);
  }
  return r.outcome;
}

async function runChild(
  spec: MigrationSpec,
  batch: PlanBatch,
  summaryOf: BatchSummary,
  inbox: OperatorInbox,
  restart: BatchInput['restart'],
  watcher: NewTopicWatcher,
): Promise<BatchResult> {
  const child = await startChild(batchWorkflow, {
    workflowId: summaryOf.workflowId,
    args: [{ spec, batch, parentWorkflowId: workflowInfo().workflowId, ...(restart ? { restart } : {}) }],
    // An abandoned child would keep copying without supervision: a batch ends with its migration.
    parentClosePolicy: ParentClosePolicy.TERMINATE,
    typedSearchAttributes: [
      { key: KM_MIGRATION, value: spec.name },
      { key: KM_BATCH, value: batch.number },
      { key: KM_BUSINESS_SYSTEM, value: batch.name },
      { key: KM_PHASE, value: 'batch:creating-topics' },
    ],
    memo: { summary: `batch ${batch.number} (${batch.name}) of migration ${spec.name}: ${batch.topics.length} topics, ${batch.groups.length} groups` },
    // What the Temporal UI shows for the child in the parent's history and on its own page (user metadata: no patch).
    staticSummary: batchStaticSummary(spec.name, batch),
  });
  // Abort (operator or cancellation from Temporal): forwarded to the batch, which rolls back or refuses.
  let forwarded = !!restart && !!inbox.aborted;
  let done = false;
  const result = child.result().finally(() => void (done = true));
  result.catch(() => undefined);
  const ticks = watcher.watchWhile(() => done);
  for (;;) {
    await condition(() => done || (!!inbox.aborted && !forwarded));
    if (done) break;
    const a = inbox.aborted!;
    forwarded = true;
    await child
      .signal(actionSignals.abort, { by: a.by, reason: a.reason, comment: a.comment })
      .catch((e) => log.warn('abort not forwarded', { error: String(e) }));
  }
  await ticks;
  return result;
}

/**
 * Watches the source for topics created in scope after the plan (spec.scope.newTopics): checked before every
 * batch and every newTopicsCheckSeconds while one runs; each one found is reported in the status and, with
 * `propose`, put in an extra batch at the end that the operator approves like any other. Never dropped silently.
 */
/** The watcher's state across continueAsNew; what it already knows is rebuilt from the plan and status.newTopics. */
interface WatcherState {
  pending: NewTopicsReport['topics'];
  pendingGroups: [string, string[]][];
  extraBatches: number[];
}

class NewTopicWatcher {
  private readonly known: Set<string>;
  private pending: NewTopicsReport['topics'] = [];
  private pendingGroups = new Map<string, Set<string>>();
  private readonly extraBatches = new Set<number>();

  constructor(
    private readonly spec: MigrationSpec,
    private readonly plan: MigrationPlan,
    private readonly status: MigrationStatus,
    private readonly quick: Quick,
    private readonly now: () => string,
    restored?: WatcherState,
  ) {
    this.known = new Set([
      ...plan.batches.flatMap((b) => b.topics.map((t) => t.name)),
      ...plan.excluded.filter((x) => x.kind === 'topic').map((x) => x.name),
      ...(status.newTopics ?? []).map((t) => t.name),
    ]);
    if (restored) {
      this.pending = restored.pending;
      this.pendingGroups = new Map(restored.pendingGroups.map(([g, t]) => [g, new Set(t)]));
      restored.extraBatches.forEach((b) => this.extraBatches.add(b));
    }
  }

  /** State to carry across continueAsNew. */
  snapshot(): WatcherState {
    return { pending: this.pending, pendingGroups: [...this.pendingGroups].map(([g, t]) => [g, [...t]]), extraBatches: [...this.extraBatches] };
  }

  extra(batch: PlanBatch): boolean {
    return this.extraBatches.has(batch.number);
  }

  /** Checks now; a fault of the check is noted, never fatal (it is retried at the next tick). */
  async check(): Promise<void> {
    let found: NewTopicsReport;
    try {
      found = await this.quick.findNewTopics({ spec: this.spec, known: [...this.known] });
    } catch (e) {
      log.warn('new-topic check failed', { error: failureFacts(e).message });
      return;
    }
    for (const t of found.topics) {
      if (this.known.has(t.name)) continue;
      this.known.add(t.name);
      const disposition = this.spec.scope.newTopics === 'ignore' ? 'ignored' : 'proposed';
      this.status.newTopics = [...(this.status.newTopics ?? []), { name: t.name, partitions: t.partitions, foundAt: this.now(), disposition }];
      if (disposition === 'proposed') this.pending.push(t);
    }
    for (const g of found.groups) {
      const set = this.pendingGroups.get(g.group) ?? new Set<string>();
      g.topics.forEach((t) => set.add(t));
      this.pendingGroups.set(g.group, set);
    }
  }

  /** Checks every newTopicsCheckSeconds until `stop()` is true. */
  async watchWhile(stop: () => boolean): Promise<void> {
    await this.check();
    while (!stop()) {
      if (await condition(stop, `${this.spec.scope.newTopicsCheckSeconds}s` as Duration)) return;
      await this.check();
    }
  }

  /** After the planned batches: one last check, then an extra batch of the proposed topics, if any. */
  async proposeExtraBatch(): Promise<boolean> {
    await this.check();
    if (!this.pending.length) return false;
    const migrated = new Set(
      this.status.batches
        .filter((b) => b.state === 'completed' || b.state === 'accepted-with-mismatches')
        .flatMap((b) => this.plan.batches.find((p) => p.number === b.number)?.groups ?? []),
    );
    const batch = newTopicsBatch(this.plan, this.pending, this.pendingGroups, migrated);
    this.pending = [];
    this.plan.batches.push(batch);
    this.extraBatches.add(batch.number);
    for (const t of this.status.newTopics ?? []) if (batch.topics.some((x) => x.name === t.name)) t.batch = batch.number;
    const movedGroups = [...this.pendingGroups.keys()].filter((g) => migrated.has(g));
    if (movedGroups.length)
      this.plan.warnings.push(
        `batch ${batch.number} (new topics): groups ${movedGroups.join(', ')} already moved to the target in an earlier batch; their offsets on the new topics are not translated`,
      );
    this.status.plan = this.plan;
    return true;
  }
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
  const blocked = s.blocked
    ? ` (blocked in ${s.blocked.step}${s.blocked.batch !== undefined ? `, batch ${s.blocked.batch}` : ''}: ${s.blocked.error.slice(0, 200)})`
    : '';
  return `migration ${s.name}: ${s.phase}${s.batches.length ? `, batches ${done}/${s.batches.length}` : ''}${blocked}`;
}
