/**
 * Upgrading workflow code while a migration runs (issue 11 §1, docs/DESIGN.md "Upgrading workflow code"), on the
 * real stack: a migration starts on today's ("old") workflow code with a worker in this process; while its batch
 * copies (a topic with records, a group with committed offsets) that worker is shut down and a worker of CHANGED
 * workflow code takes over the same task queue. The change (in a copy of src/ bundled under .stack/tmp-versioning/)
 * makes every copy round of the batch first sample the source end offsets (an extra real activity,
 * `sampleEndOffsets`) and note them, behind `patched('km-test-upgrade')`. The migration completes exactly (every
 * record once per partition, group offsets translated, verification ok); the new behaviour happened after the
 * upgrade only (its notes, its activities after the patch marker, none in the pre-upgrade history), the history
 * holds the patch marker, and the same change WITHOUT patched() fails replay of the recorded pre-upgrade history
 * with a DeterminismViolationError: that is why the patch is needed.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import type { BatchStatus } from '../src/types';
import { temporalSettings } from '../src/worker/settings';
import { batchWorkflowId, migrationWorkflowId } from '../src/workflows/ids';
import { batchStatusQuery } from '../src/workflows/messages';
import type { MigrationResult } from '../src/workflows/migration';
import { loadOffsetMap } from '../src/copy/loadOffsetMap';
import { translateOffset } from '../src/copy/translateOffset';
import { createTopicsReady } from '../src/kafka/topicsReady';
import { BUNDLE_PATH } from './helpers/globalSetup';
import { cli, waitForOperatorWait } from './helpers/operator';
import { sourceAdminKafka, stackSpec, targetKafka, uniqueSuffix } from './helpers/stack';
import { startTestWorker, type TestTemporal } from './helpers/temporal';
import { until } from './helpers/until';

type History = temporal.api.history.v1.IHistory;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const ROOT = resolve(__dirname, '..');
/** The changed copies of src/ are bundled inside the repo so that node_modules resolve. */
const TMP_ROOT = resolve(ROOT, '.stack/tmp-versioning');
const PATCH_ID = 'km-test-upgrade';
const NOTE = 'km-test-upgrade:';
const PARTITIONS = 2;
const PER_PARTITION = 300;
const COMMITTED = [120, 77];

/** The changed step: every copy round first samples the source end offsets (a real activity) and notes them. */
const change = (guarded: boolean) => `
    ${guarded ? `if (patched('${PATCH_ID}')) ` : ''}{
      const ends = await admin.sampleEndOffsets({ spec, topics });
      note(\`${NOTE} \${mode} round \${status.rounds + 1} starts at source end offsets \${JSON.stringify(ends)}\`);
    }`;
const ANCHOR = '    const before = status.totals.recordsCopied;\n';

const dir = resolve(TMP_ROOT, `${process.pid}-${Date.now().toString(36)}`);
let guardedBundle: string;
let unguardedBundle: string;

/** Bundles a copy of src/ whose batch workflow has the change (guarded by patched() or not). */
async function changedBundle(label: string, guarded: boolean): Promise<string> {
  const copy = resolve(dir, label);
  mkdirSync(copy, { recursive: true });
  cpSync(resolve(ROOT, 'src'), resolve(copy, 'src'), { recursive: true });
  const file = resolve(copy, 'src/workflows/batch.ts');
  const source = readFileSync(file, 'utf8');
  const at = source.indexOf(ANCHOR);
  // The anchor is the first statement of copyRoundOnce; `patched`, `admin`, `note`, `topics` are in scope there.
  if (
    at < 0 ||
    source.indexOf(ANCHOR, at + 1) >= 0 ||
    !/async function copyRoundOnce\(mode: 'follow' \| 'drain'(, only\?: PartitionRef\[\])?\)[^]{0,200}const before = status\.totals\.recordsCopied;/.test(
      source,
    )
  ) {
    throw new Error('copyRoundOnce anchor not found (once) in src/workflows/batch.ts: update test/versioning.workflow.test.ts');
  }
  writeFileSync(file, source.slice(0, at + ANCHOR.length) + change(guarded) + '\n' + source.slice(at + ANCHOR.length));
  const quiet = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: resolve(copy, 'src/workflows'),
    logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: console.error },
  });
  const codePath = resolve(copy, 'workflow-bundle.js');
  writeFileSync(codePath, code);
  return codePath;
}

let oldWorker: TestTemporal | undefined;
let newWorker: TestTemporal | undefined;

