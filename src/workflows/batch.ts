/**
 * One batch of a migration, as a child workflow (id `migration-<name>-batch-<n>-<system>`): create the topics
 * on the target, copy in rounds until the batch has caught up, move the clients under operator control
 * (producers-first or consumers-first), then verify. Copy rounds run while the workflow waits for operators;
 * an operator action cancels the running round so that it takes effect at once. Progress is in the
 * `batchStatus` query; the history stays small through continueAsNew.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  TimeoutFailure,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration, RetryPolicy } from '@temporalio/common';
import type * as activities from '../activities';
import type { MigrationSpec } from '../config/spec';
import type { BatchResult, BatchStatus, BatchStep, PartitionProgressView, PlanBatch, TopicCreationReport } from '../types';
import { batchMilestoneSignal, batchStatusQuery } from './messages';
import { OperatorInbox, type InboxSnapshot } from './operatorInbox';
import type { OperatorAction } from './messages';
import { KM_PHASE } from './searchAttributes';
import { summarizeProgress, isReady, groupPartitions, type PartitionRef } from './batchProgress';

export interface BatchInput {
  spec: MigrationSpec;
  batch: PlanBatch;
  parentWorkflowId: string;
  /** State carried across continueAsNew. */
  carried?: BatchCarry;
}

interface BatchCarry {
  status: BatchStatus;
  inbox: InboxSnapshot;
  partitions: PartitionRef[];
  createdTopics: string[];
  fencedTopics: string[];
  drainTo?: Record<string, number>;
}

const NON_RETRYABLE = ['KafkaAuthenticationFailed', 'KafkaAuthorizationFailed', 'SecretUnavailable', 'InvalidConfiguration', 'TargetTopicConflict', 'TargetWrittenByOthers', 'GroupActive'];
const retry: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: NON_RETRYABLE };

const HISTORY_LIMIT_FOR_CONTINUE = 4000;

