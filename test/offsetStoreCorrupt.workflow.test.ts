/**
 * A corrupt offset store (issue 11 §5), on the real stack: while a batch waits for its cutover approval (copy
 * done, follow rounds running), an operator's producer writes a bad record for one partition to
 * `__kafka_migrate_offsets` on the target. The batch must meet it at its next round and BLOCK — step `blocked`,
 * type `OffsetStoreCorrupt`, the error naming the partition — rather than fail, retry forever or silently copy the
 * partition again from a checkpoint it can no longer trust. Each kind of damage runs in a migration of its own:
 *   - a run chunk tombstoned (`…|0|runs|0` → null): the checkpoint needs a chunk that is gone;
 *   - a checkpoint whose runCount points beyond the stored chunks;
 *   - a record whose value is not JSON;
 *   - a checkpoint that is JSON but not a checkpoint (`{}`).
 * The first is then repaired (the chunk written back) and `retry` goes on: the batch is waiting for its cutover
 * approval again, nothing was copied twice.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BatchStatus } from '../src/types';
import { batchWorkflowId, migrationWorkflowId } from '../src/workflows/ids';
import { batchStatusQuery } from '../src/workflows/messages';
import { OFFSET_STORE_TOPIC } from '../src/copy/offsetMapStore';
import { createTopicsReady } from '../src/kafka/topicsReady';
import { cli, waitForOperatorWait } from './helpers/operator';
import { sourceAdminKafka, stackSpec, targetKafka, uniqueSuffix } from './helpers/stack';
import { startTestWorker, type TestTemporal } from './helpers/temporal';
import { until } from './helpers/until';

const PARTITIONS = 2;
const PER_PARTITION = 40;
/** The partition each migration's damage is written for (not 0: the block must name the right one). */
const DAMAGED = 1;

type Damage = 'tombstoned-chunk' | 'runCount-beyond-chunks' | 'unparseable-value' | 'not-a-checkpoint';
const DAMAGES: Damage[] = ['tombstoned-chunk', 'runCount-beyond-chunks', 'unparseable-value', 'not-a-checkpoint'];

interface Case {
  damage: Damage;
  name: string;
  topic: string;
  batchId: string;
  /** The damaged partition's store key prefix: v1|<migration>|<topic>|<partition>| */
  prefix: string;
}

let t: TestTemporal;
const cases = new Map<Damage, Case>();

const batchStatus = (id: string) => t.client.workflow.getHandle(id).query(batchStatusQuery);