beforeAll(async () => {
  // Built before the migration starts: the upgrade itself must not wait for a bundle.
  guardedBundle = await changedBundle('patched', true);
  unguardedBundle = await changedBundle('unpatched', false);
}, 120_000);

afterAll(async () => {
  await oldWorker?.shutdown().catch(() => undefined);
  await newWorker?.shutdown().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  try {
    rmdirSync(TMP_ROOT); // only when empty: another run's copies stay
  } catch {
    // not empty, or already gone
  }
});

async function seed(topic: string, group: string): Promise<void> {
  const kafka = sourceAdminKafka();
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsReady(admin, [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }]);
    await admin.setOffsets({ groupId: group, topic, partitions: COMMITTED.map((offset, partition) => ({ partition, offset: String(offset) })) });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const pad = 'x'.repeat(900); // ~1 KB records: the throttled copy takes several rounds
    // Small source batches (10 records): a throttled fetch waits for tokens per batch, and a batch much larger than
    // a round's worth of tokens would never be copied within one round.
    for (let p = 0; p < PARTITIONS; p++) {
      for (let from = 0; from < PER_PARTITION; from += 10) {
        await producer.send({
          topic,
          acks: -1,
          messages: Array.from({ length: 10 }, (_, j) => ({ key: `k${from + j}`, value: `${topic}-${p}-${from + j}-${pad}`, partition: p })),
        });
      }
    }
  } finally {
    await producer.disconnect();
  }
}

/** Every value of each partition of the target topic, in offset order. */
async function targetValues(topic: string): Promise<string[][]> {
  const kafka = targetKafka();
  const consumer = kafka.consumer({ groupId: `km-versioning-check-${uniqueSuffix()}` });
  const out: string[][] = Array.from({ length: PARTITIONS }, () => []);
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let seen = 0;
    const all = new Promise<void>((done) => {
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          out[partition].push(message.value!.toString('utf8'));
          if (++seen >= PARTITIONS * PER_PARTITION) done();
        },
      });
    });
    await Promise.race([all, new Promise((r) => setTimeout(r, 60_000))]);
    // A moment longer: a duplicate would arrive after the expected count.
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    await consumer.disconnect();
  }
  return out;
}

const eventType = (e: HistoryEvent) => Number(e.eventType);
// temporal.api.enums.v1.EventType: ACTIVITY_TASK_SCHEDULED = 10, MARKER_RECORDED = 25.
const ACTIVITY_TASK_SCHEDULED = 10;
const MARKER_RECORDED = 25;
const scheduled = (events: HistoryEvent[], name: string) =>
  events.filter((e) => eventType(e) === ACTIVITY_TASK_SCHEDULED && e.activityTaskScheduledEventAttributes?.activityType?.name === name);
const markerPatchIds = (e: HistoryEvent): string[] =>
  Object.values(e.markerRecordedEventAttributes?.details ?? {}).flatMap((p) =>
    (p.payloads ?? []).map((x) => Buffer.from(x.data ?? new Uint8Array()).toString('utf8')),
  );

async function replayError(codePath: string, history: History, workflowId: string): Promise<unknown> {
  try {
    await Worker.runReplayHistory({ workflowBundle: { codePath }, replayName: `versioning-${uniqueSuffix()}` }, history, workflowId);
    return undefined;
  } catch (e) {
    return e;
  }
}

