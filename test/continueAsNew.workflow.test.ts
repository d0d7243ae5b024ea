/**
 * continue-as-new of the batch workflow, forced everywhere: with spec.workflow.continueAsNewAfterEvents 1 the
 * batch continues as new at every safe point (between two steps, between two follow rounds). The test checks that
 * runs began mid-copy, while the write fence was applied, after the drain targets were set and between
 * producersStopped and consumersStopped, that each carried the state it needed (decisions, fence, drain targets,
 * notes), and that the cutover still completes exactly: every record once, group offsets translated, fence lifted.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BatchStatus } from '../src/types';
import { batchWorkflowId, migrationWorkflowId } from '../src/workflows/ids';
import { batchStatusQuery, statusQuery } from '../src/workflows/messages';
import type { MigrationResult } from '../src/workflows/migration';
import { loadOffsetMap } from '../src/copy/loadOffsetMap';
import { translateOffset } from '../src/copy/translateOffset';
import { createTopicsReady } from '../src/kafka/topicsReady';
import { fenceAclFor, toExactFilter } from '../src/cutover/fenceAcl';
import { cli, waitForOperatorWait } from './helpers/operator';
import { SOURCE_ADMIN_BOOTSTRAP, sourceAdminKafka, stackSpec, targetKafka, uniqueSuffix } from './helpers/stack';
import { startTestWorker, type TestTemporal } from './helpers/temporal';
import { until } from './helpers/until';

let t: TestTemporal;
beforeAll(async () => {
  t = await startTestWorker();
});
afterAll(async () => {
  await t?.shutdown();
});

/** What a run of the batch workflow started with: the state its predecessor carried over (none for the first). */
interface CarriedAtStart {
  step?: string;
  rounds?: number;
  fencedTopics?: string[];
  drainTo?: Record<string, number>;
  milestones?: Record<string, string>;
  decisions?: { kind: string }[];
  notes?: string[];
}

async function runsOf(workflowId: string): Promise<CarriedAtStart[]> {
  const runs: { runId: string; start: Date }[] = [];
  for await (const w of t.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ runId: w.runId, start: w.startTime });
  runs.sort((a, b) => a.start.getTime() - b.start.getTime());
  const out: CarriedAtStart[] = [];
  for (const r of runs) {
    const history = await t.client.workflow.getHandle(workflowId, r.runId).fetchHistory();
    const payload = history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0];
    const input = JSON.parse(Buffer.from(payload.data!).toString('utf8')) as {
      carried?: { status: BatchStatus; fencedTopics: string[]; drainTo?: Record<string, number> };
    };
    const c = input.carried;
    out.push(
      c
        ? {
            step: c.status.step,
            rounds: c.status.rounds,
            fencedTopics: c.fencedTopics,
            drainTo: c.drainTo,
            milestones: c.status.milestones,
            decisions: c.status.decisions,
            notes: c.status.notes,
          }
        : {},
    );
  }
  return out;
}

async function seed(topic: string, partitions: number, perPartition: number): Promise<void> {
  const kafka = sourceAdminKafka();
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsReady(admin, [{ topic, numPartitions: partitions, replicationFactor: 1 }]);
    await admin.setOffsets({
      groupId: `${topic}-reader`,
      topic,
      partitions: Array.from({ length: partitions }, (_, p) => ({ partition: p, offset: String(40 + p) })),
    });
  } finally {
    await admin.disconnect();
  }
  await produce(topic, partitions, perPartition, 0);
}

async function produce(topic: string, partitions: number, perPartition: number, from: number): Promise<void> {
  const producer = sourceAdminKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let p = 0; p < partitions; p++) {
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: perPartition }, (_, i) => ({ key: `k${from + i}`, value: `${topic}-${p}-${from + i}`, partition: p })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

