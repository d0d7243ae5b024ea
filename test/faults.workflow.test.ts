/**
 * Issue 10's faults against the real stack (real Temporal server, real brokers, the real activities): each one
 * blocks the batch it concerns and waits for a decision, or is refused with evidence, and the migration goes on
 * to an exact result. Nothing here may end a migration as FAILED.
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Consumer, Producer } from 'kafkajs';
import type { WorkflowHandle } from '@temporalio/client';
import type { MigrationSpec } from '../src/config/spec';
import type { BatchStatus, MigrationStatus, VerificationReport } from '../src/types';
import { batchFileStem, batchWorkflowId, migrationWorkflowId } from '../src/workflows/ids';
import { batchStatusQuery, statusQuery, waitsFor } from '../src/workflows/messages';
import { migrationWorkflow, type MigrationResult } from '../src/workflows/migration';
import { KM_PHASE } from '../src/workflows/searchAttributes';
import { createTopicsReady } from '../src/kafka/topicsReady';
import { cli } from './helpers/operator';
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

const q = () => t.settings.taskQueue;
const statusOf = (h: WorkflowHandle) => h.query(statusQuery);
const batchOf = (spec: MigrationSpec, n: number, name: string) => t.client.workflow.getHandle(batchWorkflowId(spec.name, n, name));

async function createTopics(topics: { topic: string; numPartitions: number }[]): Promise<void> {
  const admin = sourceAdminKafka().admin();
  await admin.connect();
  try {
    await createTopicsReady(
      admin,
      topics.map((x) => ({ ...x, replicationFactor: 1 })),
    );
  } finally {
    await admin.disconnect();
  }
}

async function produce(topic: string, count: number, partitions = 1, tag = 'r'): Promise<void> {
  const producer = sourceAdminKafka().producer({ retry: { retries: 10, initialRetryTime: 300 } });
  await producer.connect();
  try {
    await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `${tag}${i}`, partition: i % partitions })) });
  } finally {
    await producer.disconnect();
  }
}

async function endOffsets(kafka: ReturnType<typeof sourceAdminKafka>, topic: string): Promise<Record<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return Object.fromEntries(offsets.map((o) => [o.partition, Number(o.high) - Number(o.low)]));
  } finally {
    await admin.disconnect();
  }
}

function specFor(name: string, prefix: string, overrides: Record<string, unknown> = {}): MigrationSpec {
  return stackSpec({
    name,
    scope: { topics: [`${prefix.replace(/[-.]/g, '\\$&')}.*`], newTopicsCheckSeconds: 2 },
    thresholds: { capacitySampleSeconds: 1, quietPeriodSeconds: 1, readyMaxLagRecords: 0, readyMaxLagSeconds: 3600 },
    copy: { roundSeconds: 2, heartbeatTimeoutSeconds: 15 },
    cutover: { deleteTargetTopicsOnAbort: true },
    reports: { dir: mkdtempSync(join(tmpdir(), 'km-faults-')) },
    ...overrides,
  } as never);
}

async function start(spec: MigrationSpec): Promise<WorkflowHandle<typeof migrationWorkflow>> {
  return t.client.workflow.start(migrationWorkflow, { taskQueue: q(), workflowId: migrationWorkflowId(spec.name), args: [{ spec }] });
}

async function approvePlan(spec: MigrationSpec, h: WorkflowHandle): Promise<MigrationStatus> {
  const s = await until(
    () => statusOf(h),
    (x: MigrationStatus) => x.waitingFor?.signal === 'approvePlan|rejectPlan' || x.phase === 'blocked',
    'plan approval',
    120_000,
  );
  expect(s.phase).toBe('plan');
  const r = await cli(q(), 'approve', spec.name, '--step', 'plan', '--by', 'faults-test');
  expect(r).toMatchObject({ code: 0 });
  return s;
}

/** approve cutover → producers-stopped → consumers-stopped through the CLI, each accepted (exit 0). */
async function cutOver(spec: MigrationSpec, n: number, name: string): Promise<void> {
  const b = batchOf(spec, n, name);
  await until(
    () => b.query(batchStatusQuery),
    (s: BatchStatus) => s.waitingFor?.signal === 'approveCutover',
    `batch ${n} ready for cutover`,
    120_000,
  );
  expect(await cli(q(), 'approve', spec.name, '--step', 'cutover', '--by', 'faults-test')).toMatchObject({ code: 0 });
  await until(
    () => b.query(batchStatusQuery),
    (s: BatchStatus) => waitsFor(s.waitingFor, 'producersStopped'),
    `batch ${n} waiting for producersStopped`,
  );
  expect(await cli(q(), 'producers-stopped', spec.name, '--by', 'faults-test')).toMatchObject({ code: 0 });
  await until(
    () => b.query(batchStatusQuery),
    (s: BatchStatus) => s.waitingFor?.signal === 'consumersStopped',
    `batch ${n} waiting for consumersStopped`,
    60_000,
  );
  expect(await cli(q(), 'consumers-stopped', spec.name, '--by', 'faults-test')).toMatchObject({ code: 0 });
}