export async function batchWorkflow(input: BatchInput): Promise<BatchResult> {
  const { spec, batch } = input;
  const now = () => new Date().toISOString();
  const heartbeatTimeout = `${spec.copy.heartbeatTimeoutSeconds}s` as Duration;

  // Short steps heartbeat (activities/keepAlive.ts): a worker dying mid-step is noticed within heartbeatTimeout.
  const admin = proxyActivities<typeof activities>({ startToCloseTimeout: '5 minutes', heartbeatTimeout, retry: { ...retry, maximumAttempts: 10 } });
  const copy = proxyActivities<typeof activities>({
    // A follow round ends after roundSeconds; a drain round ends when the captured end offsets are reached.
    startToCloseTimeout: '6 hours',
    heartbeatTimeout,
    retry,
    // Never start the next round while the cancelled one may still write: wait until it has really stopped.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  const watch = proxyActivities<typeof activities>({ startToCloseTimeout: '1 hour', heartbeatTimeout, retry: { ...retry, maximumAttempts: 20 } });

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
  let drainTo: Record<string, number> | undefined = carried?.drainTo;
  /** A follow round cancelled by producersStopped, still stopping while the quiet check runs (see followUntilAction). */
  let stoppingRound: Promise<void> | undefined;

  const terminalSteps: BatchStep[] = ['completed', 'aborted'];
  const inbox = new OperatorInbox(() => status.step, now, () => terminalSteps.includes(status.step));
  inbox.restore(carried?.inbox);
  status.decisions = inbox.decisions;
  inbox.install();
  // Once clients may write to the target, an abort can no longer roll back without losing their writes.
  inbox.abortBlockedReason = () =>
    status.milestones.clientsMayMove || status.milestones.consumersMayMove
      ? 'clients may already use the target: rolling back now would lose what they wrote there; finish the batch and migrate back instead'
      : undefined;
  setHandler(batchStatusQuery, () => ({
    ...status,
    waitingFor: inbox.waitingFor && { signal: inbox.waitingFor.actions.join('|'), reason: inbox.waitingFor.reason },
  }));

  const topics = batch.topics.map((t) => t.name);
  const groups = batch.groups;

  const enter = (step: BatchStep) => {
    status.step = step;
    upsertSearchAttributes([{ key: KM_PHASE, value: `batch:${step}` }]);
    upsertMemo({ step, summary: `batch ${batch.number} (${batch.name}) of migration ${spec.name}: ${step}` });
    log.info('batch step', { migration: spec.name, batch: batch.number, step });
  };
  const milestone = (name: string, at = now()) => {
    status.milestones[name] = at;
  };
  /** When the operator's action was accepted (the wait for a running copy round to stop counts too). */
  const acceptedAt = (action: string) => [...inbox.decisions].reverse().find((d) => d.accepted && d.kind === action)?.at;
  /** Tells the migration that clients may now use the target: it must refuse a migration-wide abort from then on. */
  const clientsMoved = async (name: 'clientsMayMove' | 'consumersMayMove') => {
    milestone(name);
    await getExternalWorkflowHandle(input.parentWorkflowId)
      .signal(batchMilestoneSignal, { batch: batch.number, milestone: name })
      .catch((e) => log.warn('could not tell the migration workflow', { error: String(e) }));
  };
  const noted = new Set(status.notes.map((n) => n.slice(n.indexOf(' ') + 1)));
  /** Adds a note once (topic warnings are seen again at every refresh of the partition list). */
  const note = (text: string) => {
    if (noted.has(text)) return;
    noted.add(text);
    status.notes.push(`${now()} ${text}`);
  };

  /** Runs one copy round over all partitions, in parallel activities of spec.copy.partitionsPerActivity. */
  async function copyRoundOnce(mode: 'follow' | 'drain'): Promise<void> {
    const startedMs = Date.now();
    const before = status.totals.recordsCopied;
    // allSettled: a round is over only when none of its activities can still write, even if one failed.
    const settled = await Promise.allSettled(
      groupPartitions(partitions, mode === 'drain' ? drainGroupSize(partitions.length, spec.copy.partitionsPerActivity) : spec.copy.partitionsPerActivity).map((group) =>
        copy.copyRound({
          spec,
          migration: spec.name,
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
  }

  function applyProgress(progress: PartitionProgressView[], seconds: number, recordsBefore: number): void {
    const byKey = new Map(status.partitions.map((p) => [`${p.topic}:${p.partition}`, p]));
    for (const p of progress) byKey.set(`${p.topic}:${p.partition}`, p);
    status.partitions = [...byKey.values()].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
    status.totals = summarizeProgress(status.partitions, seconds, recordsBefore);
    status.ready = isReady(status.partitions, spec.thresholds.readyMaxLagRecords, spec.thresholds.readyMaxLagSeconds);
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
      let done = false;
      let failure: unknown;
      const scope = new CancellationScope();
      const round = scope.run(() => copyRoundOnce('follow')).then(
        () => void (done = true),
        (e) => {
          done = true;
          failure = e;
        },
      );
      await condition(() => done || inbox.hasAction);
      const cancelled = !done;
      if (cancelled) scope.cancel();
      // A worker that dies while its round is being cancelled leaves the activity to time out, and Temporal
      // does not retry a cancel-requested activity: that round is over too (its progress is checkpointed).
      const settled = round.then(() => {
        if (failure && !isCancellation(failure) && !(cancelled && timedOut(failure))) throw failure;
      });
      settled.catch(() => undefined); // awaited below or in roundStopped(); never an unhandled rejection
      if (cancelled && inbox.pending?.action === 'producersStopped') {
        // The quiet check only reads end offsets: it starts while the round stops (write pause), and the drain
        // waits for the round (roundStopped) so that no two copies of a partition ever run at once.
        stoppingRound = settled;
        return inbox.take();
      }
      await settled;
      if (status.rounds % 20 === 0) await refreshPartitions();
    }
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
    const created = report.topics.filter((t) => t.action === 'created').map((t) => t.topic);
    createdTopics = [...new Set([...createdTopics, ...created])];
    for (const t of report.topics) {
      if (t.droppedConfigs.length) note(`${t.topic}: configs not accepted by the target profile, not set: ${t.droppedConfigs.map((c) => c.name).join(', ')}`);
      for (const w of t.warnings) note(`${t.topic}: ${w}`);
    }
  }

  async function maybeContinueAsNew(): Promise<void> {
    const info = workflowInfo();
    if (!(info.continueAsNewSuggested || info.historyLength > HISTORY_LIMIT_FOR_CONTINUE)) return;
    if (inbox.hasAction) return;
    log.info('batch continues as new', { batch: batch.number, historyLength: info.historyLength });
    await continueAsNew<typeof batchWorkflow>({
      ...input,
      carried: { status, inbox: inbox.snapshot(), partitions, createdTopics, fencedTopics, drainTo },
    });
  }

  async function drain(): Promise<void> {
    enter('draining');
    await roundStopped();
    await copyRoundOnce('drain');
    const behind = status.partitions.filter((p) => drainTo && p.sourceNext < (drainTo[`${p.topic}:${p.partition}`] ?? 0));
    if (behind.length) throw new Error(`drain ended with ${behind.length} partitions behind the captured end offsets`);
    milestone('drained');
  }

  /** producersStopped → fence (optional) → quiet check; true when the source stands still. */
  async function confirmProducersStopped(): Promise<boolean> {
    enter('checking-quiet');
    if (spec.cutover.fenceWithAcl && fencedTopics.length === 0) {
      const fence = await admin.fenceSourceWrites({ spec, migration: spec.name, topics });
      if (fence.applied) fencedTopics = topics;
      else note(`write fence not applied: ${fence.reason}; relying on the quiet check`);
    }
    const quiet = await watch.waitForQuietSource({ spec, topics, quietSeconds: spec.thresholds.quietPeriodSeconds });
    if (!quiet.quiet) {
      const moved = quiet.changed.slice(0, 10).join(', ');
      note(`producersStopped refused by the quiet check: writes continue on ${moved}${quiet.changed.length > 10 ? ', ...' : ''}`);
      inbox.record({ kind: 'quietCheck', by: 'workflow', accepted: false, reason: `source end offsets still moving on ${moved}` });
      return false;
    }
    drainTo = quiet.endOffsets;
    milestone('sourceQuiet');
    return true;
  }

  /** consumersStopped → every group of the batch is Empty (or Dead) on the source. */
  async function confirmConsumersStopped(): Promise<boolean> {
    if (groups.length === 0) return true;
    const states = await admin.describeGroups({ spec, cluster: 'source', groups });
    const active = states.filter((g) => g.state !== 'Empty' && g.state !== 'Dead');
    if (active.length) {
      const list = active.map((g) => `${g.group} (${g.state}, ${g.members.length} members)`).join(', ');
      note(`consumersStopped refused: still active on the source: ${list}`);
      inbox.record({ kind: 'groupCheck', by: 'workflow', accepted: false, reason: `groups still active on the source: ${list}` });
      return false;
    }
    return true;
  }

  async function translateOffsets(): Promise<void> {
    enter('translating-offsets');
    if (groups.length === 0) return;
    const summary = await admin.translateOffsetsAndReport({ spec, migration: spec.name, groups, topics, fileStem: `batch-${batch.number}-${batch.name}-offsets` });
    status.reports.offsets = summary.report.markdownPath;
  }

  async function waitAction(step: BatchStep, actions: OperatorAction['action'][], reason: string, copying: boolean): Promise<OperatorAction> {
    enter(step);
    inbox.expect({ actions, reason, batch: batch.number });
    const got = copying ? await followUntilAction() : await inbox.waitFor({ actions, reason, batch: batch.number });
    return got!;
  }

  async function rollback(action: OperatorAction): Promise<BatchResult> {
    enter('rolling-back');
    await roundStopped().catch((e) => note(`the copy round stopped with an error during the abort: ${String(e)}`));
    note(`abort by ${action.by}: ${action.reason}`);
    await CancellationScope.nonCancellable(async () => {
      if (fencedTopics.length) {
        await admin.unfenceSourceWrites({ spec, migration: spec.name, topics: fencedTopics });
        fencedTopics = [];
      }
      if (spec.cutover.deleteTargetTopicsOnAbort && createdTopics.length) {
        const deleted = await admin.deleteTargetTopics({ spec, migration: spec.name, topics: createdTopics });
        note(`deleted target topics created by this migration: ${deleted.deleted.join(', ') || '(none)'}`);
      }
    });
    enter('aborted');
    milestone('aborted');
    await writeBatchReport();
    return { number: batch.number, name: batch.name, outcome: 'aborted', status: forParent(status) };
  }

  async function writeBatchReport(): Promise<void> {
    const paths = await admin.writeReportFiles({ spec, fileStem: `batch-${batch.number}-${batch.name}`, kind: 'batch', data: status });
    status.reports.batch = paths.markdownPath;
  }

  const aborted = (a: OperatorAction | undefined): boolean => a?.action === 'abort';

  // ------------------------------------------------------------------ the step machine
  try {
    for (;;) {
      switch (status.step) {
        case 'creating-topics': {
          enter('creating-topics');
          await refreshPartitions();
          status.totals.partitions = partitions.length;
          milestone('topicsCreated');
          enter('copying');
          break;
        }
        case 'copying': {
          inbox.expect({ actions: [], reason: 'copying until the batch catches up' });
          const a = await followUntilAction(true);
          if (aborted(a)) return await rollback(a!);
          milestone('ready');
          enter('awaiting-cutover-approval');
          break;
        }
        case 'awaiting-cutover-approval': {
          const a = await waitAction('awaiting-cutover-approval', ['approveCutover'], 'the batch has caught up; approve the client cutover', true);
          if (aborted(a)) return await rollback(a!);
          milestone('cutoverApproved');
          enter(status.strategy === 'producers-first' ? 'awaiting-producers-stopped' : 'awaiting-consumers-stopped');
          break;
        }
        case 'awaiting-producers-stopped': {
          const a = await waitAction('awaiting-producers-stopped', ['producersStopped'], `stop the producers of ${topics.length} topics on the source`, true);
          if (aborted(a)) return await rollback(a!);
          milestone('producersStopped', acceptedAt('producersStopped'));
          enter('checking-quiet');
          break;
        }
        case 'checking-quiet': {
          // The drain must cover partitions the source gained since the last refresh; the refresh (which also
          // adds them on the target) runs during the quiet check, not after it.
          const [quiet] = await Promise.all([confirmProducersStopped(), refreshPartitions()]);
          if (!quiet) {
            enter('awaiting-producers-stopped');
            break;
          }
          await drain();
          if (status.strategy === 'producers-first') enter('awaiting-consumers-stopped');
          else {
            await clientsMoved('clientsMayMove');
            status.writePauseMs = elapsedMs(status.milestones.producersStopped, status.milestones.clientsMayMove);
            note('producers may now start on the target');
            enter('verifying');
          }
          break;
        }
        case 'awaiting-consumers-stopped': {
          const copying = status.strategy === 'consumers-first';
          const a = await waitAction('awaiting-consumers-stopped', ['consumersStopped'], `stop the consumers of ${groups.length} groups on the source`, copying);
          if (aborted(a)) return await rollback(a!);
          if (!(await confirmConsumersStopped())) break;
          milestone('consumersStopped');
          if (status.strategy === 'consumers-first') {
            // Every committed offset must be copied before it can be translated: drain to the current end.
            [drainTo] = await Promise.all([admin.sampleEndOffsets({ spec, topics }), refreshPartitions()]);
            await drain();
            await translateOffsets();
            await clientsMoved('consumersMayMove');
            note('consumers may now start on the target; copying continues until the producers move');
            enter('awaiting-producers-stopped');
          } else {
            await translateOffsets();
            await clientsMoved('clientsMayMove');
            status.writePauseMs = elapsedMs(status.milestones.producersStopped, status.milestones.clientsMayMove);
            note(`producers and consumers may now start on the target (write pause ${status.writePauseMs} ms)`);
            enter('verifying');
          }
          break;
        }
        case 'verifying': {
          enter('verifying');
          const report = await watch.verifyBatchAndReport({ spec, migration: spec.name, batch, fileStem: `batch-${batch.number}-${batch.name}-verification` });
          status.reports.verification = report.report.markdownPath;
          if (report.ok) {
            milestone('verified');
            enter('completed');
            break;
          }
          note(`verification found ${report.mismatchCount} mismatches: ${report.mismatches.slice(0, 5).join('; ')}`);
          enter('verification-failed');
          break;
        }
        case 'verification-failed': {
          const a = await waitAction('verification-failed', ['retryVerification', 'acceptMismatches'], 'verification found mismatches (see the report): retry it, or accept them with a reason', false);
          if (aborted(a)) return await rollback(a!);
          if (a!.action === 'retryVerification') enter('verifying');
          else {
            milestone('mismatchesAccepted');
            await finish();
            return { number: batch.number, name: batch.name, outcome: 'accepted-with-mismatches', status: forParent(status) };
          }
          break;
        }
        case 'completed': {
          await finish();
          return { number: batch.number, name: batch.name, outcome: 'completed', status: forParent(status) };
        }
        default:
          throw new Error(`batch ${batch.number} cannot resume in step ${status.step}`);
      }
    }
  } catch (e) {
    status.error = e instanceof Error ? e.message : String(e);
    throw e;
  }

  async function finish(): Promise<void> {
    if (fencedTopics.length) {
      await admin.unfenceSourceWrites({ spec, migration: spec.name, topics: fencedTopics });
      fencedTopics = [];
    }
    milestone('completed');
    enter('completed');
    await writeBatchReport();
  }
}

/** The batch's result as the migration keeps it: without the per-partition detail (that is in the batch report). */
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
