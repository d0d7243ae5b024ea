/**
 * Recovering a migration, on the real stack (real Temporal dev server, real brokers, the real activities):
 * a cancellation requested from Temporal is an abort (rolled back, the workflow COMPLETES as aborted), and a
 * migration whose run was lost (terminated) is resumed with `kafka-migrate resume`: the batches it finished are
 * adopted from the batch ledger, the others continue from the durable checkpoints, every record exactly once.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { createTopicsReady } from '../src/kafka/topicsReady';
import { loadOffsetMap } from '../src/copy/loadOffsetMap';
import { translateOffset } from '../src/copy/translateOffset';
import type { MigrationSpec } from '../src/config/spec';
import type { BatchStatus, MigrationStatus, VerificationReport } from '../src/types';
import { batchFileStem, batchWorkflowId, migrationWorkflowId } from '../src/workflows/ids';
import { batchStatusQuery, statusQuery } from '../src/workflows/messages';
import type { MigrationResult } from '../src/workflows/migration';
import { cli, createSourceTopic } from './helpers/operator';
import { sourceAdminKafka, stackSpec, targetKafka, uniqueSuffix, targetTopicNames } from './helpers/stack';
import { startTestWorker, type TestTemporal } from './helpers/temporal';
import { until } from './helpers/until';

let t: TestTemporal;
beforeAll(async () => {
  t = await startTestWorker();
});
afterAll(async () => {
  await t?.shutdown();
});

const batchStatus = (client: Client, id: string) => client.workflow.getHandle(id).query(batchStatusQuery);
const migrationStatus = (client: Client, id: string) => client.workflow.getHandle(id).query(statusQuery);

/**
 * Waits until the migration asks for `signal`. Every migration here migrates topics of its own: the preflight has
 * nothing to fail on (on resume the target-state check recognises the migration's own copies), so a wait for
 * overridePreflight, or a block, fails the test at once.
 */
async function waitForAction(id: string, name: string, signal: string, timeoutMs = 120_000): Promise<MigrationStatus> {
  const s = await until(
    () => migrationStatus(t.client, id),
    (x) => x.waitingFor?.signal === signal || x.waitingFor?.signal === 'overridePreflight' || x.phase === 'blocked' || x.phase === 'failed',
    `${name} waiting for ${signal}`,
    timeoutMs,
  );
  expect({ phase: s.phase, waitingFor: s.waitingFor?.signal, preflightFailures: s.preflight?.checks.filter((c) => c.verdict === 'fail') }).toMatchObject({
    waitingFor: signal,
    preflightFailures: [],
  });
  return s;
}

function smallSpec(name: string, reportsDir: string): MigrationSpec {
  return stackSpec({
    name,
    scope: { topics: [`${name}\\..*`], groups: [`${name}\\..*`] },
    thresholds: { capacitySampleSeconds: 1, quietPeriodSeconds: 1 },
    copy: { roundSeconds: 2, heartbeatTimeoutSeconds: 15 },
    cutover: { deleteTargetTopicsOnAbort: true },
    reports: { dir: reportsDir },
  } as never);
}

/** Starts a one-topic migration, approves its plan and waits until its batch has copied a round. */
async function migrationCopying(label: string): Promise<{ spec: MigrationSpec; handle: WorkflowHandle; batchId: string; topic: string }> {
  const name = `rc${label}-${uniqueSuffix()}`;
  const topic = `${name}.orders`;
  await createSourceTopic(topic, 20);
  const spec = smallSpec(name, mkdtempSync(join(tmpdir(), 'km-recovery-')));
  const id = migrationWorkflowId(name);
  const handle = await t.client.workflow.start('migrationWorkflow', { taskQueue: t.settings.taskQueue, workflowId: id, args: [{ spec }] });
  const atPlan = await waitForAction(id, name, 'approvePlan|rejectPlan');
  expect(atPlan.plan!.batches.map((b) => b.topics.map((x) => x.name))).toEqual([[topic]]);
  expect(await cli(t.settings.taskQueue, 'approve', id, '--step', 'plan', '--by', 'x')).toMatchObject({ code: 0 });
  const batchId = batchWorkflowId(name, 1, atPlan.plan!.batches[0].name);
  // Copying: at least one follow round done (the batch keeps copying while it waits for the cutover approval).
  await until(
    () => batchStatus(t.client, batchId),
    (b: BatchStatus) => b.rounds >= 1 && (b.step === 'copying' || b.step === 'awaiting-cutover-approval'),
    `${batchId} copying`,
    90_000,
  );
  expect(await targetTopicNames()).toContain(topic);
  return { spec, handle, batchId, topic };
}