test('continue-as-new at every safe point: mid-copy, fenced, after drainTo, between producersStopped and consumersStopped; the cutover is exact', async () => {
  const q = t.settings.taskQueue;
  const name = `can-${uniqueSuffix()}`;
  const topic = `${name}.orders`;
  const group = `${topic}-reader`;
  await seed(topic, 2, 120);
  const spec = stackSpec({
    name,
    // The super-user listener: the migrator user of the stack may not create ACLs, and the write fence needs to.
    source: { bootstrapServers: [SOURCE_ADMIN_BOOTSTRAP], securityProtocol: 'PLAINTEXT' },
    scope: { topics: [`${name}\\..*`], groups: [`${name}\\..*`] },
    thresholds: { capacitySampleSeconds: 1, quietPeriodSeconds: 1 },
    copy: { roundSeconds: 1, heartbeatTimeoutSeconds: 15 },
    cutover: { fenceWithAcl: true },
    workflow: { continueAsNewAfterEvents: 1 },
    reports: { dir: mkdtempSync(join(tmpdir(), 'km-can-')) },
  } as never);
  const id = migrationWorkflowId(name);
  const handle = await t.client.workflow.start('migrationWorkflow', { taskQueue: q, workflowId: id, args: [{ spec }] });
  const atPlan = await waitForOperatorWait(t.client, id);
  expect(atPlan.waitingFor?.signal).toBe('approvePlan|rejectPlan');
  expect(atPlan.preflight?.verdict).not.toBe('fail');
  expect(atPlan.plan!.batches.map((b) => b.groups)).toEqual([[group]]);
  const batchId = batchWorkflowId(name, 1, atPlan.plan!.batches[0].name);
  expect(await cli(q, 'approve', id, '--step', 'plan', '--by', 'can-test')).toMatchObject({ code: 0 });

  const step = (s: string) =>
    until(
      () => t.client.workflow.getHandle(batchId).query(batchStatusQuery),
      (b: BatchStatus) => b.step === s,
      `${batchId} at ${s}`,
      120_000,
    );
  // A few follow rounds (each in its own run) before the cutover starts.
  await until(
    () => t.client.workflow.getHandle(batchId).query(batchStatusQuery),
    (b: BatchStatus) => b.rounds >= 3,
    `${batchId} three rounds`,
    120_000,
  );
  await step('awaiting-cutover-approval');
  // Mid-copy: records written while the follow rounds run, each round in a run of its own.
  const before = (await t.client.workflow.getHandle(batchId).query(batchStatusQuery)).rounds;
  await produce(topic, 2, 100, 120);
  await until(
    () => t.client.workflow.getHandle(batchId).query(batchStatusQuery),
    (b: BatchStatus) => b.rounds >= before + 3 && b.totals.recordsCopied === 440,
    `${batchId} copied the new records`,
    120_000,
  );
  expect(await cli(q, 'approve', id, '--step', 'cutover', '--by', 'can-test')).toMatchObject({ code: 0, err: '' });
  await step('awaiting-producers-stopped');
  expect(await cli(q, 'producers-stopped', id, '--by', 'can-test')).toMatchObject({ code: 0, err: '' });
  await step('awaiting-consumers-stopped');
  expect(await cli(q, 'consumers-stopped', id, '--by', 'can-test')).toMatchObject({ code: 0, err: '' });
  const result = (await handle.result()) as MigrationResult;
  expect(result.outcome).toBe('completed');

  const final = await t.client.workflow.getHandle(batchId).query(batchStatusQuery);
  expect(final.step).toBe('completed');
  expect(final.verification).toEqual({ ok: true, mismatchCount: 0 });
  expect(final.decisions.map((d) => d.kind)).toEqual(expect.arrayContaining(['approveCutover', 'producersStopped', 'consumersStopped']));

  // The runs and what each began with.
  const runs = await runsOf(batchId);
  console.log(`batch ${batchId}: ${runs.length} runs; started at steps: ${runs.map((r) => r.step ?? '(first)').join(', ')}`);
  expect(final.continuedAsNew).toBe(runs.length - 1);
  // Mid-copy: runs that began between two follow rounds (the records written meanwhile were copied across them).
  expect(runs.filter((r) => r.step === 'awaiting-cutover-approval' && (r.rounds ?? 0) > before).length).toBeGreaterThanOrEqual(2);
  // While the write fence was applied, with the drain targets set: the drain began in a new run.
  const draining = runs.find((r) => r.step === 'draining');
  expect(draining).toBeDefined();
  expect(draining!.fencedTopics).toEqual([topic]);
  expect(Object.keys(draining!.drainTo ?? {}).sort()).toEqual([`${topic}:0`, `${topic}:1`]);
  // Between producersStopped and consumersStopped: carried decisions, fence, drain targets and notes.
  const between = runs.find((r) => r.step === 'awaiting-consumers-stopped');
  expect(between).toBeDefined();
  expect(between!.milestones?.producersStopped).toBeDefined();
  expect(between!.milestones?.drained).toBeDefined();
  expect(between!.milestones?.consumersStopped).toBeUndefined();
  expect(between!.fencedTopics).toEqual([topic]);
  expect(between!.drainTo).toEqual(draining!.drainTo);
  expect(between!.decisions!.map((d) => d.kind)).toEqual(expect.arrayContaining(['approveCutover', 'producersStopped']));
  // The offset step ran in a run of its own too; the note it left was carried into the next runs.
  expect(runs.some((r) => r.step === 'translating-offsets')).toBe(true);
  const verifying = runs.find((r) => r.step === 'verifying');
  expect(verifying!.notes!.some((n) => n.includes('producers and consumers may now start on the target'))).toBe(true);
  expect(final.notes).toEqual(expect.arrayContaining(verifying!.notes!));

  // Exact: every record once per partition, group offsets translated, the fence lifted.
  const [sourceAdmin, targetAdmin] = [sourceAdminKafka().admin(), targetKafka().admin()];
  await Promise.all([sourceAdmin.connect(), targetAdmin.connect()]);
  try {
    const ends = async (a: typeof sourceAdmin) =>
      (await a.fetchTopicOffsets(topic)).sort((x, y) => x.partition - y.partition).map((o) => [Number(o.low), Number(o.high)]);
    expect(await ends(targetAdmin)).toEqual(await ends(sourceAdmin));
    expect((await ends(targetAdmin)).map(([, h]) => h)).toEqual([220, 220]);
    const [committed] = await targetAdmin.fetchOffsets({ groupId: group, topics: [topic] });
    const expected = await Promise.all([0, 1].map(async (p) => String(translateOffset(await loadOffsetMap(spec.target, name, topic, p), 40 + p))));
    expect(committed.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset)).toEqual(expected);
    const fence = await sourceAdmin.describeAcls(toExactFilter(fenceAclFor(topic)));
    expect(fence.resources.flatMap((r) => r.acls)).toEqual([]);
  } finally {
    await Promise.all([sourceAdmin.disconnect(), targetAdmin.disconnect()]);
  }
}, 300_000);

