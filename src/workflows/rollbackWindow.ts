/**
 * The rollback window of one batch (child of the migration, id `<batch workflow id>-window`, started once the batch
 * completed with its clients on the target; abandoned by the migration's continue-as-new, never by its end).
 *
 * While open: reverse-sync rounds copy what clients write to the target's batch topics back to the source
 * (src/rollback/reverseSync.ts), until `finalize`, the window's expiry (finalized by policy) or `rollback`.
 * rollback (checked, like producersStopped): the target must stand still (producers stopped there) and the batch's
 * groups be Empty on the target, else it is refused with the evidence; then the reverse tail is drained to the
 * end offsets the quiet check saw, the groups' offsets are translated target -> source and committed on the
 * source, the rollback is verified and reported, and clients may move back. A failed step blocks and waits for
 * `retry`. The window tells the migration when it closed (windowClosed).
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  allHandlersFinished,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration, RetryPolicy } from '@temporalio/common';
import type * as activities from '../activities';
import type { MigrationSpec } from '../config/spec';
import { rollbackWindowMs } from '../config/rollbackWindow';
import { NON_RETRYABLE_FAILURE_TYPES } from '../types/failureTypes';
import type { PartitionProgress, TopicPartitionRef } from '../types/copy';
import type { Decision } from '../types/migration';
import type { WindowFenceReport } from '../types/cutover';
import type { WindowFenceState, WindowStatus } from '../types/rollback';
import { groupPartitions } from './batchProgress';
import { failureFacts } from './failures';
import { keepCurrentDetails } from './currentDetails';
import { batchFileStem } from './ids';
import { windowDetails } from './windowDetails';
import { WINDOW_EXPIRES_WHILE_BLOCKED, WINDOW_FENCE } from './patches';
import { ACTION_REFUSED } from './messages';
import { windowActionUpdate, windowClosedSignal, windowStatusQuery, type WindowAction, type WindowActionResult } from './windowMessages';

export interface RollbackWindowInput {
  spec: MigrationSpec;
  migrationWorkflowId: string;
  batch: { number: number; name: string; topics: string[]; groups: string[] };
  /** The batch's ledger key (planned topics, excluded ones too): a rollback records the batch as rolled-back there. */
  ledger?: { topics: string[]; excludedTopics: string[]; batchWorkflowId: string };
  /** State carried across continueAsNew. */
  carried?: { status: WindowStatus; partitions: TopicPartitionRef[] };
}

const retry: RetryPolicy = {
  initialInterval: '2s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 5,
  nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES],
};

/** Reverse rounds per run before continuing as new (besides the history length): keeps every run's history small. */
const ROUNDS_PER_RUN = 200;

type Verdict = { accepted: boolean; message: string; evidence?: unknown };

