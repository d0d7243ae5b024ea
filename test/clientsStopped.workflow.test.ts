/**
 * clientsStopped (producers-first): the operator stops the batch's producers and consumers together. The quiet check
 * and, beside it, the groups' check and the translation of their offsets run at once (the write pause is the longer
 * of the two, not their sum plus a second operator round trip). On the real stack (real Temporal, real brokers, the
 * real activities; only the follow rounds of the last test are held back):
 * - accepted: both activities are scheduled by the same workflow task, the offsets are translated before the drain
 *   ends, and the consumers resume on the target at exactly the source's committed positions;
 * - a consumer still in its group: the producers' stop is taken, clientsStopped refused naming the group, the batch
 *   then waits for consumersStopped and completes exactly;
 * - a committed offset the copy has not reached yet: the translation is deferred to after the drain, never refused
 *   and never inexact;
 * - arriving while the partitions are refreshed between two rounds, it does not wait for the refresh.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import type { Consumer } from 'kafkajs';
import * as realActivities from '../src/activities';
import type { MigrationSpec } from '../src/config/spec';
import type { BatchStatus, PartitionProgress } from '../src/types';
import { batchWorkflowId } from '../src/workflows/ids';
import { batchStatusQuery, waitsFor } from '../src/workflows/messages';
import { migrationWorkflow, type MigrationResult } from '../src/workflows/migration';
import type { RealActivities } from './helpers/fakeActivities';
import { FollowRounds } from './helpers/followRounds';
import { cli } from './helpers/operator';
import { createOnSource, produceToSource } from './helpers/sourceTopics';
import { sourceAdminKafka, stackSpec, targetKafka, uniqueSuffix } from './helpers/stack';
import { startWithPlanApproved } from './helpers/startMigration';
import { startTestWorker, type TestTemporal } from './helpers/temporal';
import { until } from './helpers/until';

const follows = new FollowRounds();

/** Migrations whose partition refreshes (createTargetTopics between follow rounds) take 4 s longer. */
const slowRefresh = new Set<string>();
const slowRefreshStarted = new Set<string>();

const activities = {
  ...realActivities,
  createTargetTopics: async (input: Parameters<RealActivities['createTargetTopics']>[0]) => {
    if (slowRefresh.has(input.spec.name)) {
      slowRefreshStarted.add(input.spec.name);
      const ctx = Context.current();
      for (let i = 0; i < 8; i++) {
        ctx.heartbeat();
        await ctx.sleep(500);
      }
    }
    return realActivities.createTargetTopics(input);
  },
  copyRound: async (input: Parameters<RealActivities['copyRound']>[0]): Promise<PartitionProgress[]> => {
    if (input.mode === 'follow' && follows.stalled.has(input.migration)) return follows.stallUntilCancelled(input.migration);
    if (input.mode === 'follow') return follows.counted(input.migration, () => realActivities.copyRound(input));
    return realActivities.copyRound(input);
  },
} satisfies Partial<RealActivities>;

let t: TestTemporal;
const consumers: Consumer[] = [];
beforeAll(async () => {
  t = await startTestWorker({ activities });
});
afterAll(async () => {
  await Promise.allSettled(consumers.map((c) => c.disconnect()));
  await t?.shutdown();
});

const q = () => t.settings.taskQueue;
const batchOf = (spec: MigrationSpec) => t.client.workflow.getHandle(batchWorkflowId(spec.name, 1, 'unassigned'));
const batchStatus = (spec: MigrationSpec) => batchOf(spec).query(batchStatusQuery);
const waitBatch = (spec: MigrationSpec, pred: (s: BatchStatus) => boolean, what: string, ms = 120_000) =>
  until(() => batchStatus(spec), pred, `${spec.name}: ${what}`, ms);

function specFor(prefix: string): MigrationSpec {
  const esc = prefix.replace(/-/g, '\\-');
  return stackSpec({
    name: prefix,
    scope: { topics: [`${esc}\\..*`], groups: [`${esc}\\..*`] },
    thresholds: { capacitySampleSeconds: 1, quietPeriodSeconds: 1, readyMaxLagRecords: 0, readyMaxLagSeconds: 3600 },
    copy: { roundSeconds: 2, heartbeatTimeoutSeconds: 15 },
    cutover: { deleteTargetTopicsOnAbort: true },
    reports: { dir: mkdtempSync(join(tmpdir(), 'km-clients-')) },
  } as never);
}

/** An admin commit on the source (the group has no members). */
async function commitOnSource(group: string, topic: string, offsets: number[]): Promise<void> {
  const admin = sourceAdminKafka().admin();
  await admin.connect();
  try {
    await admin.setOffsets({ groupId: group, topic, partitions: offsets.map((offset, partition) => ({ partition, offset: String(offset) })) });
  } finally {
    await admin.disconnect();
  }
}

