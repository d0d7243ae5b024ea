/**
 * One batch of a migration, as a child workflow (id `migration-<name>-batch-<n>-<slug>`): create the topics
 * on the target, copy in rounds until the batch has caught up, move the clients under operator control
 * (producers-first or consumers-first), then verify. Copy rounds run while the workflow waits for operators;
 * an operator action cancels the running round so that it takes effect at once. Progress is in the
 * `batchStatus` query; the history stays small through continueAsNew.
 *
 * A fault never ends the batch: a step whose activity fails beyond its retries moves the batch to `blocked`
 * (naming the step, the error and the topics, partitions or groups affected) and waits for the operator's
 * `retry`, `excludeTopic` or `abort`. A cancellation requested from Temporal is handled as an abort.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  ContinueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  TimeoutFailure,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { RetryState, type Duration, type RetryPolicy } from '@temporalio/common';
import type * as activities from '../activities';
import type { MigrationSpec } from '../config/spec';
import { rollbackWindowMs } from '../config/rollbackWindow';
import type { BatchResult, BatchStatus, BatchStep, PartitionProgressView, PlanBatch, TopicCreationReport } from '../types';
import { GROUP_ACTIVE, NON_RETRYABLE_FAILURE_TYPES } from '../types/failureTypes';
import { failureFacts } from './failures';
import { batchFileStem } from './ids';
import { batchMilestoneSignal, batchStatusQuery, type BatchMilestone } from './messages';
import { OperatorInbox, type InboxSnapshot, type Wait } from './operatorInbox';
import type { OperatorAction } from './messages';
import { KM_PHASE } from './searchAttributes';
import {
  ACTION_DOES_NOT_WAIT_FOR_REFRESH,
  CANCELLED_ROUND_FAILURE_ENDS_ROUND,
  CONTINUE_AS_NEW_BETWEEN_STEPS,
  DRAIN_ONLY_BEHIND,
  NO_ROUND_AFTER_ACTION,
  REFRESH_ONLY_WHEN_SOURCE_GREW,
  TOPIC_EXCLUDED_BEFORE_DELETE,
  TOPIC_EXCLUDED_MILESTONE,
  WINDOW_TAKES_CUTOVER_FENCE,
} from './patches';
import { summarizeProgress, isReady, groupPartitions, type PartitionRef } from './batchProgress';
import { withSummaries } from './activitySummaries';
import { recordProgressMetrics, recordVerificationMetrics, recordWritePauseMetric } from './batchMetrics';
import { addCopySample } from './copySamples';
import { batchDetails, keepCurrentDetails } from './currentDetails';
import { failedPhaseOnError } from './failedPhase';

export interface BatchInput {
  spec: MigrationSpec;
  batch: PlanBatch;
  parentWorkflowId: string;
  /** State carried across continueAsNew. */
  carried?: BatchCarry;
  /**
   * Set when the migration starts this batch again (retry after the batch ended abnormally, or resume): the
   * clients may already use the target, so the batch only verifies (and lifts its fence) instead of cutting over.
   */
  restart?: { clientsMoved: boolean; abort?: OperatorAction; excludedTopics?: string[] };
}

interface BatchCarry {
  status: BatchStatus;
  inbox: InboxSnapshot;
  partitions: PartitionRef[];
  createdTopics: string[];
  fencedTopics: string[];
  topics?: string[];
  drainTo?: Record<string, number>;
}

const retry: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES] };

const MAX_NOTES = 300;
const KEPT_FIRST_NOTES = 50;

/** The default of spec.workflow.continueAsNewAfterEvents (also for specs carried from before it existed). */
const HISTORY_LIMIT_FOR_CONTINUE = 4000;

