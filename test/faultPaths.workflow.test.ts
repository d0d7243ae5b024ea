/**
 * Paths no other suite walked, each on the real stack (real Temporal server, real brokers, the real activities):
 * the consumers-first cutover end to end; a drain that ends short of the captured end offsets (DrainIncomplete);
 * records deleted on the source before they were copied (SourceRecordsLost); a record the target refuses
 * (RecordRejected); and the throttle (bytes/s bounded). A fault blocks
 * its batch with its failure type, never fails the migration.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import * as realActivities from '../src/activities';
import type { MigrationSpec } from '../src/config/spec';
import type { BatchStatus, MigrationStatus, PartitionProgress } from '../src/types';
import { batchWorkflowId } from '../src/workflows/ids';
import { batchStatusQuery, statusQuery, waitsFor } from '../src/workflows/messages';
import type { MigrationResult } from '../src/workflows/migration';
import type { RealActivities } from './helpers/fakeActivities';
import { FollowRounds } from './helpers/followRounds';
import { cli } from './helpers/operator';
import { createOnSource, produceToSource } from './helpers/sourceTopics';
import { sourceAdminKafka, stackSpec, TARGET_BOOTSTRAP, targetKafka, uniqueSuffix } from './helpers/stack';
import { startWithPlanApproved } from './helpers/startMigration';
import { startTestWorker, type TestTemporal } from './helpers/temporal';
import { until } from './helpers/until';

/** Migrations whose next drain reports every partition one record short (an injected defect; see the test). */
const shortDrain = new Set<string>();
/** Migrations whose follow rounds wait until cancelled and then fail as a broker outage would (KafkaUnavailable). */
const failOnCancel = new Set<string>();
const failOnCancelStarted = new Set<string>();
async function failWhenCancelled(migration: string): Promise<never> {
  failOnCancelStarted.add(migration);
  const ctx = Context.current();
  for (;;) {
    ctx.heartbeat();
    if (ctx.cancellationSignal.aborted) throw ApplicationFailure.retryable('Connection error: connect ECONNREFUSED (the broker is down)', 'KafkaUnavailable');
    await new Promise((r) => setTimeout(r, 200));
  }
}
const follows = new FollowRounds();
const activities = {
  ...realActivities,
  copyRound: async (input: Parameters<RealActivities['copyRound']>[0]): Promise<PartitionProgress[]> => {
    if (input.mode === 'follow' && follows.stalled.has(input.migration)) return follows.stallUntilCancelled(input.migration);
    if (input.mode === 'follow' && failOnCancel.has(input.migration)) return failWhenCancelled(input.migration);
    if (input.mode === 'follow') return follows.counted(input.migration, () => realActivities.copyRound(input));
    const progress = await realActivities.copyRound(input);
    if (input.mode !== 'drain' || !shortDrain.delete(input.migration)) return progress;
    return progress.map((p) => ({ ...p, sourceNext: p.sourceNext - 1, lagRecords: p.lagRecords + 1 }));
  },
} satisfies Partial<RealActivities>;

let t: TestTemporal;
beforeAll(async () => {
  t = await startTestWorker({ activities });
});
afterAll(async () => {
  await t?.shutdown();
});

const q = () => t.settings.taskQueue;
const batchOf = (spec: MigrationSpec) => t.client.workflow.getHandle(batchWorkflowId(spec.name, 1, 'unassigned'));
const batchStatus = (spec: MigrationSpec) => batchOf(spec).query(batchStatusQuery);

function specFor(prefix: string, overrides: Record<string, unknown> = {}): MigrationSpec {
  return stackSpec({
    name: prefix,
    scope: { topics: [`${prefix.replace(/-/g, '\\-')}\\..*`], groups: [`${prefix.replace(/-/g, '\\-')}\\..*`] },
    thresholds: { capacitySampleSeconds: 1, quietPeriodSeconds: 1, readyMaxLagRecords: 0, readyMaxLagSeconds: 3600 },
    copy: { roundSeconds: 2, heartbeatTimeoutSeconds: 15 },
    cutover: { deleteTargetTopicsOnAbort: true },
    reports: { dir: mkdtempSync(join(tmpdir(), 'km-paths-')) },
    ...overrides,
  } as never);
}

async function ends(kafka: ReturnType<typeof sourceAdminKafka>, topic: string): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition).map((o) => Number(o.high));
  } finally {
    await admin.disconnect();
  }
}

const startApproved = (spec: MigrationSpec) => startWithPlanApproved(t, spec, 'paths-test');