async function seed(topic: string): Promise<void> {
  const kafka = sourceAdminKafka();
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsReady(admin, [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }]);
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let p = 0; p < PARTITIONS; p++) {
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: PER_PARTITION }, (_, i) => ({ key: `k${i}`, value: `${topic}-${p}-${i}`, partition: p })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/** What an operator's producer writes to the store topic on the target. */
async function writeToStore(messages: { key: string; value: string | null }[]): Promise<void> {
  const producer = targetKafka().producer();
  await producer.connect();
  try {
    await producer.send({ topic: OFFSET_STORE_TOPIC, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

async function targetEnds(topic: string): Promise<number[]> {
  const admin = targetKafka().admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition).map((o) => Number(o.high));
  } finally {
    await admin.disconnect();
  }
}

/** Starts a one-topic migration, approves its plan and waits until its batch copied everything and waits for the cutover approval. */
async function caughtUp(damage: Damage): Promise<Case> {
  const name = `osc-${uniqueSuffix()}`;
  const topic = `${name}.orders`;
  await seed(topic);
  const spec = stackSpec({
    name,
    scope: { topics: [`${name}\\..*`], groups: [`${name}\\..*`] },
    thresholds: { capacitySampleSeconds: 1, quietPeriodSeconds: 1 },
    copy: { roundSeconds: 1, heartbeatTimeoutSeconds: 15 },
    reports: { dir: mkdtempSync(join(tmpdir(), 'km-osc-')) },
  } as never);
  const id = migrationWorkflowId(name);
  await t.client.workflow.start('migrationWorkflow', { taskQueue: t.settings.taskQueue, workflowId: id, args: [{ spec }] });
  const atPlan = await waitForOperatorWait(t.client, id);
  expect(atPlan.waitingFor?.signal).toBe('approvePlan|rejectPlan');
  const batchId = batchWorkflowId(name, 1, atPlan.plan!.batches[0].name);
  expect(await cli(t.settings.taskQueue, 'approve', id, '--step', 'plan', '--by', 'osc-test')).toMatchObject({ code: 0 });
  await until(
    () => batchStatus(batchId),
    (b: BatchStatus) => b.step === 'awaiting-cutover-approval' && b.totals.recordsCopied === PARTITIONS * PER_PARTITION,
    `${batchId} caught up`,
    120_000,
  );
  expect(await targetEnds(topic)).toEqual([PER_PARTITION, PER_PARTITION]);
  return { damage, name, topic, batchId, prefix: `v1|${name}|${topic}|${DAMAGED}|` };
}

/** The record each damage writes for partition DAMAGED. */
function damageRecords(c: Case): { key: string; value: string | null }[] {
  switch (c.damage) {
    case 'tombstoned-chunk':
      return [{ key: `${c.prefix}runs|0`, value: null }];
    case 'runCount-beyond-chunks':
      // The checkpoint as the copy wrote it (40 records, one run), but claiming 600 runs (3 chunks, 2 missing).
      return [
        {
          key: `${c.prefix}checkpoint`,
          value: JSON.stringify({
            sourceStart: 0,
            sourceNext: PER_PARTITION,
            targetNext: PER_PARTITION,
            recordsCopied: PER_PARTITION,
            bytesCopied: 1,
            updatedAt: new Date().toISOString(),
            runCount: 600,
          }),
        },
      ];
    case 'unparseable-value':
      return [{ key: `${c.prefix}checkpoint`, value: '{"sourceNext": 40, "targetNext": 4' }];
    case 'not-a-checkpoint':
      return [{ key: `${c.prefix}checkpoint`, value: '{}' }];
  }
}

beforeAll(async () => {
  t = await startTestWorker();
  // All four migrations at once (they share nothing but the store topic), each damaged once it has caught up.
  const ready = await Promise.all(DAMAGES.map((d) => caughtUp(d)));
  for (const c of ready) cases.set(c.damage, c);
  await writeToStore(ready.flatMap(damageRecords));
}, 240_000);

afterAll(async () => {
  // Best effort: end the migrations (aborting a blocked batch is allowed until its clients moved).
  for (const c of cases.values()) await cli(t.settings.taskQueue, 'abort', c.name, '--by', 'osc-test', '--reason', 'test over').catch(() => undefined);
  await t?.shutdown();
});

/** Waits until the batch is blocked (or up to timeoutMs); asserts the block names the damage and the partition. */
async function expectBlockedOnCorruptStore(c: Case, timeoutMs: number): Promise<BatchStatus> {
  const b = await until(
    () => batchStatus(c.batchId),
    (s: BatchStatus) => s.step === 'blocked',
    `${c.batchId} (${c.damage}) blocked`,
    timeoutMs,
  ).catch(async (e: Error) => {
    const s = await batchStatus(c.batchId);
    // What the batch does instead: the activity retried meanwhile, and its last failure.
    const pending = (await t.client.workflow.getHandle(c.batchId).describe()).raw.pendingActivities ?? [];
    const retrying = pending
      .map((a) => `${a.activityType?.name} attempt ${a.attempt}: ${a.lastFailure?.applicationFailureInfo?.type ?? ''} ${a.lastFailure?.message ?? ''}`)
      .join('; ');
    throw new Error(
      `${c.damage}: not blocked within ${timeoutMs / 1000} s (step ${s.step}, rounds ${s.rounds}; retrying: ${retrying || 'none'}): ${e.message.slice(0, 120)}`,
    );
  });
  expect({ damage: c.damage, step: b.step, type: b.blocked?.type }).toEqual({ damage: c.damage, step: 'blocked', type: 'OffsetStoreCorrupt' });
  expect(b.blocked!.error).toContain(`${c.topic}:${DAMAGED}`);
  expect(b.blocked!.error).toContain(OFFSET_STORE_TOPIC);
  expect(b.blocked!.actions).toEqual(expect.arrayContaining(['retry', 'abort']));
  // Nothing copied again: the target holds each record once, as before the damage.
  expect(await targetEnds(c.topic)).toEqual([PER_PARTITION, PER_PARTITION]);
  return b;
}

test('a tombstoned run chunk blocks the batch (OffsetStoreCorrupt, naming the partition); written back, retry goes on', async () => {
  const c = cases.get('tombstoned-chunk')!;
  const blocked = await expectBlockedOnCorruptStore(c, 120_000);
  expect(blocked.blocked!.error).toMatch(/misses run chunk 0/);
  // Stays blocked: no round runs while the store is damaged.
  await new Promise((r) => setTimeout(r, 3000));
  expect(await batchStatus(c.batchId)).toMatchObject({ step: 'blocked', rounds: blocked.rounds });

  // The operator writes the chunk back (40 records copied as one run) and retries.
  await writeToStore([{ key: `${c.prefix}runs|0`, value: JSON.stringify({ runs: [[0, 0, PER_PARTITION]] }) }]);
  expect(await cli(t.settings.taskQueue, 'retry', c.name, '--by', 'osc-test', '--reason', 'chunk written back')).toMatchObject({ code: 0 });
  const back = await until(
    () => batchStatus(c.batchId),
    (s: BatchStatus) => s.step === 'awaiting-cutover-approval' && s.rounds > blocked.rounds,
    `${c.batchId} following again`,
    60_000,
  );
  expect(back.blocked).toBeUndefined();
  expect(back.totals.recordsCopied).toBe(PARTITIONS * PER_PARTITION);
  expect(await targetEnds(c.topic)).toEqual([PER_PARTITION, PER_PARTITION]);
}, 200_000);

test('a checkpoint whose runCount points beyond the stored run chunks blocks the batch (OffsetStoreCorrupt, naming the partition)', async () => {
  const blocked = await expectBlockedOnCorruptStore(cases.get('runCount-beyond-chunks')!, 120_000);
  expect(blocked.blocked!.error).toMatch(/misses run chunk 1 of 3/);
}, 150_000);

// The refresh before each round (createTargetTopics, 10 attempts) reads the store too: 200 s covers its retries.
test('a store record whose value is not JSON blocks the batch (OffsetStoreCorrupt, naming the partition)', async () => {
  await expectBlockedOnCorruptStore(cases.get('unparseable-value')!, 200_000);
}, 240_000);

test('a checkpoint that is JSON but not a checkpoint ({}) blocks the batch (OffsetStoreCorrupt, naming the partition)', async () => {
  await expectBlockedOnCorruptStore(cases.get('not-a-checkpoint')!, 120_000);
}, 150_000);