export async function batchWorkflow(input: BatchInput): Promise<BatchResult> {
  const { spec, batch } = input;
  const now = () => new Date().toISOString();
  const heartbeatTimeout = `${spec.copy.heartbeatTimeoutSeconds}s` as Duration;

  // Short steps heartbeat (activities/keepAlive.ts): a worker dying mid-step is noticed within heartbeatTimeout.
  // Every activity carries a one-line summary for the Temporal UI (user metadata: no patch needed, see activitySummaries.ts).
  const summaryContext = `migration ${spec.name}, batch ${batch.number} (${batch.name})`;
  const admin = withSummaries(
    proxyActivities<typeof activities>({ startToCloseTimeout: '5 minutes', heartbeatTimeout, retry: { ...retry, maximumAttempts: 10 } }),
    summaryContext,
  );
  const copy = withSummaries(
    proxyActivities<typeof activities>({
      // A follow round ends after roundSeconds; a drain round ends when the captured end offsets are reached.
      startToCloseTimeout: '6 hours',
      heartbeatTimeout,
      retry,
      // Never start the next round while the cancelled one may still write: wait until it has really stopped.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    }),
    summaryContext,
  );
  const watch = withSummaries(
    proxyActivities<typeof activities>({ startToCloseTimeout: '1 hour', heartbeatTimeout, retry: { ...retry, maximumAttempts: 20 } }),
    summaryContext,
  );

  const carried = input.carried;
  const status: BatchStatus = carried?.status ?? {
    migration: spec.name,
    number: batch.number,
    name: batch.name,
    workflowId: workflowInfo().workflowId,
    strategy: spec.cutover.strategy,
    step: 'creating-topics',
    ready: false,
    rounds: 0,
    totals: { partitions: 0, lagRecords: 0, maxLagSeconds: 0, recordsCopied: 0, bytesCopied: 0, recordsPerSecond: 0, etaSeconds: null },
    partitions: [],
    milestones: { started: now() },
    notes: [],
    decisions: [],
    reports: {},
  };
  let partitions: PartitionRef[] = carried?.partitions ?? [];
  let createdTopics: string[] = carried?.createdTopics ?? [];
  let fencedTopics: string[] = carried?.fencedTopics ?? [];
  /** The batch's topics: the plan's, minus those the operator excluded. */
  let topics: string[] = carried?.topics ?? batch.topics.map((t) => t.name).filter((t) => !input.restart?.excludedTopics?.includes(t));
  let drainTo: Record<string, number> | undefined = carried?.drainTo;
  /** A follow round cancelled by producersStopped, still stopping while the quiet check runs (see followUntilAction). */
  let stoppingRound: Promise<void> | undefined;
  /** A partition refresh an operator action did not wait for (see followUntilAction); awaited by refreshSettled. */
  let pendingRefresh: Promise<void> | undefined;
  /** The checked action (producersStopped / consumersStopped) whose check runs now: it gets the verdict. */
  let checking: OperatorAction | undefined;
  /** Steps and follow rounds completed in this run (continue-as-new waits for at least one). */
  let progressInRun = 0;

  const terminalSteps: BatchStep[] = ['completed', 'aborted'];
  const inbox = new OperatorInbox(
    () => status.step,
    now,
    () => terminalSteps.includes(status.step),
  );
  inbox.restore(carried?.inbox ?? (input.restart?.abort ? { decisions: [], abortAction: input.restart.abort, refusedCount: 0 } : undefined));
  status.decisions = inbox.decisions;
  // Once clients may write to the target, an abort can no longer roll back without losing their writes.
  inbox.abortBlockedReason = () =>
    status.milestones.clientsMayMove || status.milestones.consumersMayMove
      ? 'clients may already use the target: rolling back now would lose what they wrote there; finish the batch and migrate back instead'
      : undefined;
  setHandler(batchStatusQuery, () => ({
    ...status,
    waitingFor: inbox.waitingFor && { signal: inbox.waitingFor.actions.join('|'), reason: inbox.waitingFor.reason },
  }));
  // The Temporal UI's "current details": step, what it waits for (CLI command and signal), progress.
  keepCurrentDetails(() => batchDetails(status, inbox.waitingFor));

  const groups = batch.groups;

  /**
   * The operator action a waiting step expects. It is expected from the moment the batch enters the step (and
   * in a run continued as new in it): an operator who sees the step in `status` is never refused for being early.
   */
  const stepWait = (step: BatchStep): Wait | undefined => {
    const w = (actions: OperatorAction['action'][], reason: string): Wait => ({ actions, reason, batch: batch.number });
    switch (step) {
      case 'awaiting-cutover-approval':
        return w(['approveCutover'], 'the batch has caught up; approve the client cutover');
      case 'awaiting-producers-stopped':
        // Producers-first: the consumers may be stopped at the same time (clientsStopped, the shortest write pause).
        return status.strategy === 'producers-first' && !status.milestones.consumersStopped
          ? w(['producersStopped', 'clientsStopped'], `stop the producers of ${topics.length} topics on the source (or its producers and consumers together)`)
          : w(['producersStopped'], `stop the producers of ${topics.length} topics on the source`);
      case 'awaiting-consumers-stopped':
        return w(['consumersStopped'], `stop the consumers of ${batch.groups.length} groups on the source`);
      case 'verification-failed':
        return w(['retryVerification', 'acceptMismatches'], 'verification found mismatches (see the report): retry it, or accept them with a reason');
      default:
        return undefined;
    }
  };
  const enter = (step: BatchStep) => {
    status.step = step;
    const wait = stepWait(step);
    if (wait) inbox.expect(wait);
    upsertSearchAttributes([{ key: KM_PHASE, value: step === 'blocked' ? 'blocked' : `batch:${step}` }]);
    upsertMemo({
      step,
      summary: `batch ${batch.number} (${batch.name}) of migration ${spec.name}: ${step}${status.blocked ? ` (${status.blocked.step}: ${status.blocked.error.slice(0, 200)})` : ''}`,
    });
    log.info('batch step', { migration: spec.name, batch: batch.number, step });
  };
  // A run continued as new in a waiting step accepts its action from the first moment on: updates buffered while
  // the run started are validated when the handlers are installed, so the wait is set up before that.
  const carriedWait = carried ? stepWait(carried.status.step) : undefined;
  if (carriedWait) inbox.expect(carriedWait);
  inbox.install();
  inbox.installCancellation();
  const milestone = (name: string, at = now()) => {
    status.milestones[name] = at;
  };
  /** Tells the migration workflow (best effort: it also learns the outcome from the batch's result). */
  const tellMigration = async (m: Omit<BatchMilestone, 'batch'>) => {
    await getExternalWorkflowHandle(input.parentWorkflowId)
      .signal(batchMilestoneSignal, { batch: batch.number, ...m })
      .catch((e) => log.warn('could not tell the migration workflow', { error: String(e) }));
  };
  /** Tells the migration that clients may now use the target: it must refuse a migration-wide abort from then on. */
  const clientsMoved = async (name: 'clientsMayMove' | 'consumersMayMove') => {
    milestone(name);
    await tellMigration({ milestone: name });
    // Durable beyond this workflow's history: a resumed migration must never cut this batch over again.
    // Keyed by the planned topics (as the migration's own entries are): an excluded topic must not hide the batch.
    const excluded = batch.topics.map((t) => t.name).filter((t) => !topics.includes(t));
    await admin.recordBatchLedger({
      spec,
      entry: {
        number: batch.number,
        name: batch.name,
        topics: batch.topics.map((t) => t.name),
        ...(excluded.length ? { excludedTopics: excluded } : {}),
        state: 'clientsMoved',
        at: now(),
        workflowId: workflowInfo().workflowId,
      },
    });
  };
  const noted = new Set(status.notes.map((n) => n.slice(n.indexOf(' ') + 1)));
  /** Adds a note once (topic warnings are seen again at every refresh of the partition list). */
  const note = (text: string) => {
    if (noted.has(text)) return;
    noted.add(text);
    status.notes.push(`${now()} ${text}`);
    // Bounded (the status travels in every query answer and continue-as-new): the first notes tell how the batch
    // began, the latest what it does now; those in between are counted.
    if (status.notes.length > MAX_NOTES) {
      status.notes.splice(KEPT_FIRST_NOTES, 1);
      status.notesOmitted = (status.notesOmitted ?? 0) + 1;
    }
  };
  /** The batch as verification sees it: without the excluded topics. */
  const currentBatch = (): PlanBatch => ({ ...batch, topics: batch.topics.filter((t) => topics.includes(t.name)) });

  /** Runs one copy round over all partitions (or `only`), in parallel activities of spec.copy.partitionsPerActivity. */
  async function copyRoundOnce(mode: 'follow' | 'drain', only?: PartitionRef[]): Promise<void> {
    const startedMs = Date.now();
    const before = status.totals.recordsCopied;
    const round = only ?? partitions;
    // allSettled: a round is over only when none of its activities can still write, even if one failed.
    const settled = await Promise.allSettled(
      groupPartitions(round, mode === 'drain' ? drainGroupSize(round.length, spec.copy.partitionsPerActivity) : spec.copy.partitionsPerActivity).map((group) =>
        copy.copyRound({
          migration: spec.name,
          source: spec.source,
          target: spec.target,
          copy: { roundSeconds: spec.copy.roundSeconds, maxBatchBytes: spec.copy.maxBatchBytes, throttleBytesPerSecond: spec.copy.throttleBytesPerSecond },
          partitions: group,
          mode,
          stopAt: mode === 'drain' ? pick(drainTo ?? {}, group) : undefined,
          readyMaxLagRecords: spec.thresholds.readyMaxLagRecords,
        }),
      ),
    );
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const results = settled.map((r) => (r as PromiseFulfilledResult<PartitionProgressView[]>).value);
    status.rounds++;
    applyProgress(results.flat(), (Date.now() - startedMs) / 1000, before);
    addCopySample(status, now(), mode);
    recordProgressMetrics(status);
  }

  function applyProgress(progress: PartitionProgressView[], seconds: number, recordsBefore: number): void {
    const byKey = new Map(status.partitions.map((p) => [`${p.topic}:${p.partition}`, p]));
    for (const p of progress) byKey.set(`${p.topic}:${p.partition}`, p);
    const wanted = new Set(partitions.map((p) => `${p.topic}:${p.partition}`));
    status.partitions = [...byKey.entries()]
      .filter(([k]) => wanted.has(k))
      .map(([, p]) => p)
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
    status.totals = summarizeProgress(status.partitions, seconds, recordsBefore);
    status.totals.partitions = partitions.length;
    // The lag gate counts every partition of the batch, also those added on the source and not yet copied.
    status.ready =
      status.partitions.length === partitions.length && isReady(status.partitions, spec.thresholds.readyMaxLagRecords, spec.thresholds.readyMaxLagSeconds);
  }

  /**
   * Copies in follow rounds until an expected operator action (or abort) arrives; the running round is
   * cancelled when it does. With `untilReady`, also returns (undefined) once the batch has caught up.
   */
  async function followUntilAction(untilReady = false): Promise<OperatorAction | undefined> {
    for (;;) {
      await roundStopped();
      if (inbox.hasAction) return inbox.take();
      if (untilReady && status.ready) return undefined;
      await maybeContinueAsNew();
      // Partitions added on the source (and new target partitions) join from this round on.
      let refreshed = false;
      const refresh = refreshPartitions().finally(() => void (refreshed = true));
      refresh.catch(() => undefined); // awaited below or in refreshSettled(); never an unhandled rejection
      await condition(() => refreshed || inbox.hasAction);
      if (!refreshed && patched(ACTION_DOES_NOT_WAIT_FOR_REFRESH)) {
        // The action is taken now; the refresh ends in the background (awaited before the partitions are used).
        pendingRefresh = refresh;
        return inbox.take();
      }
      await refresh;
      // An action that arrived during the refresh is taken now: a round started only to be cancelled costs a
      // schedule and a cancel per activity (250 at 2,000 partitions) inside the write pause.
      if (inbox.hasAction && patched(NO_ROUND_AFTER_ACTION)) return inbox.take();
      let done = false;
      let failure: unknown;
      const scope = new CancellationScope();
      const round = scope
        .run(() => copyRoundOnce('follow'))
        .then(
          () => void (done = true),
          (e) => {
            done = true;
            failure = e;
          },
        );
      await condition(() => done || inbox.hasAction);
      const cancelled = !done;
      if (cancelled) scope.cancel();
      const cancelledBy = cancelled ? (inbox.pending?.action ?? 'an operator action') : undefined;
      // A worker that dies while its round is being cancelled leaves the activity to time out, and Temporal
      // does not retry a cancel-requested activity: that round is over too (its progress is checkpointed). So is
      // one whose activity failed once cancel-requested (a broker down mid-retry): the next round or the drain
      // goes on from the checkpoint, and meets the fault again if it lasts.
      const settled = round.then(() => {
        if (!failure || isCancellation(failure) || (cancelled && timedOut(failure))) return;
        if (cancelled && cancelRequested(failure) && patched(CANCELLED_ROUND_FAILURE_ENDS_ROUND)) {
          note(
            `a follow round cancelled by ${cancelledBy} failed while stopping (${failureFacts(failure).message}): it is over, the copy goes on from its checkpoint`,
          );
          return;
        }
        throw failure;
      });
      settled.catch(() => undefined); // awaited below or in roundStopped(); never an unhandled rejection
      if (cancelled && (inbox.pending?.action === 'producersStopped' || inbox.pending?.action === 'clientsStopped')) {
        // The quiet check only reads end offsets: it starts while the round stops (write pause), and the drain
        // waits for the round (roundStopped) so that no two copies of a partition ever run at once.
        stoppingRound = settled;
        return inbox.take();
      }
      await settled;
      progressInRun++;
    }
  }

  /** Clients may move (producers last): the milestone, the migration and ledger told, the write pause recorded and noted. */
  async function producersMayMove(who: 'producers' | 'producers and consumers'): Promise<void> {
    await clientsMoved('clientsMayMove');
    status.writePauseMs = elapsedMs(status.milestones.producersStopped, status.milestones.clientsMayMove);
    recordWritePauseMetric(status);
    note(
      who === 'producers'
        ? 'producers may now start on the target'
        : `producers and consumers may now start on the target (write pause ${status.writePauseMs} ms)`,
    );
  }

  /** Refreshes the partitions when the quiet check's end offsets name one the batch does not copy yet. */
  async function refreshIfSourceGrew(): Promise<void> {
    const known = new Set(partitions.map((p) => `${p.topic}:${p.partition}`));
    if (Object.keys(drainTo ?? {}).some((k) => !known.has(k))) await refreshPartitions();
  }

  /** Waits until a partition refresh left to finish in the background has; rethrows its failure. */
  async function refreshSettled(): Promise<void> {
    const refreshing = pendingRefresh;
    pendingRefresh = undefined;
    await refreshing;
  }

  /** Waits until a follow round cancelled in the background has stopped; rethrows its real failure. */
  async function roundStopped(): Promise<void> {
    const stopping = stoppingRound;
    stoppingRound = undefined;
    await stopping;
  }

  async function refreshPartitions(): Promise<void> {
    const report = await admin.createTargetTopics({ spec, topics });
    partitions = partitionsOf(report);
    status.totals.partitions = partitions.length;
    const created = report.topics.filter((t) => t.action === 'created').map((t) => t.topic);
    createdTopics = [...new Set([...createdTopics, ...created])];
    for (const t of report.topics) {
      if (t.partitionsAdded > 0)
        note(`${t.topic}: ${t.partitionsAdded} partitions added on the source: created on the target and copied from this round on (now ${t.partitions})`);
      if (t.droppedConfigs.length) note(`${t.topic}: configs not accepted by the target profile, not set: ${t.droppedConfigs.map((c) => c.name).join(', ')}`);
      for (const w of t.warnings) note(`${t.topic}: ${w}`);
    }
    if (status.partitions.length) applyProgress([], 0, status.totals.recordsCopied);
  }

  /**
   * Continues as new at a safe point once the history is long: between two steps of the step machine and between
   * two follow rounds, never while a round may still write (a stopping round is awaited first), an action waits to be taken, a
   * handler runs (a checked action's update waits for its verdict) or a check runs. At least one step or round
   * runs in every run, so even a threshold of 1 (tests) makes progress: one run per step.
   */
  async function maybeContinueAsNew(): Promise<void> {
    const info = workflowInfo();
    const limit = spec.workflow?.continueAsNewAfterEvents ?? HISTORY_LIMIT_FOR_CONTINUE;
    if (!(info.continueAsNewSuggested || info.historyLength > limit)) return;
    // A refresh left to finish in the background ends first; an action (or update) arriving meanwhile is seen below.
    if (pendingRefresh) await refreshSettled();
    if (progressInRun === 0 || inbox.hasAction) return;
    if (status.step === 'checking-quiet' || status.step === 'checking-groups' || status.step === 'checking-clients') return;
    // A checked action's update returns right after its verdict: give it that moment rather than skip this point.
    if (!allHandlersFinished() && !(await condition(allHandlersFinished, '2 seconds'))) return;
    // A round cancelled by producersStopped may still write: the drain waits for it first anyway, so wait here
    // (a failure of that round blocks the step like any other).
    if (stoppingRound) await roundStopped();
    status.continuedAsNew = (status.continuedAsNew ?? 0) + 1;
    log.info('batch continues as new', { batch: batch.number, historyLength: info.historyLength, step: status.step });
    await continueAsNew<typeof batchWorkflow>({
      ...input,
      carried: { status, inbox: inbox.snapshot(), partitions, createdTopics, fencedTopics, topics, drainTo },
    });
  }

  async function drain(): Promise<void> {
    await roundStopped();
    if (patched(DRAIN_ONLY_BEHIND)) {
      // Only the partitions the last completed round left behind the drain target: a round's progress is
      // checkpointed before the round returns, and every drain activity pays its set-up inside the write pause.
      const behind = partitionsBehindDrainTarget();
      if (behind.length) await copyRoundOnce('drain', behind);
      note(`drain: ${behind.length} of ${partitions.length} partitions were behind the end offsets of the quiet check`);
    } else await copyRoundOnce('drain');
    const behind = status.partitions.filter((p) => drainTo && p.sourceNext < (drainTo[`${p.topic}:${p.partition}`] ?? 0));
    if (behind.length) {
      throw ApplicationFailure.create({
        type: 'DrainIncomplete',
        message: `drain ended with ${behind.length} partitions behind the captured end offsets`,
        details: [{ partitions: behind.slice(0, 50).map((p) => `${p.topic}:${p.partition}`) }],
      });
    }
    milestone('drained');
  }

  /** Partitions whose copied position (last completed round) is below drainTo, or not known, or without a drain target. */
  function partitionsBehindDrainTarget(): PartitionRef[] {
    const copiedTo = new Map(status.partitions.map((p) => [`${p.topic}:${p.partition}`, p.sourceNext]));
    return partitions.filter((p) => {
      const key = `${p.topic}:${p.partition}`;
      const next = copiedTo.get(key);
      const end = drainTo?.[key];
      return next === undefined || end === undefined || next < end;
    });
  }

  /** producersStopped → fence (optional) → quiet check; settles the action with the check's verdict. */
  async function confirmProducersStopped(action: OperatorAction | undefined): Promise<boolean> {
    const verdict = await checkSourceQuiet(action?.action ?? 'producersStopped');
    settle(action, verdict);
    return verdict.accepted;
  }

  /** Fence (optional) → quiet check; when quiet, the drain targets are set. The verdict is the caller's to give. */
  async function checkSourceQuiet(action: OperatorAction['action']): Promise<Verdict> {
    if (spec.cutover.fenceWithAcl && fencedTopics.length === 0) {
      const fence = await admin.fenceSourceWrites({ spec, migration: spec.name, topics });
      if (fence.applied) fencedTopics = topics;
      else note(`write fence not applied: ${fence.reason}; relying on the quiet check`);
    }
    const quiet = await watch.waitForQuietSource({ spec, topics, quietSeconds: spec.thresholds.quietPeriodSeconds });
    if (!quiet.quiet) {
      const moved = quiet.changed.slice(0, 10).join(', ');
      const message = `the source is not quiet: end offsets moved on ${quiet.changed.length} partitions within ${spec.thresholds.quietPeriodSeconds} s (${moved}${quiet.changed.length > 10 ? ', ...' : ''}); stop those producers and confirm again`;
      note(`${action} refused by the quiet check: writes continue on ${moved}${quiet.changed.length > 10 ? ', ...' : ''}`);
      return { accepted: false, message, evidence: { partitionsMoved: quiet.changed } };
    }
    drainTo = quiet.endOffsets;
    milestone('sourceQuiet');
    return {
      accepted: true,
      message: `the source stood still for ${spec.thresholds.quietPeriodSeconds} s on ${Object.keys(quiet.endOffsets).length} partitions`,
      evidence: { quietSeconds: spec.thresholds.quietPeriodSeconds, partitions: Object.keys(quiet.endOffsets).length },
    };
  }

  /**
   * clientsStopped (producers-first): the quiet check and, beside it, the groups' check and the translation of
   * their offsets, so that the write pause is the longer of the two rather than their sum plus the operator's
   * second round trip. Translating before the drain is exact: an offset is translated only when the copy has
   * reached it (else OffsetsNotCopiedYet, and the translation runs again after the drain), and nothing on the
   * target changes for the clients until they may move. Committed offsets of a source that turns out not quiet
   * are harmless: the clients have not moved, and the later translation commits again.
   * Returns the next step.
   */
  async function confirmClientsStopped(action: OperatorAction | undefined): Promise<BatchStep> {
    delete status.milestones.offsetsTranslated;
    // Both are awaited: a failed quiet check blocks only once the translation beside it has ended.
    const [checked, early] = await Promise.all([
      checkSourceQuiet('clientsStopped').then(
        (verdict) => ({ verdict }),
        (failure: unknown) => ({ failure }),
      ),
      translateBesideQuietCheck(),
    ]);
    if ('failure' in checked) throw checked.failure;
    const quiet = checked.verdict;
    if (!quiet.accepted) {
      settle(action, quiet);
      return 'awaiting-producers-stopped';
    }
    if (early.groupsActive) {
      // The producers' half holds: the batch drains and waits for consumersStopped, as after producersStopped.
      note(`clientsStopped: the producers' stop is confirmed; consumers still active on the source: ${early.groupsActive}`);
      settle(action, {
        accepted: false,
        message: `${quiet.message}, so the producers' stop is taken (as producersStopped); but groups are still active on the source: ${early.groupsActive}; stop those consumers and send consumersStopped`,
        evidence: { ...(quiet.evidence as object), groupsActive: early.groupsActive },
      });
      return 'draining';
    }
    milestone('consumersStopped');
    if (early.translated) milestone('offsetsTranslated');
    else note(`clientsStopped: the offsets are translated after the drain (${early.deferred})`);
    settle(action, {
      accepted: true,
      message: `${quiet.message}; ${groups.length} groups are Empty on the source${early.translated ? ' and their offsets are translated' : ''}`,
      evidence: { ...(quiet.evidence as object), groups: groups.length, offsetsTranslated: early.translated },
    });
    return 'draining';
  }

  /** The translation beside the quiet check: done, refused for active groups, or deferred to after the drain. */
  async function translateBesideQuietCheck(): Promise<{ translated: boolean; groupsActive?: string; deferred?: string }> {
    if (groups.length === 0) return { translated: true };
    try {
      const summary = await translateOffsets('deferIfNotCopied');
      return summary.notCopied ? { translated: false, deferred: summary.notCopied } : { translated: true };
    } catch (e) {
      const facts = failureFacts(e);
      if (facts.type === GROUP_ACTIVE) return { translated: false, groupsActive: facts.message };
      // Anything else is the translation step's to retry (and block on) after the drain.
      return { translated: false, deferred: facts.message };
    }
  }

  /** consumersStopped → every group of the batch is Empty (or Dead) on the source. */
  async function confirmConsumersStopped(action: OperatorAction | undefined): Promise<boolean> {
    if (groups.length === 0) {
      settle(action, { accepted: true, message: 'the batch has no consumer groups' });
      return true;
    }
    const states = await admin.describeGroups({ spec, cluster: 'source', groups });
    const active = states.filter((g) => g.state !== 'Empty' && g.state !== 'Dead');
    if (active.length) {
      const list = active.map((g) => `${g.group} (${g.state}, ${g.members.length} members)`).join(', ');
      note(`consumersStopped refused: still active on the source: ${list}`);
      settle(action, {
        accepted: false,
        message: `groups still active on the source: ${list}; stop those consumers and confirm again`,
        evidence: { groups: active.map((g) => ({ group: g.group, state: g.state, members: g.members })) },
      });
      return false;
    }
    settle(action, {
      accepted: true,
      message: `${groups.length} groups are Empty on the source`,
      evidence: { groups: states.map((g) => ({ group: g.group, state: g.state })) },
    });
    return true;
  }

  /** Gives a checked action its verdict (the CLI's update is waiting for it); a signal just records it. */
  function settle(action: OperatorAction | undefined, verdict: Verdict): void {
    if (!action) return;
    inbox.settle(action, verdict);
    if (checking === action) checking = undefined;
  }

  /** Translates and commits the groups' offsets; with deferIfNotCopied, an offset not copied yet answers instead of failing. */
  async function translateOffsets(whenNotCopied?: 'deferIfNotCopied'): Promise<{ notCopied?: string }> {
    if (groups.length === 0) return {};
    const summary = await admin.translateOffsetsAndReport({
      spec,
      migration: spec.name,
      groups,
      topics,
      fileStem: batchFileStem(batch.number, batch.name, 'offsets'),
      ...(whenNotCopied ? { whenNotCopied } : {}),
    });
    if ('notCopied' in summary) return summary;
    status.reports.offsets = summary.report.markdownPath;
    recordWriter('offsets', summary.report.writtenBy);
    // Where the write pause goes (the benchmark reads it).
    if (summary.timingsMs)
      note(
        `offsets of ${summary.groups} groups translated: ${Object.entries(summary.timingsMs)
          .map(([k, ms]) => `${k} ${ms} ms`)
          .join(', ')}`,
      );
    return {};
  }

  /** Waits in a step for its operator action (stepWait), following the source meanwhile when `copying`. */
  async function waitAction(step: BatchStep, copying: boolean): Promise<OperatorAction> {
    enter(step);
    const wait = stepWait(step)!;
    const got = copying ? await followUntilAction() : await inbox.waitFor(wait);
    return got!;
  }

  /**
   * A step failed beyond its retries: the batch is blocked on it and waits for retry, excludeTopic or abort.
   * Returns the operator's action; the migration workflow (and its KmPhase) shows the block meanwhile.
   */
  async function blockedOn(step: BatchStep, e: unknown): Promise<OperatorAction> {
    const facts = failureFacts(e);
    const canExclude = !status.milestones.clientsMayMove && !status.milestones.consumersMayMove && topics.length > 1;
    status.blocked = {
      step,
      type: facts.type,
      error: facts.message,
      since: now(),
      ...(facts.topics ? { topics: facts.topics } : {}),
      ...(facts.partitions ? { partitions: facts.partitions } : {}),
      ...(facts.groups ? { groups: facts.groups } : {}),
      ...(facts.details !== undefined ? { details: facts.details } : {}),
      actions: ['retry', ...(canExclude ? ['exclude-topic'] : []), ...(inbox.abortBlockedReason() ? [] : ['abort'])],
    };
    note(`blocked in ${step}: ${facts.type}: ${facts.message}`);
    enter('blocked');
    await tellMigration({ milestone: 'blocked', blocked: status.blocked });
    const a = await inbox.waitFor({
      // Blocked while rolling back (the abort is already taken): only retry can go on.
      ...(step === 'rolling-back' ? { ignoreAbort: true } : {}),
      actions: step === 'rolling-back' ? ['retry'] : ['retry', 'excludeTopic'],
      reason: `blocked in ${step}: ${facts.message.slice(0, 300)}; retry the step, exclude a topic, or abort`,
      batch: batch.number,
      validate: (x) => (x.action === 'excludeTopic' ? excludeRefusal(x) : undefined),
    });
    status.blocked = undefined;
    await tellMigration({ milestone: 'unblocked' });
    return a;
  }

  function excludeRefusal(a: OperatorAction): string | undefined {
    if (typeof a.topic !== 'string' || !a.topic) return 'excludeTopic: "topic" is required (the topic to drop from the batch)';
    if (!topics.includes(a.topic))
      return `excludeTopic: topic ${a.topic} is not in batch ${batch.number} (its topics: ${topics.slice(0, 20).join(', ')}${topics.length > 20 ? ', ...' : ''})`;
    if (status.milestones.clientsMayMove || status.milestones.consumersMayMove)
      return 'excludeTopic: clients may already use the target: the batch can no longer drop a topic';
    if (topics.length === 1) return `excludeTopic: ${a.topic} is the batch's last topic: abort the batch instead`;
    return undefined;
  }

  /** Drops a topic from the batch: not copied, not cut over, not verified; reported as not migrated. */
  async function excludeTopic(a: OperatorAction): Promise<void> {
    const topic = a.topic!;
    const ours = createdTopics.includes(topic);
    topics = topics.filter((t) => t !== topic);
    partitions = partitions.filter((p) => p.topic !== topic);
    status.partitions = status.partitions.filter((p) => p.topic !== topic);
    if (drainTo) drainTo = Object.fromEntries(Object.entries(drainTo).filter(([k]) => !k.startsWith(`${topic}:`)));
    applyProgress([], 0, status.totals.recordsCopied);
    // Told before the (slow) deletion of its target copy: a run of this batch that ends meanwhile must not lose the
    // exclusion (the migration starts the next run without the topic).
    const toldFirst = patched(TOPIC_EXCLUDED_BEFORE_DELETE);
    if (toldFirst) await tellMigration({ milestone: 'topicExcluded', topic });
    let targetDeleted = false;
    let kept = ours ? ' (its partial target copy is kept)' : '';
    if (a.deleteTarget && ours) {
      try {
        const deleted = await admin.deleteTargetTopics({ spec, migration: spec.name, topics: [topic] });
        targetDeleted = deleted.deleted.includes(topic) || deleted.missing.includes(topic);
        createdTopics = createdTopics.filter((t) => t !== topic);
        kept = ' (its target copy was deleted)';
      } catch (e) {
        kept = ` (deleting its target copy failed: ${failureFacts(e).message}; delete it by hand)`;
      }
    }
    status.excludedTopics = [...(status.excludedTopics ?? []), { topic, by: a.by, at: a.receivedAt ?? now(), reason: a.reason ?? '', targetDeleted }];
    note(`topic ${topic} excluded by ${a.by}: ${a.reason}; it is not migrated${kept}`);
    if (!toldFirst && patched(TOPIC_EXCLUDED_MILESTONE)) await tellMigration({ milestone: 'topicExcluded', topic });
  }

  async function rollback(action: OperatorAction): Promise<BatchResult> {
    await roundStopped().catch((e) => note(`the copy round stopped with an error during the abort: ${String(e)}`));
    note(`abort by ${action.by}: ${action.reason}`);
    if (fencedTopics.length) {
      await admin.unfenceSourceWrites({ spec, migration: spec.name, topics: fencedTopics });
      fencedTopics = [];
    }
    if (spec.cutover.deleteTargetTopicsOnAbort && createdTopics.length) {
      const deleted = await admin.deleteTargetTopics({ spec, migration: spec.name, topics: createdTopics });
      note(`deleted target topics created by this migration: ${deleted.deleted.join(', ') || '(none)'}`);
      createdTopics = [];
    }
    enter('aborted');
    milestone('aborted');
    await writeBatchReport();
    return result('aborted');
  }

  async function writeBatchReport(): Promise<void> {
    const paths = await admin.writeReportFiles({ spec, fileStem: batchFileStem(batch.number, batch.name), kind: 'batch', data: status });
    status.reports.batch = paths.markdownPath;
    recordWriter('batch', paths.writtenBy);
  }

  /** Which worker's disk holds a report (status prints a path only with it). */
  function recordWriter(report: string, writtenBy: string | undefined): void {
    if (writtenBy) status.reportWriters = { ...status.reportWriters, [report]: writtenBy };
  }

  /** `completed`: a rollback window follows (the migration opens one) and takes the cutover fence over. */
  async function finish(completed: boolean): Promise<void> {
    if (completed && rollbackWindowMs(spec.cutover.rollbackWindow) && patched(WINDOW_TAKES_CUTOVER_FENCE)) {
      // The window fences everyone but the migrator first, then lifts this fence: the source is never open between.
      if (fencedTopics.length) note(`write fence kept on ${fencedTopics.length} source topics: the rollback window replaces it with its own`);
    } else if (fencedTopics.length || input.restart?.clientsMoved) {
      // A restarted batch does not know which fences its earlier run set: the fence store does.
      await admin.unfenceSourceWrites({ spec, migration: spec.name, topics: fencedTopics.length ? fencedTopics : topics });
      fencedTopics = [];
    }
    milestone('completed');
    enter('completed');
    await writeBatchReport();
  }

  const result = (outcome: BatchResult['outcome']): BatchResult => ({ number: batch.number, name: batch.name, outcome, status: forParent(status) });
  const startAbort = () => enter('rolling-back');
  const aborted = (a: OperatorAction | undefined): boolean => a?.action === 'abort';

  /** One step of the machine; returns the batch's result when it has ended. Every step can run again (retry). */
  async function runStep(step: BatchStep): Promise<BatchResult | undefined> {
    switch (step) {
      case 'creating-topics': {
        await refreshPartitions();
        milestone('topicsCreated');
        if (input.restart?.excludedTopics?.length) note(`topics excluded by an earlier run, not migrated: ${input.restart.excludedTopics.join(', ')}`);
        if (input.restart?.abort) enter('rolling-back');
        else if (input.restart?.clientsMoved) {
          note('restarted after its clients may have moved to the target: verifying only');
          milestone('clientsMayMove');
          enter('verifying');
        } else enter('copying');
        return undefined;
      }
      case 'copying': {
        inbox.expect({ actions: [], reason: 'copying until the batch catches up' });
        const a = await followUntilAction(true);
        if (aborted(a)) return void startAbort();
        milestone('ready');
        enter('awaiting-cutover-approval');
        return undefined;
      }
      case 'awaiting-cutover-approval': {
        const a = await waitAction('awaiting-cutover-approval', true);
        if (aborted(a)) return void startAbort();
        milestone('cutoverApproved');
        enter(status.strategy === 'producers-first' ? 'awaiting-producers-stopped' : 'awaiting-consumers-stopped');
        return undefined;
      }
      case 'awaiting-producers-stopped': {
        const a = await waitAction('awaiting-producers-stopped', true);
        if (aborted(a)) return void startAbort();
        checking = a;
        milestone('producersStopped', a.receivedAt);
        enter(a.action === 'clientsStopped' ? 'checking-clients' : 'checking-quiet');
        return undefined;
      }
      case 'checking-clients': {
        const next = await confirmClientsStopped(checking);
        await refreshSettled();
        // The drain must cover partitions the source gained since the last refresh (see checking-quiet).
        if (next === 'draining') await refreshIfSourceGrew();
        enter(next);
        return undefined;
      }
      case 'checking-quiet': {
        // The drain must cover partitions the source gained since the last refresh (the refresh also adds them
        // on the target).
        if (patched(REFRESH_ONLY_WHEN_SOURCE_GREW)) {
          // The quiet check read every partition of the source's topics: refresh (inside the write pause) only
          // when it saw one the batch does not copy yet.
          const quiet = await confirmProducersStopped(checking);
          await refreshSettled();
          if (quiet) await refreshIfSourceGrew();
          enter(quiet ? 'draining' : 'awaiting-producers-stopped');
          return undefined;
        }
        // (Older runs: the refresh runs during the quiet check, not after it.)
        const [quiet] = await Promise.all([confirmProducersStopped(checking), refreshPartitions()]);
        enter(quiet ? 'draining' : 'awaiting-producers-stopped');
        return undefined;
      }
      case 'draining': {
        await drain();
        if (status.strategy === 'producers-first' && status.milestones.offsetsTranslated) {
          // clientsStopped: the consumers were confirmed stopped and their offsets translated beside the quiet check.
          await producersMayMove('producers and consumers');
          enter('verifying');
        } else if (status.strategy === 'producers-first') enter(status.milestones.consumersStopped ? 'translating-offsets' : 'awaiting-consumers-stopped');
        else if (!status.milestones.consumersMayMove) enter('translating-offsets');
        else {
          await producersMayMove('producers');
          enter('verifying');
        }
        return undefined;
      }
      case 'awaiting-consumers-stopped': {
        const copying = status.strategy === 'consumers-first';
        const a = await waitAction('awaiting-consumers-stopped', copying);
        if (aborted(a)) return void startAbort();
        checking = a;
        enter('checking-groups');
        return undefined;
      }
      case 'checking-groups': {
        if (!(await confirmConsumersStopped(checking))) {
          enter('awaiting-consumers-stopped');
          return undefined;
        }
        milestone('consumersStopped');
        if (status.strategy === 'consumers-first') {
          // Every committed offset must be copied before it can be translated: drain to the current end.
          await roundStopped();
          [drainTo] = await Promise.all([admin.sampleEndOffsets({ spec, topics }), refreshPartitions()]);
          enter('draining');
        } else enter('translating-offsets');
        return undefined;
      }
      case 'translating-offsets': {
        await translateOffsets();
        if (status.strategy === 'consumers-first') {
          await clientsMoved('consumersMayMove');
          note('consumers may now start on the target; copying continues until the producers move');
          enter('awaiting-producers-stopped');
        } else {
          await producersMayMove('producers and consumers');
          enter('verifying');
        }
        return undefined;
      }
      case 'verifying': {
        const report = await watch.verifyBatchAndReport({
          spec,
          migration: spec.name,
          batch: currentBatch(),
          fileStem: batchFileStem(batch.number, batch.name, 'verification'),
        });
        status.reports.verification = report.report.markdownPath;
        recordWriter('verification', report.report.writtenBy);
        status.verification = { ok: report.ok, mismatchCount: report.mismatchCount };
        recordVerificationMetrics(status, report.ok, report.mismatchCount);
        if (report.ok) {
          milestone('verified');
          enter('completed');
          return undefined;
        }
        note(`verification found ${report.mismatchCount} mismatches: ${report.mismatches.slice(0, 5).join('; ')}`);
        enter('verification-failed');
        return undefined;
      }
      case 'verification-failed': {
        const a = await waitAction('verification-failed', false);
        if (aborted(a)) return void startAbort();
        if (a.action === 'retryVerification') {
          enter('verifying');
          return undefined;
        }
        milestone('mismatchesAccepted');
        await finish(false);
        return result('accepted-with-mismatches');
      }
      case 'completed': {
        await finish(!status.milestones.mismatchesAccepted);
        return result(status.milestones.mismatchesAccepted ? 'accepted-with-mismatches' : 'completed');
      }
      case 'rolling-back':
        return rollback(inbox.aborted!);
      default:
        throw ApplicationFailure.nonRetryable(`batch ${batch.number} cannot run step ${step}`, 'UnknownBatchStep');
    }
  }

  // ------------------------------------------------------------------ the step machine
  // Inside a non-cancellable scope: a cancellation requested from Temporal arrives as an abort (inbox), which
  // the step that is waiting takes like an operator's abort.
  const machine = CancellationScope.nonCancellable(async () => {
    for (;;) {
      const step = status.step === 'blocked' ? ((status.blocked?.step as BatchStep) ?? 'creating-topics') : status.step;
      if (status.step === 'blocked') {
        // Resumed (continueAsNew) while blocked: wait for the decision again.
        const a = await blockedOn(step, new Error(status.blocked?.error ?? 'blocked'));
        await decide(step, a);
        continue;
      }
      try {
        if (patched(CONTINUE_AS_NEW_BETWEEN_STEPS)) await maybeContinueAsNew();
        // The checks run beside a refresh the action did not wait for (they await it before using the partitions).
        if (step !== 'checking-quiet' && step !== 'checking-clients') await refreshSettled();
        const done = await runStep(step);
        if (done) return done;
        progressInRun++;
      } catch (e) {
        if (e instanceof ContinueAsNew) throw e; // from a safe point inside a step (between follow rounds)
        // A checked action whose check could not run is refused: the CLI must not wait for it, nor carry on.
        if (checking) settle(checking, { accepted: false, message: `the check could not run (${failureFacts(e).message}); the batch is blocked` });
        const back = AWAITING_AFTER_FAILED_CHECK[step] ?? step;
        const a = await blockedOn(back, e);
        await decide(back, a);
      }
    }
  });
  return failedPhaseOnError(machine);

  /** Carries out the operator's decision on a blocked step. */
  async function decide(step: BatchStep, a: OperatorAction): Promise<void> {
    if (aborted(a)) return void startAbort();
    if (a.action === 'excludeTopic') await excludeTopic(a);
    enter(step);
  }
}

/** A checked action's verdict, as the operator's update receives it. */
interface Verdict {
  accepted: boolean;
  message: string;
  evidence?: unknown;
}

/** A failed check goes back to waiting for its action: retrying means confirming again. */
const AWAITING_AFTER_FAILED_CHECK: Partial<Record<BatchStep, BatchStep>> = {
  'checking-quiet': 'awaiting-producers-stopped',
  'checking-groups': 'awaiting-consumers-stopped',
  'checking-clients': 'awaiting-producers-stopped',
};

/**
 * The batch's result: without the per-partition detail (that is in the batch report). The copy samples stay (at
 * most 200, ~25 KB): `report` reads a completed batch's status from its result to chart it.
 */
function forParent(status: BatchStatus): BatchStatus {
  return { ...status, partitions: [] };
}

function elapsedMs(fromIso: string | undefined, toIso: string | undefined): number | undefined {
  if (!fromIso || !toIso) return undefined;
  return Date.parse(toIso) - Date.parse(fromIso);
}

function timedOut(e: unknown): boolean {
  return e instanceof ActivityFailure && e.cause instanceof TimeoutFailure;
}

/** An activity that failed after its cancellation was requested (Temporal retries it no more). */
function cancelRequested(e: unknown): boolean {
  return e instanceof ActivityFailure && e.retryState === RetryState.CANCEL_REQUESTED;
}

function pick(offsets: Record<string, number>, group: PartitionRef[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of group) {
    const key = `${p.topic}:${p.partition}`;
    if (key in offsets) out[key] = offsets[key];
  }
  return out;
}

/**
 * Partitions per drain activity. A drain copies only the short tail left when producers stopped, and every
 * activity pays its own set-up (connections, offset-store read, producer id) inside the write pause: a few large
 * activities (at most DRAIN_ACTIVITIES) finish sooner than many small ones.
 */
const DRAIN_ACTIVITIES = 4;
function drainGroupSize(partitions: number, perActivity: number): number {
  return Math.max(perActivity, Math.ceil(partitions / DRAIN_ACTIVITIES));
}

/** The partitions to copy, from the topic creation report (which follows partitions added on the source). */
function partitionsOf(report: TopicCreationReport): PartitionRef[] {
  return report.topics.flatMap((t) => Array.from({ length: t.partitions }, (_, partition) => ({ topic: t.topic, partition })));
}