const waitBatch = (spec: MigrationSpec, pred: (s: BatchStatus) => boolean, what: string, ms = 120_000) =>
  until(() => batchStatus(spec), pred, `${spec.name}: ${what}`, ms);

/** The batch blocks on `type` (never FAILED), and the migration shows the same block. */
async function expectBlocked(spec: MigrationSpec, h: WorkflowHandle, type: string, step?: string): Promise<NonNullable<BatchStatus['blocked']>> {
  const s = await waitBatch(spec, (x) => x.step === 'blocked', `the batch blocked on ${type}`);
  expect(s.blocked).toMatchObject({ type, ...(step ? { step } : {}) });
  expect(s.blocked!.actions).toEqual(expect.arrayContaining(['retry', 'abort']));
  const m = await until(
    () => h.query(statusQuery),
    (x: MigrationStatus) => x.phase === 'blocked',
    'the migration to show the block',
  );
  expect(m.blocked).toMatchObject({ batch: 1, type });
  expect((await h.describe()).status.name).toBe('RUNNING');
  return s.blocked!;
}

async function abortAndEnd(spec: MigrationSpec, h: WorkflowHandle): Promise<void> {
  expect(await cli(q(), 'abort', spec.name, '--by', 'paths-test', '--reason', 'end of the test')).toMatchObject({ code: 0 });
  expect(((await h.result()) as MigrationResult).outcome).toBe('aborted');
}

test('consumers-first: consumers move first (offsets translated), copying goes on until the producers move; exact', async () => {
  const name = `pcf-${uniqueSuffix()}`;
  const topic = `${name}.orders`;
  const group = `${name}.reader`;
  await createOnSource(topic, 2);
  await produceToSource(topic, 100, { partitions: 2 });
  const setup = sourceAdminKafka().admin();
  await setup.connect();
  await setup.setOffsets({
    groupId: group,
    topic,
    partitions: [
      { partition: 0, offset: '30' },
      { partition: 1, offset: '45' },
    ],
  });
  await setup.disconnect();
  const spec = specFor(name, { cutover: { strategy: 'consumers-first', deleteTargetTopicsOnAbort: true } });
  const h = await startApproved(spec);
  await waitBatch(spec, (s) => s.waitingFor?.signal === 'approveCutover', 'ready for cutover');
  expect(await cli(q(), 'approve', spec.name, '--step', 'cutover', '--by', 'paths-test')).toMatchObject({ code: 0 });
  // Consumers first: the batch asks for consumersStopped, not producersStopped.
  const atConsumers = await waitBatch(
    spec,
    (s) => s.waitingFor?.signal === 'consumersStopped' || s.waitingFor?.signal === 'producersStopped',
    'the first stop request',
  );
  expect(atConsumers.waitingFor?.signal).toBe('consumersStopped');
  expect(await cli(q(), 'consumers-stopped', spec.name, '--by', 'paths-test')).toMatchObject({ code: 0 });
  const moved = await waitBatch(
    spec,
    (s) => !!s.milestones.consumersMayMove && s.waitingFor?.signal === 'producersStopped',
    'consumers may move, producers still on the source',
    60_000,
  );
  expect(moved.milestones.clientsMayMove).toBeUndefined();
  // The group's offsets are on the target (identical offsets: a plain topic copies one to one).
  const tAdmin = targetKafka().admin();
  await tAdmin.connect();
  try {
    const [committed] = await tAdmin.fetchOffsets({ groupId: group, topics: [topic] });
    expect(committed.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset)).toEqual(['30', '45']);
  } finally {
    await tAdmin.disconnect();
  }
  // The producers still write to the source: those records are copied before they move.
  await produceToSource(topic, 40, { partitions: 2, tag: 'late' });
  expect(await cli(q(), 'producers-stopped', spec.name, '--by', 'paths-test')).toMatchObject({ code: 0 });
  const result = (await h.result()) as MigrationResult;
  expect(result.outcome).toBe('completed');
  expect(result.status.batches[0]).toMatchObject({ state: 'completed', verification: { ok: true, mismatchCount: 0 } });
  expect(await ends(targetKafka(), topic)).toEqual([70, 70]);
  const b = await batchStatus(spec);
  expect(Object.keys(b.milestones)).toEqual(
    expect.arrayContaining(['consumersStopped', 'consumersMayMove', 'producersStopped', 'drained', 'clientsMayMove', 'verified']),
  );
  expect(Date.parse(b.milestones.consumersMayMove)).toBeLessThan(Date.parse(b.milestones.producersStopped));
}, 150_000);