test('a batch upgraded mid-copy to code changed behind patched() takes the new path from then on and completes exactly; unguarded, the change fails replay', async () => {
  oldWorker = await startTestWorker();
  const q = oldWorker.settings.taskQueue;
  const name = `vers-${uniqueSuffix()}`;
  const topic = `${name}.orders`;
  const group = `${name}.orders-reader`;
  await seed(topic, group);
  const spec = stackSpec({
    name,
    scope: { topics: [`${name}\\..*`], groups: [`${name}\\..*`] },
    // readyMaxLagRecords 0: the batch stays in `copying` until it has copied everything.
    thresholds: { capacitySampleSeconds: 1, quietPeriodSeconds: 1, readyMaxLagRecords: 0 },
    // ~600 KB at 40 KB/s: about seven 2 s rounds, so the upgrade falls in the middle of the copy.
    copy: { roundSeconds: 2, heartbeatTimeoutSeconds: 15, throttleBytesPerSecond: 40_000, maxBatchBytes: 16_384 },
    reports: { dir: mkdtempSync(join(tmpdir(), 'km-versioning-')) },
  } as never);
  const id = migrationWorkflowId(name);
  await oldWorker.client.workflow.start('migrationWorkflow', { taskQueue: q, workflowId: id, args: [{ spec }] });
  const atPlan = await waitForOperatorWait(oldWorker.client, id);
  expect(atPlan.waitingFor?.signal).toBe('approvePlan|rejectPlan');
  expect(atPlan.plan!.batches.map((b) => [b.topics.map((x) => x.name), b.groups])).toEqual([[[topic], [group]]]);
  const batchId = batchWorkflowId(name, 1, atPlan.plan!.batches[0].name);
  expect(await cli(q, 'approve', id, '--step', 'plan', '--by', 'versioning-test')).toMatchObject({ code: 0 });

  // ------------------------------------------------------------------ old code: copying, then the worker stops mid-copy
  const midCopy = await until(
    () => oldWorker!.client.workflow.getHandle(batchId).query(batchStatusQuery),
    (b: BatchStatus) => b.rounds >= 1 && b.totals.recordsCopied > 0,
    `${batchId} copying on the old code`,
    120_000,
  );
  await oldWorker.shutdown();
  oldWorker = undefined;
  console.log(`upgrade at round ${midCopy.rounds}, step ${midCopy.step}, ${midCopy.totals.recordsCopied}/${PARTITIONS * PER_PARTITION} records copied`);
  expect(midCopy.step).toBe('copying');
  expect(midCopy.totals.recordsCopied).toBeLessThan(PARTITIONS * PER_PARTITION);
  expect(midCopy.notes.some((n) => n.includes(NOTE))).toBe(false);

  // The history the old code recorded (no worker runs it now): what every worker of new code must replay.
  const connection = await Connection.connect({ address: temporalSettings({}).address });
  let preUpgrade: History;
  try {
    preUpgrade = await new Client({ connection, namespace: temporalSettings({}).namespace }).workflow.getHandle(batchId).fetchHistory();
  } finally {
    await connection.close();
  }
  const preEvents = preUpgrade.events!;
  // Rounds the old code started (the one running at the shutdown finished within the worker's grace time).
  const oldRounds = scheduled(preEvents, 'copyRound').length;
  expect(oldRounds).toBeGreaterThanOrEqual(1);
  expect(scheduled(preEvents, 'sampleEndOffsets')).toEqual([]);

  // ------------------------------------------------------------------ the new code takes over the same task queue
  newWorker = await startTestWorker({ taskQueue: q, workflowBundlePath: guardedBundle });
  const client = newWorker.client;

  const status = () => client.workflow.getHandle(batchId).query(batchStatusQuery);
  const step = (s: string) => until(status, (b: BatchStatus) => b.step === s, `${batchId} at ${s}`, 120_000);
  const afterUpgrade = await until(
    status,
    (b: BatchStatus) => b.notes.some((n) => n.includes(`${NOTE} follow round`)),
    `${batchId} copying on the new code`,
    120_000,
  );
  // The first round the new code starts is one the old code had not started (each note names its round).
  expect(afterUpgrade.notes.filter((n) => n.includes(NOTE)).map((n) => Number(/ round (\d+) starts/.exec(n)![1]))).toEqual([oldRounds + 1]);
  await step('awaiting-cutover-approval');
  expect(await cli(q, 'approve', id, '--step', 'cutover', '--by', 'versioning-test')).toMatchObject({ code: 0, err: '' });
  await step('awaiting-producers-stopped');
  expect(await cli(q, 'producers-stopped', id, '--by', 'versioning-test')).toMatchObject({ code: 0, err: '' });
  await step('awaiting-consumers-stopped');
  expect(await cli(q, 'consumers-stopped', id, '--by', 'versioning-test')).toMatchObject({ code: 0, err: '' });
  const result = (await client.workflow.getHandle(id).result()) as MigrationResult;
  expect(result.outcome).toBe('completed');

  const final = await status();
  expect(final.step).toBe('completed');
  expect(final.verification).toEqual({ ok: true, mismatchCount: 0 });
  expect(final.decisions.map((d) => d.kind)).toEqual(expect.arrayContaining(['approveCutover', 'producersStopped', 'consumersStopped']));

  // ------------------------------------------------------------------ the new behaviour, after the upgrade only
  const upgradeNotes = final.notes.filter((n) => n.includes(NOTE));
  // No round of the old code left a note; every round after the upgrade did.
  const noted = upgradeNotes.map((n) => Number(/ round (\d+) starts/.exec(n)![1]));
  expect(Math.min(...noted)).toBe(oldRounds + 1);
  // The drain copies only partitions the last round left behind (km-drain-only-behind). Every record was written
  // before the start, so the follow rounds had copied all of them: no drain round ran, and none was needed.
  expect(final.notes.filter((n) => n.endsWith(` drain: 0 of ${PARTITIONS} partitions were behind the end offsets of the quiet check`))).toHaveLength(1);
  expect(upgradeNotes.some((n) => n.includes(`${NOTE} drain round`))).toBe(false);
  expect(final.partitions.map((p) => p.sourceNext)).toEqual(Array.from({ length: PARTITIONS }, () => PER_PARTITION));

  const full = await client.workflow.getHandle(batchId).fetchHistory();
  const events = full.events!;
  // The recorded part is unchanged (the new code replayed it), then the patch marker, then the new activities.
  expect(events.slice(0, preEvents.length).map(eventType)).toEqual(preEvents.map(eventType));
  // (The batch's existing patches have markers of their own, recorded by the old code.)
  const markers = events.filter((e) => eventType(e) === MARKER_RECORDED && markerPatchIds(e).join(' ').includes(PATCH_ID));
  expect(markers.length).toBe(1);
  expect(markers[0].markerRecordedEventAttributes?.markerName).toBe('core_patch');
  expect(preEvents.filter((e) => eventType(e) === MARKER_RECORDED && markerPatchIds(e).join(' ').includes(PATCH_ID))).toEqual([]);
  const markerAt = events.indexOf(markers[0]);
  expect(markerAt).toBeGreaterThanOrEqual(preEvents.length);
  const samples = scheduled(events, 'sampleEndOffsets');
  expect(samples.length).toBeGreaterThanOrEqual(2);
  expect(samples.every((e) => events.indexOf(e) > markerAt)).toBe(true);
  // A sample before every copy round after the marker: between the marker (or the previous round) and each
  // round. (A round cancelled by an arriving action while its sample ran schedules no copyRound: samples may
  // outnumber rounds, never the other way round.)
  const rounds = scheduled(events, 'copyRound').filter((e) => events.indexOf(e) > markerAt);
  expect(rounds.length).toBeGreaterThanOrEqual(2);
  let previous = markerAt;
  for (const round of rounds) {
    const at = events.indexOf(round);
    expect(samples.some((x) => events.indexOf(x) > previous && events.indexOf(x) < at)).toBe(true);
    previous = at;
  }

  // ------------------------------------------------------------------ why the patch is needed
  // The same change without patched() cannot replay what the old code recorded: at the first round it schedules
  // sampleEndOffsets where the history has copyRound.
  const unguarded = await replayError(unguardedBundle, preUpgrade, batchId);
  expect(unguarded).toBeInstanceOf(DeterminismViolationError);
  expect(String((unguarded as Error).message)).toMatch(/nondetermin/i);
  expect(String((unguarded as Error).message)).toMatch(/scheduled event 'copyRound' does not match activity type of activity command 'sampleEndOffsets'/);
  // Guarded, it replays both the old history and the whole upgraded one; the old code cannot replay the upgraded one.
  expect(await replayError(guardedBundle, preUpgrade, batchId)).toBeUndefined();
  expect(await replayError(guardedBundle, full, batchId)).toBeUndefined();
  expect(await replayError(BUNDLE_PATH, full, batchId)).toBeInstanceOf(DeterminismViolationError);

  // ------------------------------------------------------------------ exact: every record once, offsets translated
  const [sourceAdmin, targetAdmin] = [sourceAdminKafka().admin(), targetKafka().admin()];
  await Promise.all([sourceAdmin.connect(), targetAdmin.connect()]);
  try {
    const ends = async (a: typeof sourceAdmin) =>
      (await a.fetchTopicOffsets(topic)).sort((x, y) => x.partition - y.partition).map((o) => [Number(o.low), Number(o.high)]);
    expect(await ends(targetAdmin)).toEqual(await ends(sourceAdmin));
    expect((await ends(targetAdmin)).map(([, h]) => h)).toEqual([PER_PARTITION, PER_PARTITION]);
    const [committed] = await targetAdmin.fetchOffsets({ groupId: group, topics: [topic] });
    const expected = await Promise.all(COMMITTED.map(async (offset, p) => translateOffset(await loadOffsetMap(spec.target, name, topic, p), offset)));
    expect(expected).toEqual(COMMITTED);
    expect(committed.partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset))).toEqual(expected);
  } finally {
    await Promise.all([sourceAdmin.disconnect(), targetAdmin.disconnect()]);
  }
  const values = await targetValues(topic);
  for (let p = 0; p < PARTITIONS; p++) {
    expect(values[p].map((v) => v.slice(0, v.lastIndexOf('-')))).toEqual(Array.from({ length: PER_PARTITION }, (_, i) => `${topic}-${p}-${i}`));
  }
}, 420_000);