test('the migration continues as new between batches; the next run carries decisions, batches and the new-topic watch, and completes', async () => {
  const q = t.settings.taskQueue;
  const name = `canm-${uniqueSuffix()}`;
  const [alpha, beta] = [`${name}.alpha.events`, `${name}.beta.events`];
  await Promise.all([seed(alpha, 1, 50), seed(beta, 1, 60)]);
  const spec = stackSpec({
    name,
    scope: { topics: [`${name}\\..*`], groups: [`${name}\\..*`], newTopicsCheckSeconds: 2 },
    businessSystems: [
      { name: 'alpha', priority: 'non-core', topics: { prefix: [`${name}.alpha.`] }, groups: { prefix: [`${name}.alpha`] } },
      { name: 'beta', priority: 'core', topics: { prefix: [`${name}.beta.`] }, groups: { prefix: [`${name}.beta`] } },
    ],
    thresholds: { capacitySampleSeconds: 1, quietPeriodSeconds: 1 },
    copy: { roundSeconds: 2, heartbeatTimeoutSeconds: 15 },
    workflow: { continueAsNewAfterEvents: 1 },
    reports: { dir: mkdtempSync(join(tmpdir(), 'km-canm-')) },
  } as never);
  const id = migrationWorkflowId(name);
  const handle = await t.client.workflow.start('migrationWorkflow', { taskQueue: q, workflowId: id, args: [{ spec }] });
  const atPlan = await waitForOperatorWait(t.client, id);
  expect(atPlan.waitingFor?.signal).toBe('approvePlan|rejectPlan');
  expect(atPlan.plan!.batches.map((b) => b.name)).toEqual(['alpha', 'beta']);
  expect(await cli(q, 'approve', id, '--step', 'plan', '--by', 'canm-test')).toMatchObject({ code: 0, err: '' });
  const cutOver = async (batchId: string) => {
    const step = (s: string) =>
      until(
        () => t.client.workflow.getHandle(batchId).query(batchStatusQuery),
        (b: BatchStatus) => b.step === s,
        `${batchId} at ${s}`,
        120_000,
      );
    await step('awaiting-cutover-approval');
    expect(await cli(q, 'approve', id, '--step', 'cutover', '--by', 'canm-test')).toMatchObject({ code: 0, err: '' });
    await step('awaiting-producers-stopped');
    expect(await cli(q, 'producers-stopped', id, '--by', 'canm-test')).toMatchObject({ code: 0, err: '' });
    await step('awaiting-consumers-stopped');
    expect(await cli(q, 'consumers-stopped', id, '--by', 'canm-test')).toMatchObject({ code: 0, err: '' });
  };
  await cutOver(batchWorkflowId(name, 1, 'alpha'));
  const atBatch2 = await until(
    () => t.client.workflow.getHandle(id).query(statusQuery),
    (s) => s.waitingFor?.signal === 'approveBatch',
    `${id} waiting for approveBatch`,
    120_000,
  );
  expect(atBatch2.continuedAsNew).toBeGreaterThanOrEqual(1);
  expect(await cli(q, 'approve', id, '--step', 'batch', '--by', 'canm-test')).toMatchObject({ code: 0, err: '' });
  await cutOver(batchWorkflowId(name, 2, 'beta'));
  const result = (await handle.result()) as MigrationResult;
  expect(result.outcome).toBe('completed');
  expect(result.status.batches.map((b) => [b.name, b.state, b.verification?.ok])).toEqual([
    ['alpha', 'completed', true],
    ['beta', 'completed', true],
  ]);
  expect(result.status.decisions.map((d) => d.kind)).toEqual(expect.arrayContaining(['approvePlan', 'approveBatch']));

  // The runs of the migration: the first ran the phases and batch 1; a later one started before batch 2 with
  // the plan, the decisions and batch 1's outcome carried.
  const runs: { runId: string; start: Date }[] = [];
  for await (const w of t.client.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push({ runId: w.runId, start: w.startTime });
  expect(runs.length).toBe(result.status.continuedAsNew! + 1);
  const carriedInputs = [];
  for (const r of runs) {
    const history = await t.client.workflow.getHandle(id, r.runId).fetchHistory();
    const payload = history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0];
    const input = JSON.parse(Buffer.from(payload.data!).toString('utf8')) as {
      carried?: { nextBatch: number; status: { batches: { state: string }[]; decisions: { kind: string }[] }; watcher: { pending: unknown[] } };
    };
    if (input.carried) carriedInputs.push(input.carried);
  }
  const beforeBatch2 = carriedInputs.find((c) => c.nextBatch === 1);
  expect(beforeBatch2).toBeDefined();
  expect(beforeBatch2!.status.batches.map((b) => b.state)).toEqual(['completed', 'pending']);
  expect(beforeBatch2!.status.decisions.map((d) => d.kind)).toContain('approvePlan');
  expect(beforeBatch2!.watcher.pending).toEqual([]);

  const [sourceAdmin, targetAdmin] = [sourceAdminKafka().admin(), targetKafka().admin()];
  await Promise.all([sourceAdmin.connect(), targetAdmin.connect()]);
  try {
    for (const topic of [alpha, beta]) {
      const ends = async (a: typeof sourceAdmin) => (await a.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.low), Number(o.high)]);
      expect(await ends(targetAdmin)).toEqual(await ends(sourceAdmin));
    }
  } finally {
    await Promise.all([sourceAdmin.disconnect(), targetAdmin.disconnect()]);
  }
}, 400_000);