test(
  'a batch spanning two business systems finishes; checked actions are refused with evidence (exit 3) while clients still run',
  async () => {
    const p = `fx2s${uniqueSuffix()}`;
    const [a, b] = [`${p}.alpha.a`, `${p}.beta.b`];
    const group = `${p}-reader`;
    await createTopics([
      { topic: a, numPartitions: 1 },
      { topic: b, numPartitions: 1 },
    ]);
    await produce(a, 40);
    await produce(b, 40);
    // One live group reads both systems' topics: the planner merges them into batch `alpha+beta`.
    const consumer: Consumer = sourceAdminKafka().consumer({ groupId: group });
    await consumer.connect();
    await consumer.subscribe({ topics: [a, b], fromBeginning: true });
    let seen = 0;
    await consumer.run({ eachMessage: async () => void seen++ });
    await until(
      async () => seen,
      (n) => n >= 80,
      'the group to read both topics',
    );
    const spec = specFor(`fx2s-${uniqueSuffix()}`, p, {
      businessSystems: [
        { name: 'alpha', priority: 'non-core', topics: { prefix: [`${p}.alpha.`] } },
        { name: 'beta', priority: 'core', topics: { prefix: [`${p}.beta.`] } },
      ],
    });
    const h = await start(spec);
    let producer: Producer | undefined;
    let writing = true;
    try {
      const atPlan = await approvePlan(spec, h);
      expect(atPlan.plan!.batches.map((x) => x.name)).toEqual(['alpha+beta']);
      const bh = batchOf(spec, 1, 'alpha+beta');
      expect(bh.workflowId).toBe(`migration-${spec.name}-batch-1-alpha_beta`);
      await until(
        () => bh.query(batchStatusQuery),
        (s: BatchStatus) => s.waitingFor?.signal === 'approveCutover',
        'ready for cutover',
        120_000,
      );
      expect(await cli(q(), 'approve', spec.name, '--step', 'cutover', '--by', 'faults-test')).toMatchObject({ code: 0 });
      await until(
        () => bh.query(batchStatusQuery),
        (s: BatchStatus) => waitsFor(s.waitingFor, 'producersStopped'),
        'waiting for producersStopped',
      );

      // A producer still writes: the CLI returns the quiet check's refusal itself, with the partition that moved.
      producer = sourceAdminKafka().producer();
      await producer.connect();
      const writer = (async () => {
        for (let i = 0; writing; i++) {
          await producer!.send({ topic: a, messages: [{ key: 'live', value: `live${i}` }] });
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const refused = await cli(q(), 'producers-stopped', spec.name, '--by', 'faults-test');
      expect(refused.code).toBe(3);
      expect(refused.err).toMatch(/producersStopped refused: the source is not quiet/);
      expect(refused.err).toContain(`partitions still written to: ${a}:0`);
      writing = false;
      await writer;
      await producer.disconnect();
      producer = undefined;
      const accepted = await cli(q(), 'producers-stopped', spec.name, '--by', 'faults-test');
      expect(accepted).toMatchObject({ code: 0 });
      expect(accepted.out).toMatch(/accepted: producersStopped accepted: the source stood still/);

      // The group still runs on the source: refused, naming the group and its connected member.
      await until(
        () => bh.query(batchStatusQuery),
        (s: BatchStatus) => s.waitingFor?.signal === 'consumersStopped',
        'waiting for consumersStopped',
        60_000,
      );
      const busy = await cli(q(), 'consumers-stopped', spec.name, '--by', 'faults-test');
      expect(busy.code).toBe(3);
      expect(busy.err).toMatch(new RegExp(`group ${group}: Stable, members still connected: .+@`));
      await consumer.disconnect();
      expect(await cli(q(), 'consumers-stopped', spec.name, '--by', 'faults-test')).toMatchObject({ code: 0 });

      const result: MigrationResult = await h.result();
      expect(result.outcome).toBe('completed');
      expect(result.status.batches[0]).toMatchObject({ name: 'alpha+beta', state: 'completed', verification: { ok: true, mismatchCount: 0 } });
      // Every report of the batch exists under its slugged name; the batch's decisions reach the migration.
      const dir = join(spec.reports.dir, spec.name);
      for (const kind of ['offsets', 'verification', undefined]) expect(existsSync(join(dir, `${batchFileStem(1, 'alpha+beta', kind)}.json`))).toBe(true);
      const verification = JSON.parse(readFileSync(join(dir, `${batchFileStem(1, 'alpha+beta', 'verification')}.json`), 'utf8')) as VerificationReport;
      expect(verification.ok).toBe(true);
      const kinds = (result.status.batches[0].decisions ?? []).map((d) => `${d.kind}:${d.accepted}`);
      expect(kinds).toEqual(
        expect.arrayContaining(['approveCutover:true', 'producersStopped:false', 'producersStopped:true', 'consumersStopped:false', 'consumersStopped:true']),
      );
    } finally {
      writing = false;
      await producer?.disconnect().catch(() => undefined);
      await consumer.disconnect().catch(() => undefined);
    }
  },
  6 * 60 * 1000,
);

test(
  'a source topic deleted mid-copy blocks the batch; exclude-topic goes on; added partitions and new topics are followed',
  async () => {
    const p = `fxdel${uniqueSuffix()}`;
    const [keep, gone, late] = [`${p}.keep`, `${p}.gone`, `${p}.late`];
    await createTopics([
      { topic: keep, numPartitions: 2 },
      { topic: gone, numPartitions: 1 },
    ]);
    await produce(keep, 200, 2);
    await produce(gone, 50);
    const spec = specFor(`fxdel-${uniqueSuffix()}`, p);
    const h = await start(spec);
    await approvePlan(spec, h);
    const bh = batchOf(spec, 1, 'unassigned');
    await until(
      () => bh.query(batchStatusQuery),
      (s: BatchStatus) => s.rounds > 0,
      'a first copy round',
      120_000,
    );

    // Partitions added on the source mid-copy: created on the target and copied from the next round on.
    const admin = sourceAdminKafka().admin();
    await admin.connect();
    try {
      await admin.createPartitions({ topicPartitions: [{ topic: keep, count: 4 }] });
    } finally {
      await admin.disconnect();
    }
    await produce(keep, 200, 4, 'after');
    await until(
      () => bh.query(batchStatusQuery),
      (s: BatchStatus) => s.totals.partitions === 5 && s.partitions.filter((x) => x.topic === keep).length === 4,
      'the new partitions in the batch status',
      60_000,
    );

    // A topic of the running batch deleted: the batch blocks on it, naming it; the migration shows it.
    const del = sourceAdminKafka().admin();
    await del.connect();
    try {
      await del.deleteTopics({ topics: [gone] });
    } finally {
      await del.disconnect();
    }
    const blocked = await until(
      () => bh.query(batchStatusQuery),
      (s: BatchStatus) => s.step === 'blocked',
      'the batch to block',
      120_000,
    );
    expect(blocked.blocked).toMatchObject({ type: 'SourceTopicMissing', topics: [gone] });
    expect(blocked.blocked!.actions).toEqual(expect.arrayContaining(['retry', 'exclude-topic', 'abort']));
    const m = await until(
      () => statusOf(h),
      (s: MigrationStatus) => s.phase === 'blocked',
      'the migration to show the block',
    );
    expect(m.blocked).toMatchObject({ batch: 1, type: 'SourceTopicMissing' });
    expect((await h.describe()).typedSearchAttributes.get(KM_PHASE)).toBe('blocked');
    // retry cannot cure it: it blocks again.
    expect(await cli(q(), 'retry', spec.name, '--by', 'faults-test')).toMatchObject({ code: 0 });
    // A new block (not the first one still showing while the retried step starts).
    await until(
      () => bh.query(batchStatusQuery),
      (s: BatchStatus) => s.step === 'blocked' && s.decisions.some((d) => d.kind === 'retry') && s.blocked!.since !== blocked.blocked!.since,
      'blocked again after retry',
      60_000,
    );

    // A topic created in scope after the plan is found and proposed.
    await createTopics([{ topic: late, numPartitions: 1 }]);
    await produce(late, 30);
    const excluded = await cli(q(), 'exclude-topic', spec.name, '--topic', gone, '--reason', 'deleted by its team', '--delete-target', '--by', 'faults-test');
    expect(excluded).toMatchObject({ code: 0, err: '' });
    const seen = await until(
      () => statusOf(h),
      (s: MigrationStatus) => !!s.newTopics?.some((x) => x.name === late),
      'the new topic in the status',
      60_000,
    );
    expect(seen.newTopics!.find((x) => x.name === late)).toMatchObject({ disposition: 'proposed', partitions: 1 });

    // The batch child then ends abnormally (as a bug would end it): the migration blocks; retry starts it again,
    // and the new run leaves out the topic the last one excluded.
    // The migration knows of the exclusion (the batch tells it before deleting the target copy).
    await until(
      () => statusOf(h),
      (s: MigrationStatus) => s.batches[0]?.excludedTopics?.includes(gone) === true,
      'the exclusion in the migration status',
      60_000,
    );
    const firstRun = (await bh.describe()).runId;
    await bh.terminate('test: a batch that ended abnormally');
    const onEnded = await until(
      () => statusOf(h),
      (s: MigrationStatus) => s.phase === 'blocked' && s.blocked?.batch === 1,
      'the migration blocked on the ended batch',
      60_000,
    );
    expect(onEnded.batches[0].excludedTopics).toEqual([gone]);
    expect(await cli(q(), 'retry', spec.name, '--by', 'faults-test', '--reason', 'start the batch again')).toMatchObject({ code: 0 });
    await until(
      () => bh.describe(),
      (d) => d.runId !== firstRun && d.status.name === 'RUNNING',
      'a new run of the batch',
      60_000,
    );
    const restarted = await until(
      () => bh.query(batchStatusQuery),
      (s: BatchStatus) => s.rounds > 0,
      'the restarted batch copying',
      120_000,
    );
    expect(restarted.partitions.map((x) => x.topic)).not.toContain(gone);
    expect(restarted.notes.join('\n')).toContain(`topics excluded by an earlier run, not migrated: ${gone}`);

    await cutOver(spec, 1, 'unassigned');
    // The extra batch for the new topic waits for the operator's approval.
    const extra = await until(
      () => statusOf(h),
      (s: MigrationStatus) => s.waitingFor?.signal === 'approveBatch',
      'approval of the extra batch',
      120_000,
    );
    expect(extra.plan!.batches.map((x) => x.name)).toEqual(['unassigned', 'new-topics-1']);
    expect(extra.batches[0]).toMatchObject({ state: 'completed', excludedTopics: [gone], verification: { ok: true } });
    expect(await cli(q(), 'approve', spec.name, '--step', 'batch', '--by', 'faults-test')).toMatchObject({ code: 0 });
    await cutOver(spec, 2, 'new-topics-1');
    const result = await h.result();
    expect(result.outcome).toBe('completed');
    expect(result.status.newTopics!.find((x) => x.name === late)).toMatchObject({ batch: 2 });

    // Exact: every partition of keep (the added ones too) and late copied record for record; gone not on the target.
    expect(await endOffsets(targetKafka() as never, keep)).toEqual(await endOffsets(sourceAdminKafka(), keep));
    expect(await endOffsets(targetKafka() as never, late)).toEqual({ 0: 30 });
    expect(await targetTopicNames()).not.toContain(gone);
    const verification = JSON.parse(
      readFileSync(join(spec.reports.dir, spec.name, `${batchFileStem(1, 'unassigned', 'verification')}.json`), 'utf8'),
    ) as VerificationReport;
    expect(verification.ok).toBe(true);
    expect(JSON.stringify(verification)).not.toContain(gone);
  },
  8 * 60 * 1000,
);

test(
  'a consumer that joins the target group before its offsets are committed blocks the offset step; retry after it leaves',
  async () => {
    const p = `fxgrp${uniqueSuffix()}`;
    const topic = `${p}.orders`;
    const group = `${p}-svc`;
    await createTopics([{ topic, numPartitions: 1 }]);
    await produce(topic, 60);
    const admin = sourceAdminKafka().admin();
    await admin.connect();
    try {
      await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '25' }] });
    } finally {
      await admin.disconnect();
    }
    const spec = specFor(`fxgrp-${uniqueSuffix()}`, p, { scope: { topics: [`${p}\\..*`], includeInactive: [group] } });
    const h = await start(spec);
    const atPlan = await approvePlan(spec, h);
    expect(atPlan.plan!.batches[0].groups).toEqual([group]);
    const bh = batchOf(spec, 1, atPlan.plan!.batches[0].name);
    await until(
      () => bh.query(batchStatusQuery),
      (s: BatchStatus) => s.waitingFor?.signal === 'approveCutover',
      'ready for cutover',
      120_000,
    );
    // A consumer of the group starts on the target too early.
    const early = targetKafka().consumer({ groupId: group });
    await early.connect();
    await early.subscribe({ topics: [topic], fromBeginning: true });
    await early.run({ autoCommit: false, eachMessage: async () => undefined });
    try {
      await cutOver(spec, 1, atPlan.plan!.batches[0].name);
      const blocked = await until(
        () => bh.query(batchStatusQuery),
        (s: BatchStatus) => s.step === 'blocked',
        'the offset step to block',
        120_000,
      );
      expect(blocked.blocked).toMatchObject({ step: 'translating-offsets', type: 'GroupActiveOnTarget', groups: [group] });
      expect(JSON.stringify(blocked.blocked!.details)).toMatch(/clientId/);
      // Refused: clients may not have moved yet, but exclude-topic of the only topic is not possible.
      const refusedExclude = await cli(q(), 'exclude-topic', spec.name, '--topic', topic, '--reason', 'x', '--by', 'faults-test');
      expect(refusedExclude.code).toBe(3);
      expect(refusedExclude.err).toMatch(/last topic/);
      // Refused: a topic that is not in the batch (a typo) names the batch's topics.
      const typo = await cli(q(), 'exclude-topic', spec.name, '--topic', `${topic}-typo`, '--reason', 'x', '--by', 'faults-test');
      expect(typo.code).toBe(3);
      expect(typo.err).toContain(`topic ${topic}-typo is not in batch 1 (its topics: ${topic})`);
    } finally {
      await early.disconnect();
    }
    expect(await cli(q(), 'retry', spec.name, '--by', 'faults-test', '--reason', 'stopped the early consumer')).toMatchObject({ code: 0 });
    const result = await h.result();
    expect(result.outcome).toBe('completed');
    const target = targetKafka().admin();
    await target.connect();
    try {
      const [committed] = await target.fetchOffsets({ groupId: group, topics: [topic] });
      expect(committed.partitions).toEqual([expect.objectContaining({ partition: 0, offset: '25' })]);
    } finally {
      await target.disconnect();
    }
  },
  6 * 60 * 1000,
);

