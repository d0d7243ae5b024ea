/**
 * Issue 11 §2: one batch of 2,000 partitions (200 topics x 10 partitions, 200 groups with committed offsets) run
 * end to end on the local stack by the real migrationWorkflow and batchWorkflow with the real activities (an
 * in-process worker): connectivity, preflight, inventory, plan, the batch child copying, the cutover
 * (producers-first, quietPeriodSeconds 1) and its verification. The "operator" approves every step as soon as
 * the workflow asks, and stops producers and consumers together (clientsStopped). Measured against Temporal's limits: per workflow run (the migration's and each run of the
 * batch, which continues as new past spec.workflow.continueAsNewAfterEvents) the history events and bytes, the
 * largest payload, the most activities outstanding at once; the largest `status` and `batchStatus` query
 * answers; pending activities sampled from describe(); the write pause, the verification time and the total.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Kafka } from 'kafkajs';
import type { BatchResult, BatchStatus, MigrationStatus } from '../types';
import { GroupOffsetCommitter } from '../cutover/commitGroupOffsets';
import { mapLimit } from '../inventory/concurrency';
import { migrationWorkflowId } from '../workflows/ids';
import { batchStatusQuery, operatorActionUpdate, statusQuery, type OperatorAction } from '../workflows/messages';
import { pendingDeletions, SOURCE_PARTITION_CEILING } from './inventoryTime';
import { benchSpec } from './settings';
import { startBenchWorker } from './temporalWorker';
import { createTopics, deleteGroups, deleteTopics, partitionCount, withAdminOf } from './topics';

export interface ScaleShape {
  topics: number;
  partitionsPerTopic: number;
  groups: number;
  recordsPerPartition: number;
  valueBytes: number;
  quietPeriodSeconds: number;
  roundSeconds: number;
  partitionsPerActivity: number;
  continueAsNewAfterEvents: number;
}

export const SCALE_SHAPE: ScaleShape = {
  topics: 200,
  partitionsPerTopic: 10,
  groups: 200,
  recordsPerPartition: 5,
  valueBytes: 100,
  quietPeriodSeconds: 1,
  // The spec's defaults: 250 copy activities per round (32 at a time in one worker), a new run past 4,000 events.
  // (With 5-second rounds about 75 of the 2,000 partitions copied nothing in four rounds, so the batch never
  // caught up: the round's deadline also covers each activity's set-up.)
  roundSeconds: 30,
  partitionsPerActivity: 8,
  continueAsNewAfterEvents: 4000,
};

/** Temporal's limits (server defaults): a run's history, one payload (blob), pending activities per run. */
export const TEMPORAL_LIMITS = { eventsPerRun: 51_200, historyBytesPerRun: 50 * 1024 * 1024, payloadBytes: 2 * 1024 * 1024, pendingActivities: 2000 };
/** Issue 11 §2: the write pause of a 2,000-partition batch with quietPeriodSeconds 1. */
export const SCALE_WRITE_PAUSE_GOAL_MS = 2000;

export interface RunFigures {
  workflow: 'migration' | 'batch';
  workflowId: string;
  runId: string;
  /** 1-based run number within its workflow id. */
  run: number;
  /** COMPLETED, CONTINUED_AS_NEW, ... */
  status: string;
  events: number;
  /** The server's own history size (describe().historySize), bytes. */
  historyBytes: number | null;
  /** Sum of every payload of the history (data + metadata), bytes. */
  payloadBytes: number;
  activitiesScheduled: number;
  /** The most activities scheduled and not yet closed at once, replayed from the history. */
  maxOutstandingActivities: number;
  /** The largest single payload, and where it is (event, activity type). */
  largestPayload: { bytes: number; where: string };
  /** The most payload bytes in one event (what the server's blob-size check sees per field, or more). */
  largestEventPayloads: { bytes: number; where: string };
}