export async function rollbackWindowWorkflow(input: RollbackWindowInput): Promise<WindowStatus> {
  const { spec, batch } = input;
  const quick = proxyActivities<typeof activities>({ startToCloseTimeout: '5 minutes', heartbeatTimeout: '30s', retry });
  const quietCheck = proxyActivities<typeof activities>({
    startToCloseTimeout: `${Math.ceil(spec.thresholds.quietPeriodSeconds * 2) + 120}s` as Duration,
    retry,
  });
  const rounds = proxyActivities<typeof activities>({
    startToCloseTimeout: `${spec.copy.roundSeconds * 4 + 300}s` as Duration,
    heartbeatTimeout: `${spec.copy.heartbeatTimeoutSeconds}s` as Duration,
    retry,
  });
  const drains = proxyActivities<typeof activities>({
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: `${spec.copy.heartbeatTimeoutSeconds}s` as Duration,
    retry,
  });
  const now = () => new Date().toISOString();
  const windowMs = rollbackWindowMs(spec.cutover.rollbackWindow) ?? 0;
  const status: WindowStatus = input.carried?.status ?? {
    migration: spec.name,
    batch: batch.number,
    name: batch.name,
    state: 'open',
    topics: batch.topics,
    groups: batch.groups,
    openedAt: now(),
    reverseLagRecords: 0,
    recordsCopiedBack: 0,
    rounds: 0,
    partitions: [],
    decisions: [],
    reports: {},
    updatedAt: now(),
  };
  const closesAtMs = Number.isFinite(windowMs) ? Date.parse(status.openedAt) + windowMs : undefined;
  if (closesAtMs !== undefined) status.closesAt = new Date(closesAtMs).toISOString();
  const expired = () => closesAtMs !== undefined && Date.now() >= closesAtMs;

  const pending: WindowAction[] = [];
  const verdicts = new Map<WindowAction, Verdict>();
  const decide = (a: WindowAction, accepted: boolean, reason?: string) => {
    const d: Decision = {
      kind: a.action,
      by: a.by,
      at: now(),
      phase: status.blocked ? `blocked:${status.blocked.step}` : status.state,
      accepted,
      batch: batch.number,
    };
    if (reason ?? a.reason) d.reason = reason ?? a.reason;
    if (a.comment) d.comment = a.comment;
    status.decisions.push(d);
  };
  const take = (name: WindowAction['action']): WindowAction | undefined => {
    const i = pending.findIndex((p) => p.action === name);
    return i < 0 ? undefined : pending.splice(i, 1)[0];
  };

  // The Temporal UI's current details (no command: safe for recorded histories).
  keepCurrentDetails(() => windowDetails(status));
  setHandler(windowStatusQuery, () => ({
    ...status,
    ...(closesAtMs !== undefined ? { timeLeftSeconds: Math.max(0, Math.round((closesAtMs - Date.now()) / 1000)) } : {}),
  }));
  setHandler(
    windowActionUpdate,
    (a: WindowAction): Promise<WindowActionResult> =>
      CancellationScope.nonCancellable(async () => {
        pending.push(a);
        if (a.action !== 'rollback') {
          decide(a, true);
          return { accepted: true, action: a.action, state: status.state, message: `${a.action} accepted (batch ${batch.number}, window ${status.state})` };
        }
        await condition(() => verdicts.has(a));
        const v = verdicts.get(a)!;
        verdicts.delete(a);
        if (!v.accepted) {
          throw ApplicationFailure.create({
            type: ACTION_REFUSED,
            message: `rollback refused: ${v.message}`,
            details: [v.evidence ?? null],
            nonRetryable: true,
          });
        }
        return { accepted: true, action: a.action, state: status.state, message: `rollback accepted: ${v.message}`, evidence: v.evidence };
      }),
    {
      // A validator must not change state: a refused update leaves no trace, the CLI gets the reason (exit 3).
      validator: (a: WindowAction) => {
        const refuse = (why: string) => {
          throw ApplicationFailure.create({ type: ACTION_REFUSED, message: `${a.action} refused: ${why}`, nonRetryable: true });
        };
        if (!a || typeof a.by !== 'string' || !a.by.trim()) refuse('"by" is required (who takes this action)');
        if (a.deadline && Date.parse(a.deadline) < Date.now()) refuse(`it arrived after its deadline ${a.deadline} (the CLI reported it as not done)`);
        if (pending.length) refuse(`another action (${pending[0].action}) is being taken`);
        const where = `batch ${batch.number} (${batch.name})`;
        if (a.action === 'rollback') {
          if (!a.reason?.trim()) refuse('"reason" is required');
          if (status.state !== 'open') refuse(`the rollback window of ${where} is ${status.state}: it can no longer be rolled back`);
        } else if (a.action === 'finalize') {
          if (status.state !== 'open') refuse(`the rollback window of ${where} is already ${status.state}`);
        } else if (a.action === 'retry') {
          if (!status.blocked) refuse(`the rollback window of ${where} is not blocked`);
        } else refuse(`unknown action "${String(a.action)}"; expected rollback, finalize or retry`);
      },
    },
  );

  /** Runs a step; a failure blocks the window until `retry` (or, while open, finalize / rollback) is taken. */
  async function step<T>(name: string, work: () => Promise<T>, whileOpen = false): Promise<T | undefined> {
    for (;;) {
      try {
        return await work();
      } catch (e) {
        if (isCancellation(e)) throw e;
        const f = failureFacts(e);
        status.blocked = {
          step: name,
          type: f.type,
          error: f.message,
          since: now(),
          actions: whileOpen ? ['retry', 'finalize', 'rollback'] : ['retry'],
          ...(f.topics ? { topics: f.topics } : {}),
          ...(f.partitions ? { partitions: f.partitions } : {}),
          ...(f.groups ? { groups: f.groups } : {}),
          ...(f.details !== undefined ? { details: f.details } : {}),
        };
        status.updatedAt = now();
        const decided = () => pending.some((p) => p.action === 'retry' || whileOpen);
        if (whileOpen && closesAtMs !== undefined && patched(WINDOW_EXPIRES_WHILE_BLOCKED)) {
          // A blocked window still expires (finalized by policy): the caller sees expired() and ends it.
          if (!(await condition(decided, Math.max(1, closesAtMs - Date.now())))) {
            status.blocked = undefined;
            return undefined;
          }
        } else await condition(decided);
        status.blocked = undefined;
        if (!take('retry')) return undefined; // finalize / rollback: handled by the caller
      }
    }
  }

  const applyProgress = (progress: PartitionProgress[]) => {
    const byKey = new Map(status.partitions.map((p) => [`${p.topic}:${p.partition}`, p]));
    for (const p of progress) {
      byKey.set(`${p.topic}:${p.partition}`, {
        topic: p.topic,
        partition: p.partition,
        targetNext: p.sourceNext,
        sourceNext: p.targetNext,
        lagRecords: p.lagRecords,
        recordsCopied: p.recordsCopied,
      });
    }
    status.partitions = [...byKey.values()];
    status.reverseLagRecords = status.partitions.reduce((n, p) => n + p.lagRecords, 0);
    status.recordsCopiedBack = status.partitions.reduce((n, p) => n + p.recordsCopied, 0);
    status.updatedAt = now();
  };
  const roundInput = (partitions: TopicPartitionRef[]) => ({
    migration: spec.name,
    source: spec.source,
    target: spec.target,
    copy: { roundSeconds: spec.copy.roundSeconds, maxBatchBytes: spec.copy.maxBatchBytes, throttleBytesPerSecond: spec.copy.throttleBytesPerSecond },
    partitions,
  });

  /** The fence's state for the status: counts and principals (the bindings themselves are on the target). */
  const fenceState = (r: WindowFenceReport, state: WindowFenceState['state']): WindowFenceState => ({
    state,
    bindings: r.owned.length,
    deniedPrincipals: [...new Set(r.denied.flatMap((d) => d.principals))].sort(),
    topicsFenced: r.topics.length - r.unfenceable.length,
    ...(r.unfenceable.length ? { unfenceable: r.unfenceable.slice(0, 20) } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
    removeCommands: r.removeCommands.slice(0, 50),
  });

  // ---------------------------------------------------------------- the fence (before the reverse sync writes)
  if (!input.carried && patched(WINDOW_FENCE)) {
    const fence = await step('fence', () => quick.fenceSourceForWindow({ spec, migration: spec.name, topics: batch.topics }), true);
    if (fence) status.fence = fenceState(fence, fence.applied ? 'in-place' : fence.owned.length ? 'partial' : 'not-applied');
    status.updatedAt = now();
  }

  // ---------------------------------------------------------------- the batch's partitions (on the target)
  let partitions = input.carried?.partitions;
  if (!partitions) {
    const ends = await step('partitions', () => quick.sampleTargetEndOffsets({ spec, topics: batch.topics }), true);
    partitions = Object.keys(ends ?? {}).map((k) => {
      const sep = k.lastIndexOf(':');
      return { topic: k.slice(0, sep), partition: Number(k.slice(sep + 1)) };
    });
  }
  const groups = groupPartitions(partitions, spec.copy.partitionsPerActivity);

  /** One follow round of all partitions, cut short by an action or the expiry. */
  async function followRound(): Promise<void> {
    const scope = new CancellationScope();
    let done = false;
    const round = scope.run(() => Promise.all(groups.map((g) => rounds.reverseCopyRound({ ...roundInput(g), mode: 'follow' }))));
    round.then(
      () => (done = true),
      () => (done = true),
    );
    const until = closesAtMs === undefined ? undefined : Math.max(1, closesAtMs - Date.now());
    if (until === undefined) await condition(() => done || pending.length > 0);
    else await condition(() => done || pending.length > 0, until);
    if (!done) scope.cancel();
    try {
      applyProgress((await round).flat());
      status.rounds++;
    } catch (e) {
      if (isCancellation(e)) return;
      throw e;
    }
  }

  async function rollback(a: WindowAction): Promise<boolean> {
    const pausedAt = Date.now();
    const quiet = await step('rollback-quiet-check', () =>
      quietCheck.waitForQuietTarget({ spec, topics: batch.topics, quietSeconds: spec.thresholds.quietPeriodSeconds }),
    );
    const refuse = (message: string, evidence: unknown) => {
      verdicts.set(a, { accepted: false, message, evidence });
      decide(a, false, message);
      return false;
    };
    if (!quiet) return refuse('the quiet check on the target failed', null);
    if (!quiet.quiet) {
      return refuse(
        `producers still write to the target: ${quiet.changed.length} partition(s) moved within ${quiet.observedSeconds}s: ${quiet.changed.slice(0, 10).join(', ')}`,
        {
          partitionsMoved: quiet.changed,
        },
      );
    }
    const groupStates = await step('rollback-group-check', () => quick.describeGroups({ spec, cluster: 'target', groups: batch.groups }));
    const active = (groupStates ?? []).filter((g) => !((g.state === 'Empty' || g.state === 'Dead') && g.members.length === 0));
    if (!groupStates) return refuse('the group check on the target failed', null);
    if (active.length) {
      return refuse(`consumers still run on the target: ${active.map((g) => `${g.group} (${g.state}, ${g.members.length} members)`).join(', ')}`, {
        groups: active.map((g) => ({ group: g.group, state: g.state, members: g.members })),
      });
    }
    verdicts.set(a, {
      accepted: true,
      message: `the target stood still for ${spec.thresholds.quietPeriodSeconds}s and the groups are Empty there; draining the reverse tail`,
    });
    decide(a, true);
    status.state = 'rolling-back';
    status.updatedAt = now();
    const stopAt = quiet.endOffsets;
    await step('rollback-drain', async () => {
      const results = await Promise.all(
        groups.map((g) => {
          const mine = Object.fromEntries(g.map((p) => [`${p.topic}:${p.partition}`, stopAt[`${p.topic}:${p.partition}`] ?? 0]));
          return drains.reverseCopyRound({ ...roundInput(g), mode: 'drain', stopAt: mine });
        }),
      );
      applyProgress(results.flat());
      const behind = results.flat().filter((p) => p.sourceNext < (stopAt[`${p.topic}:${p.partition}`] ?? 0));
      if (behind.length) {
        throw ApplicationFailure.create({
          type: 'DrainIncomplete',
          message: `the reverse drain ended with ${behind.length} partition(s) behind the target's end offsets: ${behind.map((p) => `${p.topic}:${p.partition}`).join(', ')}`,
        });
      }
    });
    const offsets = await step('rollback-offsets', () =>
      quick.translateOffsetsBackAndReport({
        spec,
        migration: spec.name,
        groups: batch.groups,
        topics: batch.topics,
        fileStem: batchFileStem(batch.number, batch.name, 'rollback-offsets'),
      }),
    );
    status.rollback = { writePauseMs: Date.now() - pausedAt, ...(offsets ? { offsets } : {}) };
    if (offsets?.report) status.reports.rollbackOffsets = offsets.report.markdownPath;
    const verification = await step('rollback-verification', () =>
      quick.verifyRollbackAndReport({
        spec,
        migration: spec.name,
        partitions: partitions!,
        fileStem: batchFileStem(batch.number, batch.name, 'rollback-verification'),
      }),
    );
    if (verification) {
      status.rollback.verification = { ok: verification.ok, mismatchCount: verification.mismatchCount };
      status.reports.rollbackVerification = verification.report.markdownPath;
    }
    if (input.ledger) {
      // Durable for `resume`: the batch is on the source again and is never adopted as completed or copied again.
      const { topics, excludedTopics, batchWorkflowId } = input.ledger;
      await step('rollback-ledger', () =>
        quick.recordBatchLedger({
          spec,
          entry: {
            number: batch.number,
            name: batch.name,
            topics,
            ...(excludedTopics.length ? { excludedTopics } : {}),
            state: 'rolled-back',
            at: now(),
            workflowId: batchWorkflowId,
          },
        }),
      );
    }
    if (status.fence && status.fence.state !== 'not-applied') {
      const lifted = await step('rollback-unfence', () => quick.liftWindowFenceOnSource({ spec, migration: spec.name, topics: batch.topics }));
      if (lifted) status.fence = { ...status.fence, state: 'lifted', removeCommands: [] };
    }
    status.state = 'rolled-back';
    return true;
  }

  // ---------------------------------------------------------------- the window
  let roundsInRun = 0;
  for (;;) {
    const finalize = take('finalize');
    if (finalize) {
      status.state = 'finalized';
      break;
    }
    const rb = take('rollback');
    if (rb) {
      if (await rollback(rb)) break;
      continue;
    }
    if (expired()) {
      status.state = 'expired';
      break;
    }
    const info = workflowInfo();
    const limit = spec.workflow?.continueAsNewAfterEvents ?? 4000;
    if (
      (roundsInRun >= ROUNDS_PER_RUN || info.continueAsNewSuggested || info.historyLength > limit) &&
      roundsInRun > 0 &&
      pending.length === 0 &&
      allHandlersFinished()
    ) {
      status.continuedAsNew = (status.continuedAsNew ?? 0) + 1;
      await continueAsNew<typeof rollbackWindowWorkflow>({ ...input, carried: { status, partitions } });
    }
    await step('reverse-sync', followRound, true);
    roundsInRun++;
  }
  status.updatedAt = now();
  const files = await step('report', () => quick.writeWindowReport({ spec, fileStem: batchFileStem(batch.number, batch.name, 'window'), status }));
  if (files) status.reports.window = files.markdownPath;
  await getExternalWorkflowHandle(input.migrationWorkflowId)
    .signal(windowClosedSignal, { batch: batch.number, state: status.state, at: now(), reports: status.reports })
    .catch(() => undefined); // the migration may have ended (aborted): the window's own result still says it
  return status;
}