test('a follow round that fails while being cancelled (a broker down as approveCutover arrived) is over, not a block; the cutover completes exactly', async () => {
  const name = `pfc-${uniqueSuffix()}`;
  const topic = `${name}.events`;
  await createOnSource(topic, 2);
  await produceToSource(topic, 40, { partitions: 2 });
  const spec = specFor(name);
  const h = await startApproved(spec);
  await waitBatch(spec, (s) => s.waitingFor?.signal === 'approveCutover', 'ready for cutover');
  // The next follow round fails once cancelled: Temporal does not retry a cancel-requested activity.
  failOnCancel.add(spec.name);
  await until(
    async () => failOnCancelStarted.has(spec.name),
    (ok) => ok,
    'a follow round that fails when cancelled',
    60_000,
  );
  expect(await cli(q(), 'approve', spec.name, '--step', 'cutover', '--by', 'paths-test')).toMatchObject({ code: 0 });
  const waiting = await waitBatch(
    spec,
    (s) => waitsFor(s.waitingFor, 'producersStopped') || s.step === 'blocked',
    'waiting for producersStopped (not blocked)',
  );
  failOnCancel.delete(spec.name);
  expect(waiting.step).toBe('awaiting-producers-stopped');
  expect(waiting.notes.join('\n')).toMatch(/a follow round cancelled by approveCutover failed while stopping \(.*the broker is down.*\): it is over/);
  await produceToSource(topic, 10, { partitions: 2, tag: 'late' });
  expect(await cli(q(), 'producers-stopped', spec.name, '--by', 'paths-test')).toMatchObject({ code: 0 });
  await waitBatch(spec, (s) => waitsFor(s.waitingFor, 'consumersStopped'), 'drained, waiting for consumersStopped', 60_000);
  expect(await cli(q(), 'consumers-stopped', spec.name, '--by', 'paths-test')).toMatchObject({ code: 0 });
  const result = (await h.result()) as MigrationResult;
  expect(result.outcome).toBe('completed');
  expect(result.status.batches[0]).toMatchObject({ state: 'completed', verification: { ok: true, mismatchCount: 0 } });
  expect(await ends(targetKafka(), topic)).toEqual([25, 25]);
  expect((await batchStatus(spec)).decisions.map((d) => d.kind)).not.toContain('retry');
}, 150_000);

test('a drain that ends short of the captured end offsets blocks the batch (DrainIncomplete, naming the partitions); retry drains and completes', async () => {
  const name = `pdi-${uniqueSuffix()}`;
  const topic = `${name}.events`;
  await createOnSource(topic, 2);
  await produceToSource(topic, 60, { partitions: 2 });
  const spec = specFor(name);
  const h = await startApproved(spec);
  await waitBatch(spec, (s) => s.waitingFor?.signal === 'approveCutover', 'ready for cutover');
  expect(await cli(q(), 'approve', spec.name, '--step', 'cutover', '--by', 'paths-test')).toMatchObject({ code: 0 });
  await waitBatch(spec, (s) => waitsFor(s.waitingFor, 'producersStopped'), 'waiting for producersStopped');
  // The drain copies only partitions the last completed round left behind: hold the follow rounds back, then write,
  // so that both partitions are behind the end offsets the quiet check captures.
  await follows.holdBack(spec.name);
  await produceToSource(topic, 10, { partitions: 2, tag: 'late' });
  shortDrain.add(spec.name); // the next drain reports each partition one record short of where it got to
  expect(await cli(q(), 'producers-stopped', spec.name, '--by', 'paths-test')).toMatchObject({ code: 0 });
  const blocked = await expectBlocked(spec, h, 'DrainIncomplete', 'draining');
  follows.release(spec.name);
  expect(blocked.error).toMatch(/drain ended with 2 partitions behind the captured end offsets/);
  expect(JSON.stringify(blocked)).toContain(`${topic}:0`);
  expect(JSON.stringify(blocked)).toContain(`${topic}:1`);
  expect((await batchStatus(spec)).milestones.drained).toBeUndefined();
  expect(await cli(q(), 'retry', spec.name, '--by', 'paths-test', '--reason', 'drain again')).toMatchObject({ code: 0 });
  await waitBatch(spec, (s) => s.waitingFor?.signal === 'consumersStopped', 'drained, waiting for consumersStopped', 60_000);
  expect(await cli(q(), 'consumers-stopped', spec.name, '--by', 'paths-test')).toMatchObject({ code: 0 });
  const result = (await h.result()) as MigrationResult;
  expect(result.outcome).toBe('completed');
  expect(result.status.batches[0]).toMatchObject({ state: 'completed', verification: { ok: true, mismatchCount: 0 } });
  expect(await ends(targetKafka(), topic)).toEqual([35, 35]);
}, 150_000);