test('cancellation from the Temporal client API is an abort (of the migration and of a batch)', async () => {
  // Two migrations at once: one cancelled at the migration workflow, one at its batch workflow.
  const [m, b] = await Promise.all([migrationCopying('m'), migrationCopying('b')]);
  await Promise.all([m.handle.cancel(), t.client.workflow.getHandle(b.batchId).cancel()]);

  // Cancelling the migration: the abort is forwarded to the batch, which rolls back; the migration COMPLETES.
  const rm = (await m.handle.result()) as MigrationResult;
  expect(rm.outcome).toBe('aborted');
  expect((await m.handle.describe()).status.name).toBe('COMPLETED');
  expect(rm.status.phase).toBe('aborted');
  expect(rm.status.decisions).toEqual(
    expect.arrayContaining([expect.objectContaining({ kind: 'abort', by: 'temporal', reason: 'cancelled from Temporal', accepted: true })]),
  );
  expect(rm.status.batches.map((x) => x.state)).toEqual(['aborted']);
  const mBatch = t.client.workflow.getHandle(m.batchId);
  expect((await mBatch.describe()).status.name).toBe('COMPLETED');
  const mBatchStatus = await mBatch.query(batchStatusQuery);
  expect(mBatchStatus.step).toBe('aborted');
  expect(mBatchStatus.decisions).toEqual(
    expect.arrayContaining([expect.objectContaining({ kind: 'abort', by: 'temporal', reason: 'cancelled from Temporal', accepted: true })]),
  );

  // Cancelling the batch workflow itself: the batch rolls back and completes as aborted; so does the migration.
  const rb = (await b.handle.result()) as MigrationResult;
  expect(rb.outcome).toBe('aborted');
  expect((await b.handle.describe()).status.name).toBe('COMPLETED');
  expect(rb.status.batches.map((x) => x.state)).toEqual(['aborted']);
  expect(rb.status.batches[0].decisions).toEqual(
    expect.arrayContaining([expect.objectContaining({ kind: 'abort', by: 'temporal', reason: 'cancelled from Temporal', accepted: true })]),
  );
  const bBatch = t.client.workflow.getHandle(b.batchId);
  expect((await bBatch.describe()).status.name).toBe('COMPLETED');
  expect(await bBatch.result()).toMatchObject({ outcome: 'aborted' });

  // Rolled back: the target topics both migrations created are deleted (deleteTargetTopicsOnAbort).
  const left = await targetTopicNames();
  expect(left).not.toContain(m.topic);
  expect(left).not.toContain(b.topic);
}, 200_000);