/** The group's committed offsets per partition on one cluster. */
async function committed(kafka: ReturnType<typeof sourceAdminKafka>, group: string, topic: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [t0] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return t0.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset);
  } finally {
    await admin.disconnect();
  }
}

/** Starts the migration; its preflight passes, the plan and the cutover are approved; returns once it waits for the stop. */
async function startAtStop(spec: MigrationSpec): Promise<WorkflowHandle<typeof migrationWorkflow>> {
  const h = await startWithPlanApproved(t, spec, 'clients-test');
  await waitBatch(spec, (x) => waitsFor(x.waitingFor, 'approveCutover'), 'ready for cutover');
  expect(await cli(q(), 'approve', spec.name, '--step', 'cutover', '--by', 'clients-test')).toMatchObject({ code: 0 });
  const waiting = await waitBatch(spec, (x) => waitsFor(x.waitingFor, 'producersStopped'), 'waiting for the stop');
  // Producers-first offers both: producers alone, or producers and consumers together.
  expect(waiting.waitingFor?.signal).toBe('producersStopped|clientsStopped');
  return h;
}

/** The activities' scheduling events in the batch's history: type -> the workflow task that scheduled it. */
async function scheduledBy(spec: MigrationSpec): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const history = await batchOf(spec).fetchHistory();
  for (const e of history.events ?? []) {
    const a = e.activityTaskScheduledEventAttributes;
    if (!a?.activityType?.name) continue;
    out.set(a.activityType.name, [...(out.get(a.activityType.name) ?? []), String(a.workflowTaskCompletedEventId)]);
  }
  return out;
}

test('clientsStopped: the quiet check and the offset translation run side by side; clients may move once drained; exact', async () => {
  const name = `pcs-${uniqueSuffix()}`;
  const topic = `${name}.orders`;
  const group = `${name}.reader`;
  await createOnSource(topic, 2);
  await produceToSource(topic, 100, { partitions: 2 });
  await commitOnSource(group, topic, [30, 45]);
  const spec = specFor(name);
  const h = await startAtStop(spec);
  const r = await cli(q(), 'clients-stopped', spec.name, '--by', 'clients-test');
  expect(r).toMatchObject({ code: 0 });
  expect(r.out).toMatch(/accepted: the source stood still for 1 s on 2 partitions; 1 groups are Empty on the source and their offsets are translated/);
  const result = (await h.result()) as MigrationResult;
  expect(result.outcome).toBe('completed');
  expect(result.status.batches[0]).toMatchObject({ state: 'completed', verification: { ok: true, mismatchCount: 0 } });
  expect(await committed(targetKafka(), group, topic)).toEqual(['30', '45']);
  const b = await batchStatus(spec);
  // Translated beside the quiet check: before the drain ended; no separate consumersStopped action was asked for.
  expect(Date.parse(b.milestones.offsetsTranslated)).toBeLessThanOrEqual(Date.parse(b.milestones.drained));
  expect(Date.parse(b.milestones.drained)).toBeLessThanOrEqual(Date.parse(b.milestones.clientsMayMove));
  expect(b.decisions.map((d) => [d.kind, d.accepted])).toEqual([
    ['approveCutover', true],
    ['clientsStopped', true],
  ]);
  expect(b.writePauseMs).toBeGreaterThan(0);
  expect(b.notes.join('\n')).toMatch(/producers and consumers may now start on the target \(write pause \d+ ms\)/);
  // One workflow task scheduled both the quiet check and the translation.
  const scheduled = await scheduledBy(spec);
  expect(scheduled.get('translateOffsetsAndReport')).toHaveLength(1);
  expect(scheduled.get('waitForQuietSource')).toEqual(scheduled.get('translateOffsetsAndReport'));
}, 150_000);