test(
  'an action sent while no worker runs is reported as not applied (exit 5) and never applied later',
  async () => {
    const p = `fxnow${uniqueSuffix()}`;
    await createTopics([{ topic: `${p}.t`, numPartitions: 1 }]);
    await produce(`${p}.t`, 5);
    const spec = specFor(`fxnow-${uniqueSuffix()}`, p);
    const queue = `km-noworker-${uniqueSuffix()}`;
    const h = await t.client.workflow.start(migrationWorkflow, { taskQueue: queue, workflowId: migrationWorkflowId(spec.name), args: [{ spec }] });
    const r = await cli(queue, '--timeout', '3', 'abort', spec.name, '--by', 'faults-test', '--reason', 'no worker yet');
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/NOT applied and will not be applied later/);
    // A worker starts: the expired abort is refused by the workflow; the migration goes on to the plan.
    const late = await startTestWorker({ taskQueue: queue });
    try {
      const s = await until(
        () => statusOf(h),
        (x: MigrationStatus) => x.waitingFor?.signal === 'approvePlan|rejectPlan',
        'the plan approval',
        120_000,
      );
      expect(s.phase).toBe('plan');
      expect(s.decisions.filter((d) => d.kind === 'abort')).toEqual([]);
      expect(await cli(queue, 'abort', spec.name, '--by', 'faults-test', '--reason', 'end of test')).toMatchObject({ code: 0 });
      expect((await h.result()).outcome).toBe('aborted');
    } finally {
      await late.shutdown();
    }
  },
  4 * 60 * 1000,
);