/** Creates a topic on the source and writes `perPartition` keyed records to each partition. */
async function seedTopic(topic: string, partitions: number, perPartition: number, from = 0): Promise<void> {
  const kafka = sourceAdminKafka();
  if (from === 0) {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await createTopicsReady(admin, [{ topic, numPartitions: partitions, replicationFactor: 1 }]);
    } finally {
      await admin.disconnect();
    }
  }
  const producer = kafka.producer({ retry: { retries: 10, initialRetryTime: 300 } });
  await producer.connect();
  try {
    for (let p = 0; p < partitions; p++) {
      const messages = Array.from({ length: perPartition }, (_, i) => ({ key: `k${p}-${from + i}`, value: `${topic} p${p} #${from + i}`, partition: p }));
      await producer.send({ topic, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

async function commitSourceOffsets(groupId: string, topic: string, offsets: number[]): Promise<void> {
  const admin = sourceAdminKafka().admin();
  await admin.connect();
  try {
    await admin.setOffsets({ groupId, topic, partitions: offsets.map((offset, partition) => ({ partition, offset: String(offset) })) });
  } finally {
    await admin.disconnect();
  }
}

async function endOffsets(kafka: ReturnType<typeof targetKafka>, topic: string): Promise<{ low: number; high: number }[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const o = await admin.fetchTopicOffsets(topic);
    return o.sort((a, b) => a.partition - b.partition).map((x) => ({ low: Number(x.low), high: Number(x.high) }));
  } finally {
    await admin.disconnect();
  }
}

async function groupOffsets(kafka: ReturnType<typeof targetKafka>, groupId: string, topic: string): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [r] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return r.partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
  } finally {
    await admin.disconnect();
  }
}

/** approve cutover, producers-stopped, consumers-stopped through the CLI, once the batch asks for each. */
async function cutOverByCli(name: string, batchId: string): Promise<void> {
  const q = t.settings.taskQueue;
  const step = (s: string) =>
    until(
      () => batchStatus(t.client, batchId),
      (b: BatchStatus) => b.step === s,
      `${batchId} at ${s}`,
      90_000,
    );
  await step('awaiting-cutover-approval');
  expect(await cli(q, 'approve', name, '--step', 'cutover', '--by', 'x')).toMatchObject({ code: 0 });
  await step('awaiting-producers-stopped');
  expect(await cli(q, 'producers-stopped', name, '--by', 'x')).toMatchObject({ code: 0 });
  await step('awaiting-consumers-stopped');
  expect(await cli(q, 'consumers-stopped', name, '--by', 'x')).toMatchObject({ code: 0 });
}

test('resume adopts finished batches and continues the rest exactly', async () => {
  const q = t.settings.taskQueue;
  const name = `rcr-${uniqueSuffix()}`;
  const id = migrationWorkflowId(name);
  const alpha = `${name}.alpha.events`;
  const beta = `${name}.beta.orders`;
  const alphaGroup = `${name}.alpha-reader`;
  const betaGroup = `${name}.beta-reader`;
  await Promise.all([seedTopic(alpha, 2, 150), seedTopic(beta, 2, 200)]);
  await commitSourceOffsets(alphaGroup, alpha, [100, 120]);
  await commitSourceOffsets(betaGroup, beta, [150, 37]);

  const dir = mkdtempSync(join(tmpdir(), 'km-resume-'));
  const reportsDir = join(dir, 'reports');
  const spec = stackSpec({
    name,
    scope: { topics: [`${name}\\..*`], groups: [`${name}\\..*`] },
    businessSystems: [
      { name: 'alpha', priority: 'non-core', topics: { prefix: [`${name}.alpha.`] }, groups: { prefix: [`${name}.alpha`] } },
      { name: 'beta', priority: 'core', topics: { prefix: [`${name}.beta.`] }, groups: { prefix: [`${name}.beta`] } },
    ],
    thresholds: { capacitySampleSeconds: 1, quietPeriodSeconds: 1 },
    copy: { roundSeconds: 2, heartbeatTimeoutSeconds: 15 },
    reports: { dir: reportsDir },
  } as never);
  // The spec as a file, the way an operator keeps it (JSON is YAML too).
  const specFile = join(dir, 'spec.json');
  writeFileSync(specFile, JSON.stringify(spec, null, 2));

  // ------------------------------------------------------------------ run 1: batch 1 done, batch 2 copying, then lost
  expect(await cli(q, 'start', '-f', specFile)).toMatchObject({ code: 0 });
  const atPlan = await waitForAction(id, name, 'approvePlan|rejectPlan');
  expect(atPlan.plan!.batches.map((b) => [b.number, b.name, b.topics.map((x) => x.name), b.groups])).toEqual([
    [1, 'alpha', [alpha], [alphaGroup]],
    [2, 'beta', [beta], [betaGroup]],
  ]);
  const batch1 = batchWorkflowId(name, 1, 'alpha');
  const batch2 = batchWorkflowId(name, 2, 'beta');
  expect(await cli(q, 'approve', id, '--step', 'plan', '--by', 'x')).toMatchObject({ code: 0 });
  await cutOverByCli(name, batch1);
  await waitForAction(id, name, 'approveBatch');
  const batch1Run = (await t.client.workflow.getHandle(batch1).describe()).runId;
  expect(await batchStatus(t.client, batch1)).toMatchObject({ step: 'completed' });
  expect(await cli(q, 'approve', id, '--step', 'batch', '--by', 'x')).toMatchObject({ code: 0 });
  const copied = await until(
    () => batchStatus(t.client, batch2),
    (b: BatchStatus) => b.rounds >= 1 && b.totals.recordsCopied > 0,
    `${batch2} copied a round`,
    90_000,
  );
  expect(copied.milestones.clientsMayMove).toBeUndefined();
  await t.client.workflow.getHandle(id).terminate('test: lost');
  // ParentClosePolicy TERMINATE (applied by the server shortly after the parent closed).
  const lostRun = await until(
    () => t.client.workflow.getHandle(batch2).describe(),
    (d) => d.status.name === 'TERMINATED',
    `${batch2} terminated with its migration`,
  );
  // Written while no run supervises the migration: the resumed copy must pick these up from its checkpoints.
  await seedTopic(beta, 2, 60, 200);

  // ------------------------------------------------------------------ a plain start of the same name is refused
  const again = await cli(q, 'start', '-f', specFile);
  expect(again.code).toBe(2);
  expect(again.err).toContain(`kafka-migrate resume ${name}`);

  // ------------------------------------------------------------------ run 2: resume
  const resumed = await cli(q, 'resume', name, '-f', specFile);
  expect(resumed).toMatchObject({ code: 0, err: '' });
  expect(resumed.out).toContain(`resumed ${id}`);
  const running = await cli(q, 'resume', name, '-f', specFile);
  expect(running.code).toBe(3);
  expect(running.err).toMatch(/still running/);

  const resumedAtPlan = await waitForAction(id, name, 'approvePlan|rejectPlan');
  // The preflight of the resumed run met both topics on the target and recognised them as the migration's own.
  const targetState = resumedAtPlan.preflight!.checks.find((c) => c.id === 'target-state')!;
  expect(targetState.summary).toContain("2 in-scope topic(s) on the target are this migration's own copies");
  expect(targetState.summary).toContain(alpha);
  expect(targetState.summary).toContain(beta);
  expect(targetState.verdict).toBe('pass');
  expect(await cli(q, 'approve', id, '--step', 'plan', '--by', 'x')).toMatchObject({ code: 0 });
  // Batch 1 is adopted (completed, not run again); batch 2 is the first to start in this run: it waits for approveBatch.
  const atBatch = await waitForAction(id, name, 'approveBatch');
  expect(atBatch.resumedFrom?.adoptedBatches).toEqual([1]);
  expect(atBatch.batches.map((b) => [b.number, b.state])).toEqual([
    [1, 'completed'],
    [2, 'pending'],
  ]);
  expect(await cli(q, 'approve', id, '--step', 'batch', '--by', 'x')).toMatchObject({ code: 0 });
  // Until the new run of batch 2 starts, its workflow id still answers queries from the terminated run.
  await until(
    () => t.client.workflow.getHandle(batch2).describe(),
    (d) => d.status.name === 'RUNNING' && d.runId !== lostRun.runId,
    `a new run of ${batch2}`,
  );
  await cutOverByCli(name, batch2);
  const result = (await t.client.workflow.getHandle(id).result()) as MigrationResult;
  expect(result.outcome).toBe('completed');
  expect(result.status.batches.map((b) => [b.number, b.state])).toEqual([
    [1, 'completed'],
    [2, 'completed'],
  ]);
  expect(result.status.resumedFrom).toEqual({ runsBefore: 1, adoptedBatches: [1] });

  // Batch 1 ran once, in run 1: the same single run of its workflow id.
  const batch1Runs: string[] = [];
  for await (const w of t.client.workflow.list({ query: `WorkflowId = '${batch1}'` })) batch1Runs.push(w.runId);
  expect(batch1Runs).toEqual([batch1Run]);
  // Batch 2: the terminated run and the resumed one, which created nothing (the topic was recognised as its own).
  const batch2Runs: string[] = [];
  for await (const w of t.client.workflow.list({ query: `WorkflowId = '${batch2}'` })) batch2Runs.push(w.status.name);
  expect(batch2Runs.sort()).toEqual(['COMPLETED', 'TERMINATED']);
  const b2 = await batchStatus(t.client, batch2);
  expect(b2.step).toBe('completed');
  expect(b2.verification).toEqual({ ok: true, mismatchCount: 0 });

  // Every record on the target exactly once: per partition the same range as the source.
  const source = sourceAdminKafka();
  const target = targetKafka();
  for (const topic of [alpha, beta]) {
    const [s, d] = await Promise.all([endOffsets(source, topic), endOffsets(target, topic)]);
    expect(d).toEqual(s);
  }
  expect((await endOffsets(target, beta)).map((o) => o.high)).toEqual([260, 260]);
  for (const b of result.status.batches) {
    const report = JSON.parse(readFileSync(join(reportsDir, name, `${batchFileStem(b.number, b.name, 'verification')}.json`), 'utf8')) as VerificationReport;
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
  }

  // Group offsets translated: each target offset is the translation of the source's committed offset.
  for (const [group, topic, committed] of [
    [alphaGroup, alpha, [100, 120]],
    [betaGroup, beta, [150, 37]],
  ] as const) {
    const expected = await Promise.all(committed.map(async (offset, p) => translateOffset(await loadOffsetMap(spec.target, name, topic, p), offset)));
    expect(await groupOffsets(target, group, topic)).toEqual(expected);
    expect(expected).toEqual([...committed]);
  }

  // Ended: resume again is possible (nothing left to do is its business), a plain start is still refused.
  const late = await cli(q, 'start', '-f', specFile);
  expect(late.code).toBe(2);
  expect(late.err).toContain('resume');
}, 240_000);

test('resume after an abort that deleted the target topics copies them afresh, exactly once', async () => {
  const q = t.settings.taskQueue;
  const name = `rca-${uniqueSuffix()}`;
  const id = migrationWorkflowId(name);
  const topic = `${name}.orders`;
  await seedTopic(topic, 2, 300);
  const dir = mkdtempSync(join(tmpdir(), 'km-resume-abort-'));
  const spec = smallSpec(name, join(dir, 'reports'));
  const specFile = join(dir, 'spec.json');
  writeFileSync(specFile, JSON.stringify(spec, null, 2));

  // ------------------------------------------------------------------ run 1: copying, then aborted (target deleted)
  expect(await cli(q, 'start', '-f', specFile)).toMatchObject({ code: 0 });
  const atPlan = await waitForAction(id, name, 'approvePlan|rejectPlan');
  const batchId = batchWorkflowId(name, 1, atPlan.plan!.batches[0].name);
  expect(await cli(q, 'approve', id, '--step', 'plan', '--by', 'x')).toMatchObject({ code: 0 });
  await until(
    () => batchStatus(t.client, batchId),
    (b: BatchStatus) => b.totals.recordsCopied >= 600,
    `${batchId} copied everything`,
    90_000,
  );
  expect(await cli(q, 'abort', name, '--by', 'x', '--reason', 'start over')).toMatchObject({ code: 0 });
  const aborted = (await t.client.workflow.getHandle(id).result()) as MigrationResult;
  expect(aborted.outcome).toBe('aborted');
  expect(await targetTopicNames()).not.toContain(topic);
  // Its checkpoints are forgotten with it: nothing of the topic is left in the offset store.
  expect((await loadOffsetMap(spec.target, name, topic, 0)).checkpoint).toBeNull();
  expect((await loadOffsetMap(spec.target, name, topic, 1)).checkpoint).toBeNull();
  await seedTopic(topic, 2, 50, 300);

  // ------------------------------------------------------------------ run 2: resume; the topic is created and copied again
  expect(await cli(q, 'resume', name, '-f', specFile)).toMatchObject({ code: 0 });
  await waitForAction(id, name, 'approvePlan|rejectPlan');
  expect(await cli(q, 'approve', id, '--step', 'plan', '--by', 'x')).toMatchObject({ code: 0 });
  // Batch 1 was aborted, not finished: nothing is adopted and it starts at once (a first batch needs no approveBatch).
  await cutOverByCli(name, batchId);
  const result = (await t.client.workflow.getHandle(id).result()) as MigrationResult;
  expect(result.outcome).toBe('completed');
  expect(result.status.resumedFrom).toEqual({ runsBefore: 1, adoptedBatches: [] });
  const b = await batchStatus(t.client, batchId);
  expect(b.verification).toEqual({ ok: true, mismatchCount: 0 });
  expect(b.notes.join('\n')).not.toMatch(/TargetTruncated/);
  const [s, d] = await Promise.all([endOffsets(sourceAdminKafka(), topic), endOffsets(targetKafka(), topic)]);
  expect(d).toEqual(s);
  expect(d.map((o) => o.high)).toEqual([350, 350]);
}, 240_000);