export interface ScaleResult {
  shape: ScaleShape;
  outcome: string;
  batchOutcome: string;
  runs: RunFigures[];
  batchRuns: number;
  /** status.continuedAsNew of the batch (runs - 1). */
  continuedAsNew: number;
  /** From describe() of the running batch run, every 500 ms. */
  maxPendingActivitiesSampled: number;
  pendingActivitySamples: number;
  largestStatusQueryBytes: number;
  largestBatchStatusQueryBytes: number;
  /** The batch's own writePauseMs (producersStopped -> clients may move). */
  writePauseMs: number;
  steps: Record<string, number>;
  /** The activities of the write pause from the batch's history, ms after producersStopped (where the time goes). */
  pauseTimeline: PauseActivity[];
  /** The batch's notes on the drain and the offset translation's parts. */
  pauseNotes: string[];
  verificationSeconds: number | null;
  /** Migration start to the batch caught up (connectivity, preflight, inventory, plan, topics, copy). */
  toReadySeconds: number;
  /** Batch child started -> ready (topics created and every partition copied). */
  batchCopyToReadySeconds: number;
  /** Migration start to migration completed. */
  totalSeconds: number;
  seedSeconds: number;
  cleanupSeconds: number;
  /** Seconds from the migration's start until each phase was first seen (status polled). */
  phaseSeenAtSeconds: Record<string, number>;
  preflight: { verdict: string; overridden: string[] };
  /** Blocks met on the way (each answered with the operator's `retry`): the run was not unattended. */
  blocks: BlockSeen[];
  recordsCopied: number;
  rounds: number;
}

/** Activities of one type scheduled by one workflow task in the write pause: when they were scheduled, started and closed. */
export interface PauseActivity {
  activity: string;
  count: number;
  scheduledMs: number;
  /** The first start and the last close of the group. */
  startedMs: number | null;
  closedMs: number | null;
}

export interface BlockSeen {
  /** Seconds from the migration's start. */
  atSeconds: number;
  workflow: 'migration' | 'batch';
  step: string;
  type: string;
  error: string;
}

/** A block is retried this many times before the step gives up. */
const MAX_RETRIES = 5;

export type ScaleOutcome = { ran: true; result: ScaleResult } | { ran: false; skipped: string };

const SYSTEM = 'scale';
const BY = 'km-bench';