test('clientsStopped with a consumer still in its group: the producers’ stop is taken, clientsStopped refused naming the group; consumersStopped then completes exactly', async () => {
  const name = `pcr-${uniqueSuffix()}`;
  const topic = `${name}.orders`;
  const group = `${name}.live`;
  await createOnSource(topic, 2);
  await produceToSource(topic, 60, { partitions: 2 });
  const spec = specFor(name);
  const consumer = sourceAdminKafka().consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  consumers.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await consumer.run({ eachMessage: async () => void seen++ });
  const h = await startAtStop(spec);
  await until(
    async () => seen,
    (n) => n === 60,
    'the consumer read every record',
  );
  const r = await cli(q(), 'clients-stopped', spec.name, '--by', 'clients-test');
  expect(r.code).toBe(3);
  expect(r.err).toContain(`the producers' stop is taken (as producersStopped); but groups are still active on the source`);
  expect(r.err).toContain(group);
  const waiting = await waitBatch(spec, (x) => waitsFor(x.waitingFor, 'consumersStopped'), 'drained, waiting for consumersStopped', 60_000);
  expect(waiting.milestones).toMatchObject({ sourceQuiet: expect.any(String), drained: expect.any(String) });
  expect(waiting.milestones.consumersStopped).toBeUndefined();
  await consumer.disconnect(); // commits where it got to and leaves the group
  const onSource = await committed(sourceAdminKafka(), group, topic);
  expect(onSource).toEqual(['30', '30']);
  expect(await cli(q(), 'consumers-stopped', spec.name, '--by', 'clients-test')).toMatchObject({ code: 0 });
  const result = (await h.result()) as MigrationResult;
  expect(result.outcome).toBe('completed');
  expect(result.status.batches[0]).toMatchObject({ state: 'completed', verification: { ok: true, mismatchCount: 0 } });
  expect(await committed(targetKafka(), group, topic)).toEqual(onSource);
  const b = await batchStatus(spec);
  expect(b.decisions.map((d) => [d.kind, d.accepted])).toEqual([
    ['approveCutover', true],
    ['clientsStopped', false],
    ['consumersStopped', true],
  ]);
  expect(b.milestones.offsetsTranslated).toBeUndefined();
}, 150_000);

test('clientsStopped when a committed offset is beyond the copy: the translation waits for the drain, then commits exactly', async () => {
  const name = `pcd-${uniqueSuffix()}`;
  const topic = `${name}.orders`;
  const group = `${name}.reader`;
  await createOnSource(topic, 2);
  await produceToSource(topic, 40, { partitions: 2 });
  await commitOnSource(group, topic, [10, 10]);
  const spec = specFor(name);
  const h = await startAtStop(spec);
  // Hold the follow rounds back, then write and commit past what the copy has: only the drain copies those records.
  await follows.holdBack(spec.name);
  await produceToSource(topic, 20, { partitions: 2, tag: 'late' });
  await commitOnSource(group, topic, [30, 30]);
  const r = await cli(q(), 'clients-stopped', spec.name, '--by', 'clients-test');
  follows.release(spec.name);
  expect(r).toMatchObject({ code: 0 });
  expect(r.out).toMatch(/1 groups are Empty on the source\b(?! and their offsets are translated)/);
  const result = (await h.result()) as MigrationResult;
  expect(result.outcome).toBe('completed');
  expect(result.status.batches[0]).toMatchObject({ state: 'completed', verification: { ok: true, mismatchCount: 0 } });
  expect(await committed(targetKafka(), group, topic)).toEqual(['30', '30']);
  const b = await batchStatus(spec);
  expect(b.notes.join('\n')).toMatch(/clientsStopped: the offsets are translated after the drain \(group "[^"]+": .*\)/);
  expect(b.milestones.offsetsTranslated).toBeUndefined();
  expect(Date.parse(b.milestones.drained)).toBeLessThanOrEqual(Date.parse(b.milestones.clientsMayMove));
  // Translated twice: beside the quiet check (deferred, nothing committed) and after the drain.
  expect((await scheduledBy(spec)).get('translateOffsetsAndReport')).toHaveLength(2);
}, 150_000);

test('clientsStopped arriving while the partitions are refreshed between two rounds does not wait for the refresh; exact', async () => {
  const name = `pcw-${uniqueSuffix()}`;
  const topic = `${name}.orders`;
  const group = `${name}.reader`;
  await createOnSource(topic, 2);
  await produceToSource(topic, 40, { partitions: 2 });
  await commitOnSource(group, topic, [20, 20]);
  const spec = specFor(name);
  const h = await startAtStop(spec);
  slowRefresh.add(spec.name);
  await until(
    async () => slowRefreshStarted.has(spec.name),
    (ok) => ok,
    'a slow refresh started',
    60_000,
  );
  expect(await cli(q(), 'clients-stopped', spec.name, '--by', 'clients-test')).toMatchObject({ code: 0 });
  slowRefresh.delete(spec.name);
  const result = (await h.result()) as MigrationResult;
  expect(result.outcome).toBe('completed');
  expect(result.status.batches[0]).toMatchObject({ state: 'completed', verification: { ok: true, mismatchCount: 0 } });
  expect(await committed(targetKafka(), group, topic)).toEqual(['20', '20']);
  // The quiet check was scheduled while the refresh that was running when the action arrived had not completed.
  const events = (await batchOf(spec).fetchHistory()).events ?? [];
  const id = (e: { eventId?: unknown }) => Number(e.eventId);
  const quiet = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'waitForQuietSource')!;
  const refresh = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'createTargetTopics' && id(e) < id(quiet)).pop()!;
  const refreshDone = events.find(
    (e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? e.activityTaskFailedEventAttributes?.scheduledEventId ?? -1) === id(refresh),
  )!;
  expect(id(refreshDone)).toBeGreaterThan(id(quiet));
}, 150_000);