test('records deleted on the source before they were copied block the batch (SourceRecordsLost), never a silent gap; the throttle bounds the copy rate', async () => {
  const name = `psl-${uniqueSuffix()}`;
  const topic = `${name}.slow`;
  const RATE = 50_000; // bytes/s
  const FETCH = 16_384; // copy.maxBatchBytes: one fetch per partition
  await createOnSource(topic, 1);
  await produceToSource(topic, 300, { bytes: 2_000, perSend: 4 }); // ~600 KB in 8 KB record batches: about 12 s at the throttle
  const spec = specFor(name, { copy: { roundSeconds: 2, heartbeatTimeoutSeconds: 15, throttleBytesPerSecond: RATE, maxBatchBytes: FETCH } });
  const approvedAt = Date.now();
  const h = await startApproved(spec);
  // The throttle: whatever has been copied by a given moment is at most the rate since the plan was approved
  // (before the copy could start), plus one second of burst and the fetch that went into debt (a fetch holds
  // at most maxBatchBytes, or one record batch: 8 kB here). Slower machines only copy less.
  const copying = await waitBatch(spec, (s) => s.rounds >= 2 && s.totals.bytesCopied > 0, 'two throttled rounds', 60_000);
  const seconds = (Date.now() - approvedAt) / 1000;
  console.log(
    `throttle ${RATE} B/s: ${copying.totals.bytesCopied} bytes copied ${seconds.toFixed(1)} s after the plan approval (${Math.round(copying.totals.bytesCopied / seconds)} B/s)`,
  );
  expect(copying.totals.bytesCopied).toBeLessThanOrEqual(RATE * seconds + RATE + 2 * FETCH);
  expect(copying.totals.recordsCopied).toBeLessThan(300); // still copying: the rest is still on the source
  // Retention (here deleteRecords) removes every record the copy has not reached yet.
  const admin = sourceAdminKafka().admin();
  await admin.connect();
  try {
    await admin.fetchTopicMetadata({ topics: [topic] }); // kafkajs deletes records only of topics it has metadata of
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '-1' }] });
  } finally {
    await admin.disconnect();
  }
  const blocked = await expectBlocked(spec, h, 'SourceRecordsLost');
  expect(blocked.error).toMatch(new RegExp(`source partition ${topic.replace(/\./g, '\\.')}:0.*(deleted|no longer on the source)`));
  await abortAndEnd(spec, h);
}, 150_000);

test('a record larger than the target topic accepts blocks the batch (RecordRejected, saying what to raise); raised, retry copies it', async () => {
  const name = `prr-${uniqueSuffix()}`;
  const topic = `${name}.big`;
  await createOnSource(topic, 1);
  await produceToSource(topic, 5);
  await produceToSource(topic, 1, { bytes: 300_000, tag: 'big' });
  // The target topic exists, empty, with a 100 kB limit: adopted (adopt-if-empty), its limit kept.
  const tAdmin = targetKafka().admin();
  await tAdmin.connect();
  try {
    await tAdmin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '100000' }] }] });
    const spec = specFor(name, { target: { bootstrapServers: [TARGET_BOOTSTRAP], securityProtocol: 'PLAINTEXT', existingTopicPolicy: 'adopt-if-empty' } });
    const h = await startApproved(spec);
    const blocked = await expectBlocked(spec, h, 'RecordRejected');
    expect(blocked.error).toMatch(/raise max\.message\.bytes on the target topic/);
    expect(blocked.error).toMatch(/from source offset 5/);
    expect(await ends(targetKafka(), topic)).toEqual([5]); // the records before it are copied, nothing after
    await tAdmin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: topic, configEntries: [{ name: 'max.message.bytes', value: '1048588' }] }] });
    expect(await cli(q(), 'retry', spec.name, '--by', 'paths-test', '--reason', 'limit raised')).toMatchObject({ code: 0 });
    await waitBatch(spec, (s) => s.waitingFor?.signal === 'approveCutover', 'caught up after the retry', 60_000);
    expect(await ends(targetKafka(), topic)).toEqual([6]);
    await abortAndEnd(spec, h);
  } finally {
    await tAdmin.disconnect();
  }
}, 150_000);