export async function measureScaleBatch(
  sourceKafka: Kafka,
  targetKafka: Kafka,
  id: string,
  say: (l: string) => void,
  shape = SCALE_SHAPE,
): Promise<ScaleOutcome> {
  const planned = shape.topics * shape.partitionsPerTopic;
  const before = await withAdminOf(sourceKafka, partitionCount);
  for (const until = Date.now() + 5 * 60_000; before.partitions + pendingDeletions() + planned >= SOURCE_PARTITION_CEILING;) {
    if (Date.now() > until)
      return {
        ran: false,
        skipped: `the source has ${before.partitions} partitions and deletes ${pendingDeletions()} more; ${planned} more would pass the safe ceiling of ${SOURCE_PARTITION_CEILING} (open-file limit)`,
      };
    say(`  waiting for the source broker to delete ${pendingDeletions()} partition directories first (open-file limit)`);
    await sleep(10_000);
  }
  const prefix = `kmbench-${id}-scale`;
  const topics = Array.from({ length: shape.topics }, (_, i) => `${prefix}.t${String(i).padStart(3, '0')}`);
  const groups = Array.from({ length: shape.groups }, (_, i) => `${prefix}-g${String(i).padStart(3, '0')}`);
  const reportsDir = mkdtempSync(join(tmpdir(), 'km-bench-scale-'));
  let measured: ScaleResult | undefined;
  let cleanupSeconds = 0;
  try {
    const seedStarted = Date.now();
    say(
      `  seeding ${topics.length} topics x ${shape.partitionsPerTopic} partitions (${shape.recordsPerPartition} records each) and ${groups.length} groups on the source (it has ${before.partitions} partitions now)`,
    );
    await seed(sourceKafka, topics, groups, shape);
    const seedSeconds = round1((Date.now() - seedStarted) / 1000);
    say(`  seeded in ${seedSeconds} s`);

    const esc = (s: string) => s.replace(/[-.]/g, '\\$&');
    const spec = benchSpec({
      name: prefix,
      // Full-match regular expressions.
      scope: { topics: [`${esc(prefix)}\\..*`], groups: [`${esc(prefix)}-g.*`] },
      businessSystems: [{ name: SYSTEM, priority: 'non-core', topics: { prefix: [`${prefix}.`] }, groups: { prefix: [`${prefix}-g`] } }],
      batching: { maxTopics: shape.topics, maxPartitions: planned, maxBytes: 1e12 },
      thresholds: { quietPeriodSeconds: shape.quietPeriodSeconds, capacitySampleSeconds: 2 },
      copy: { roundSeconds: shape.roundSeconds, partitionsPerActivity: shape.partitionsPerActivity },
      workflow: { continueAsNewAfterEvents: shape.continueAsNewAfterEvents },
      reports: { dir: reportsDir },
    } as never);

    say(`  starting an in-process worker (bundles the workflows) on task queue km-bench-${id}-scale`);
    const t = await startBenchWorker(`km-bench-${id}-scale`);
    let migration: WorkflowHandle | undefined;
    try {
      const startedAt = Date.now();
      const started = await t.client.workflow.start('migrationWorkflow', {
        taskQueue: t.settings.taskQueue,
        workflowId: migrationWorkflowId(spec.name),
        args: [{ spec }],
      });
      migration = started;
      const drive = await driveMigration(t.client, migration, shape, say);
      const totalSeconds = round1((Date.now() - startedAt) / 1000);
      const migrationResult = (await migration.result()) as { outcome: string; status: MigrationStatus };
      const batchId = migrationResult.status.batches[0]?.workflowId;
      if (!batchId) throw new Error('the migration completed without a batch');
      const batchResult = (await t.client.workflow.getHandle(batchId).result()) as BatchResult;
      const bs = batchResult.status;
      say(`  migration ${migrationResult.outcome} in ${totalSeconds} s; batch ${batchResult.outcome}; reading the histories`);

      const runs: RunFigures[] = [await runFigures(t.client, 'migration', started.workflowId, started.firstExecutionRunId, 1)];
      for (const [i, runId] of (await runChain(t.client, batchId)).entries()) runs.push(await runFigures(t.client, 'batch', batchId, runId, i + 1));

      // The milestones only: a producersStopped decision is stamped when its check accepted it (after the quiet period).
      const m = { ...bs.milestones };
      const order = ['producersStopped', 'sourceQuiet', 'consumersStopped', 'offsetsTranslated', 'drained', 'clientsMayMove']
        .filter((k) => m[k])
        .sort((a, b) => Date.parse(m[a]) - Date.parse(m[b]));
      const steps: Record<string, number> = {};
      for (let i = 1; i < order.length; i++) steps[`${order[i - 1]}->${order[i]}`] = Date.parse(m[order[i]]) - Date.parse(m[order[i - 1]]);
      if (bs.writePauseMs === undefined) throw new Error('the batch finished without a writePauseMs');
      const pauseTimeline = await writePauseTimeline(
        t.client,
        batchId,
        runs.filter((r) => r.workflow === 'batch').map((r) => r.runId),
        m.producersStopped,
        m.clientsMayMove,
      );
      const result: ScaleResult = {
        shape,
        outcome: migrationResult.outcome,
        batchOutcome: batchResult.outcome,
        runs,
        batchRuns: runs.filter((r) => r.workflow === 'batch').length,
        continuedAsNew: bs.continuedAsNew ?? 0,
        maxPendingActivitiesSampled: drive.maxPending,
        pendingActivitySamples: drive.samples,
        largestStatusQueryBytes: drive.largestStatus,
        largestBatchStatusQueryBytes: drive.largestBatchStatus,
        writePauseMs: bs.writePauseMs,
        steps,
        pauseTimeline,
        pauseNotes: bs.notes.filter((n) => /offsets of \d+ groups translated|drain: \d+ of/.test(n)).map((n) => n.slice(n.indexOf(' ') + 1)),
        verificationSeconds: m.verified && m.clientsMayMove ? (Date.parse(m.verified) - Date.parse(m.clientsMayMove)) / 1000 : null,
        toReadySeconds: round1(drive.readyAtMs !== undefined ? (drive.readyAtMs - startedAt) / 1000 : NaN),
        batchCopyToReadySeconds: m.ready && m.started ? round1((Date.parse(m.ready) - Date.parse(m.started)) / 1000) : NaN,
        totalSeconds,
        seedSeconds,
        cleanupSeconds: 0,
        phaseSeenAtSeconds: Object.fromEntries(Object.entries(drive.phaseSeenAt).map(([k, at]) => [k, round1((at - startedAt) / 1000)])),
        preflight: drive.preflight,
        blocks: drive.blocks.map((b) => ({ ...b, atSeconds: round1((b.atSeconds - startedAt) / 1000) })),
        recordsCopied: bs.totals.recordsCopied,
        rounds: bs.rounds,
      };
      migration = undefined;
      measured = result;
    } finally {
      if (migration) {
        // Failed half-way: end our own migration (its batch child is terminated with it: ParentClosePolicy).
        await migration.terminate('km-bench scale step failed').catch(() => undefined);
      }
      await t.shutdown();
    }
  } finally {
    const cleanupStarted = Date.now();
    say(`  deleting the ${topics.length} topics and ${groups.length} groups on the source and the target`);
    for (const [side, kafka] of [
      ['source', sourceKafka],
      ['target', targetKafka],
    ] as const) {
      await withAdminOf(kafka, async (admin) => {
        await deleteGroups(admin, groups).catch((e) => say(`  could not delete the ${side} groups: ${(e as Error).message}`));
        await deleteTopics(admin, topics).catch((e) => say(`  could not delete the ${side} topics: ${(e as Error).message}`));
      });
    }
    cleanupSeconds = round1((Date.now() - cleanupStarted) / 1000);
    say(`  cleaned up in ${cleanupSeconds} s`);
    rmSync(reportsDir, { recursive: true, force: true });
  }
  return { ran: true, result: { ...measured!, cleanupSeconds } };
}

interface DriveFigures {
  maxPending: number;
  samples: number;
  largestStatus: number;
  largestBatchStatus: number;
  readyAtMs?: number;
  phaseSeenAt: Record<string, number>;
  preflight: { verdict: string; overridden: string[] };
  /** atSeconds holds Date.now() here. */
  blocks: BlockSeen[];
}

/**
 * Plays the operator: approves each step as soon as the workflow asks (status every 250 ms before the batch, the
 * batch's status every 100 ms while it runs, the migration's every second then), measuring every query answer;
 * a background loop samples the running batch run's pending activities every 500 ms.
 */
async function driveMigration(client: Client, migration: WorkflowHandle, shape: ScaleShape, say: (l: string) => void): Promise<DriveFigures> {
  const f: DriveFigures = {
    maxPending: 0,
    samples: 0,
    largestStatus: 0,
    largestBatchStatus: 0,
    phaseSeenAt: {},
    preflight: { verdict: '?', overridden: [] },
    blocks: [],
  };
  const retried = new Set<string>();
  /** A block (batch or migration phase): recorded and answered with `retry`, once per block, as an operator would. */
  const retryBlock = async (
    h: WorkflowHandle,
    workflow: BlockSeen['workflow'],
    b: { step: string; type: string; error: string; since: string },
    batch?: number,
  ) => {
    const key = `${workflow}:${b.since}`;
    if (retried.has(key)) return;
    retried.add(key);
    f.blocks.push({ atSeconds: Date.now(), workflow, step: b.step, type: b.type, error: b.error.slice(0, 400) });
    say(`  BLOCKED (${workflow}, ${b.step}): ${b.type}: ${b.error.slice(0, 300)}`);
    if (f.blocks.length > MAX_RETRIES) throw new Error(`blocked ${f.blocks.length} times; last in ${b.step}: ${b.type}: ${b.error}`);
    say('  retrying, as an operator would (counted as a miss: the run was not unattended)');
    await act(h, { action: 'retry', by: BY, reason: 'km-bench scale step: retry after a block', ...(batch !== undefined ? { batch } : {}) });
  };
  const act = (h: WorkflowHandle, action: OperatorAction) => h.executeUpdate(operatorActionUpdate, { args: [action] });
  const sent = new Set<string>();
  let batchId: string | undefined;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      if (batchId) {
        const d = await client.workflow
          .getHandle(batchId)
          .describe()
          .catch(() => undefined);
        if (d && d.status.name === 'RUNNING') {
          f.samples++;
          f.maxPending = Math.max(f.maxPending, d.raw.pendingActivities?.length ?? 0);
        }
      }
      await sleep(500);
    }
  })();
  try {
    const deadline = Date.now() + 30 * 60_000;
    let lastStatusAt = 0;
    let phase = '';
    for (;;) {
      if (Date.now() > deadline) throw new Error('the 2,000-partition migration did not finish within 30 minutes');
      if (!batchId || Date.now() - lastStatusAt >= 1000) {
        lastStatusAt = Date.now();
        const s = await migration.query(statusQuery).catch(() => undefined);
        if (s) {
          f.largestStatus = Math.max(f.largestStatus, bytesOf(s));
          if (s.phase !== phase) {
            phase = s.phase;
            f.phaseSeenAt[phase] ??= Date.now();
            say(`  phase ${phase}`);
          }
          // A batch's block is shown here too; the batch itself is retried (below).
          if (s.blocked && s.blocked.batch === undefined) await retryBlock(migration, 'migration', s.blocked);
          if (s.phase === 'completed' || s.phase === 'aborted' || s.phase === 'failed') break;
          if (s.preflight) f.preflight.verdict = s.preflight.verdict;
          const waiting = s.waitingFor?.signal;
          if (waiting === 'overridePreflight' && !sent.has(waiting)) {
            sent.add(waiting);
            f.preflight.overridden = s.preflight?.checks.filter((c) => c.verdict === 'fail').map((c) => `${c.id}: ${c.summary}`) ?? [];
            say(`  preflight failed (${f.preflight.overridden.join('; ')}): overriding, the local stack stands in for AutoMQ`);
            await act(migration, { action: 'overridePreflight', by: BY, reason: 'local stack benchmark' });
          } else if (waiting === 'approvePlan|rejectPlan' && !sent.has(waiting)) {
            sent.add(waiting);
            const batches = s.plan?.batches ?? [];
            const b = batches[0];
            const partitions = b?.topics.reduce((n, x) => n + x.partitions, 0) ?? 0;
            if (
              batches.length !== 1 ||
              b.topics.length !== shape.topics ||
              partitions !== shape.topics * shape.partitionsPerTopic ||
              b.groups.length !== shape.groups
            ) {
              throw new Error(
                `expected a plan of 1 batch of ${shape.topics} topics / ${shape.topics * shape.partitionsPerTopic} partitions / ${shape.groups} groups, got ${batches.map((x) => `${x.name}: ${x.topics.length} topics, ${x.groups.length} groups`).join('; ') || 'no batch'} (excluded: ${s.plan?.excluded
                  .slice(0, 5)
                  .map((x) => `${x.name}: ${x.reason}`)
                  .join('; ')})`,
              );
            }
            say(`  plan: batch ${b.name}: ${b.topics.length} topics, ${partitions} partitions, ${b.groups.length} groups: approving`);
            await act(migration, { action: 'approvePlan', by: BY });
          } else if (waiting && waiting !== 'overridePreflight' && waiting !== 'approvePlan|rejectPlan' && !s.blocked) {
            throw new Error(`the migration waits for ${waiting}: ${s.waitingFor?.reason}`);
          }
          batchId ??= s.batches.find((b) => b.state === 'running')?.workflowId;
        }
      }
      if (batchId) {
        const b: BatchStatus | undefined = await client.workflow
          .getHandle(batchId)
          .query(batchStatusQuery)
          .catch(() => undefined);
        if (b) {
          f.largestBatchStatus = Math.max(f.largestBatchStatus, bytesOf(b));
          // The operator stops producers and consumers together where the batch offers it (clientsStopped).
          const offered = b.waitingFor?.signal.split('|') ?? [];
          const waiting = offered.includes('clientsStopped') ? 'clientsStopped' : b.waitingFor?.signal;
          if (waiting === 'approveCutover' || waiting === 'producersStopped' || waiting === 'consumersStopped' || waiting === 'clientsStopped') {
            if (!sent.has(waiting)) {
              sent.add(waiting);
              if (waiting === 'approveCutover') {
                f.readyAtMs = Date.now();
                say(`  batch caught up after ${b.rounds} rounds (${b.totals.recordsCopied} records copied): cutover`);
              }
              await act(client.workflow.getHandle(batchId), { action: waiting, by: BY, batch: b.number });
            }
          } else if (b.step === 'blocked' && b.blocked) await retryBlock(client.workflow.getHandle(batchId), 'batch', b.blocked, b.number);
          else if (waiting) throw new Error(`the batch waits for ${waiting}: ${b.waitingFor?.reason}; notes: ${b.notes.slice(-3).join(' | ')}`);
        }
      }
      await sleep(batchId ? 100 : 250);
    }
  } finally {
    done = true;
    await sampler;
  }
  return f;
}

/** Run ids of a workflow id, first to last: from the first run, following each continue-as-new. */
async function runChain(client: Client, workflowId: string): Promise<string[]> {
  const latest = await client.workflow.getHandle(workflowId).fetchHistory();
  const start = latest.events?.[0]?.workflowExecutionStartedEventAttributes;
  let runId: string | null | undefined = start?.firstExecutionRunId;
  if (!runId) throw new Error(`${workflowId}: no first run id in its history`);
  const chain: string[] = [];
  for (let i = 0; runId && i < 1000; i++) {
    chain.push(runId);
    const events: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events'] = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events;
    runId = events?.[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return chain;
}

async function runFigures(client: Client, workflow: RunFigures['workflow'], workflowId: string, runId: string, run: number): Promise<RunFigures> {
  const handle = client.workflow.getHandle(workflowId, runId);
  const [d, history] = await Promise.all([handle.describe(), handle.fetchHistory()]);
  const events = history.events ?? [];
  const activityType = new Map<string, string>();
  let outstanding = 0;
  let maxOutstanding = 0;
  let scheduled = 0;
  let payloadBytes = 0;
  const largest = { bytes: 0, where: '-' };
  const largestEvent = { bytes: 0, where: '-' };
  for (const e of events) {
    const [kind, attrs] = attributesOf(e as Record<string, unknown>);
    const a = (attrs ?? {}) as Record<string, unknown>;
    let activity: string | undefined;
    if (kind === 'ActivityTaskScheduled') {
      scheduled++;
      outstanding++;
      maxOutstanding = Math.max(maxOutstanding, outstanding);
      activity = (a.activityType as { name?: string } | undefined)?.name ?? '?';
      activityType.set(String(e.eventId), activity);
    } else if (['ActivityTaskCompleted', 'ActivityTaskFailed', 'ActivityTaskTimedOut', 'ActivityTaskCanceled'].includes(kind)) {
      outstanding--;
    }
    if (kind.startsWith('ActivityTask') && a.scheduledEventId !== undefined && a.scheduledEventId !== null)
      activity = activityType.get(String(a.scheduledEventId));
    let inEvent = 0;
    for (const size of payloadSizes(attrs)) {
      inEvent += size;
      payloadBytes += size;
      if (size > largest.bytes) Object.assign(largest, { bytes: size, where: `${kind}${activity ? ` (${activity})` : ''}` });
    }
    if (inEvent > largestEvent.bytes) Object.assign(largestEvent, { bytes: inEvent, where: `${kind}${activity ? ` (${activity})` : ''}` });
  }
  return {
    workflow,
    workflowId,
    runId,
    run,
    status: d.status.name,
    events: events.length,
    historyBytes: d.historySize ?? null,
    payloadBytes,
    activitiesScheduled: scheduled,
    maxOutstandingActivities: maxOutstanding,
    largestPayload: largest,
    largestEventPayloads: largestEvent,
  };
}

/**
 * The activities scheduled from producersStopped until clients may move (and those still open then), grouped by
 * type and the workflow task that scheduled them, in ms after producersStopped: where the write pause goes.
 */
async function writePauseTimeline(client: Client, workflowId: string, runIds: string[], fromIso?: string, toIso?: string): Promise<PauseActivity[]> {
  if (!fromIso || !toIso) return [];
  const from = Date.parse(fromIso);
  const to = Date.parse(toIso);
  const msOf = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) =>
    Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
  const out: PauseActivity[] = [];
  for (const runId of runIds) {
    const events = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    const byScheduled = new Map<string, PauseActivity>();
    const groups = new Map<string, PauseActivity>();
    for (const e of events) {
      const at = msOf(e as never);
      const scheduled = e.activityTaskScheduledEventAttributes;
      if (scheduled) {
        if (at < from || at > to) continue;
        const type = scheduled.activityType?.name ?? '?';
        const key = `${type}@${String(scheduled.workflowTaskCompletedEventId)}`;
        let g = groups.get(key);
        if (!g) {
          g = { activity: type, count: 0, scheduledMs: at - from, startedMs: null, closedMs: null };
          groups.set(key, g);
          out.push(g);
        }
        g.count++;
        byScheduled.set(String(e.eventId), g);
        continue;
      }
      const started = e.activityTaskStartedEventAttributes;
      const closed =
        e.activityTaskCompletedEventAttributes ??
        e.activityTaskFailedEventAttributes ??
        e.activityTaskTimedOutEventAttributes ??
        e.activityTaskCanceledEventAttributes;
      const g = byScheduled.get(String((started ?? closed)?.scheduledEventId));
      if (!g) continue;
      if (started) g.startedMs = g.startedMs === null ? at - from : Math.min(g.startedMs, at - from);
      else g.closedMs = Math.max(g.closedMs ?? 0, at - from);
    }
  }
  return out;
}

/** The event's attributes (the one `...EventAttributes` field it has) and its kind, e.g. "ActivityTaskScheduled". */
function attributesOf(e: Record<string, unknown>): [string, unknown] {
  for (const [k, v] of Object.entries(e)) {
    if (k.endsWith('EventAttributes') && v) return [k[0].toUpperCase() + k.slice(1, -'EventAttributes'.length), v];
  }
  return ['?', undefined];
}

/** Sizes (data + metadata bytes) of every Payload inside a decoded proto message. */
function payloadSizes(node: unknown, out: number[] = [], depth = 0): number[] {
  if (!node || typeof node !== 'object' || depth > 12 || node instanceof Uint8Array) return out;
  const o = node as Record<string, unknown>;
  if (o.data instanceof Uint8Array && o.metadata && typeof o.metadata === 'object') {
    let n = o.data.length;
    for (const [k, v] of Object.entries(o.metadata as Record<string, unknown>)) n += k.length + (v instanceof Uint8Array ? v.length : 0);
    out.push(n);
    return out;
  }
  for (const v of Array.isArray(node) ? node : Object.values(o)) payloadSizes(v, out, depth + 1);
  return out;
}

/** Topics with a few records in every partition; group g has offsets committed on every partition of topic g. */
async function seed(kafka: Kafka, topics: string[], groups: string[], shape: ScaleShape): Promise<void> {
  await withAdminOf(kafka, (admin) => createTopics(admin, topics, shape.partitionsPerTopic));
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    // Freshly created topics on a busy broker can answer NOT_LEADER for a while: send again (a partition written
    // by the failed attempt then holds a few records more; the batch copies and verifies whatever the source holds).
    await mapLimit(topics, 8, (topic) =>
      retrying(() =>
        producer.send({
          topic,
          acks: -1,
          messages: Array.from({ length: shape.partitionsPerTopic * shape.recordsPerPartition }, (_, i) => ({
            partition: i % shape.partitionsPerTopic,
            key: `k${i}`,
            value: `record ${i} of ${topic} `.padEnd(shape.valueBytes, '.'),
          })),
        }),
      ),
    );
  } finally {
    await producer.disconnect();
  }
  const committer = await GroupOffsetCommitter.open(kafka, topics);
  try {
    await mapLimit(groups, 8, (group, g) =>
      committer.commit(
        group,
        Array.from({ length: shape.partitionsPerTopic }, (_, partition) => ({
          topic: topics[g % topics.length],
          partition,
          offset: Math.floor(shape.recordsPerPartition / 2),
        })),
      ),
    );
  } finally {
    await committer.close();
  }
}

async function retrying<T>(fn: () => Promise<T>, attempts = 6): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= attempts) throw e;
      await sleep(1000 * i);
    }
  }
}

const bytesOf = (v: unknown) => Buffer.byteLength(JSON.stringify(v));
const round1 = (n: number) => Math.round(n * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
