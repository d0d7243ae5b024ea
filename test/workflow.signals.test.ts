/**
 * Every operator path through the migration and batch workflows, on the real Temporal server with scripted
 * activities: approve, reject, override, abort, signals in the wrong phase or for the wrong batch, approval
 * before the batch is ready, producersStopped while writes go on, groups still active, a failed verification.
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { MigrationSpec } from '../src/config/spec';
import type { BatchStatus, MigrationStatus } from '../src/types';
import { batchWorkflowId } from '../src/workflows/ids';
import {
  actionSignals,
  batchStatusQuery,
  operatorActionUpdate,
  statusQuery,
  waitsFor,
  type OperatorAction,
  type OperatorActionName,
} from '../src/workflows/messages';
import type { MigrationResult } from '../src/workflows/migration';
import { fakeActivities, fakeWorldSpec, resetScenario, scenario, startMigrationOn } from './helpers/fakeActivities';
import { startTestWorker, type TestTemporal } from './helpers/temporal';
import { until } from './helpers/until';

let t: TestTemporal;
beforeAll(async () => {
  t = await startTestWorker({ activities: fakeActivities });
});
afterAll(async () => {
  await t?.shutdown();
});
beforeEach(() => resetScenario());

const specFor = fakeWorldSpec;
const start = (spec: MigrationSpec) => startMigrationOn(t, spec);

async function act(h: WorkflowHandle, action: OperatorAction): Promise<string> {
  try {
    return (await h.executeUpdate(operatorActionUpdate, { args: [action] })).message;
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) throw new Error(`refused: ${e.cause?.message}`);
    throw e;
  }
}

const waitingFor = (h: WorkflowHandle, signal: string) =>
  until(
    () => h.query(statusQuery),
    (s: MigrationStatus) => s.waitingFor?.signal === signal,
    `migration waiting for ${signal}`,
  );
const batchWaitingFor = (h: WorkflowHandle, signal: string) =>
  until(
    () => h.query(batchStatusQuery),
    (s: BatchStatus) => s.waitingFor?.signal === signal || waitsFor(s.waitingFor, signal as OperatorActionName),
    `batch waiting for ${signal}`,
  );

/** Drives one batch through a producers-first cutover. */
async function cutOver(spec: MigrationSpec, number: number, system: string): Promise<void> {
  const b = t.client.workflow.getHandle(batchWorkflowId(spec.name, number, system));
  await batchWaitingFor(b, 'approveCutover');
  await act(b, { action: 'approveCutover', by: 'alice', batch: number });
  await batchWaitingFor(b, 'producersStopped');
  await act(b, { action: 'producersStopped', by: 'alice', batch: number });
  await batchWaitingFor(b, 'consumersStopped');
  await act(b, { action: 'consumersStopped', by: 'alice', batch: number });
}

test('approve path: plan (non-core first) → batch by batch cutover → completed, every decision recorded', async () => {
  const spec = specFor('approve');
  const h = await start(spec);
  const atPlan = await waitingFor(h, 'approvePlan|rejectPlan');
  expect(atPlan.preflight?.verdict).toBe('pass');
  expect(atPlan.plan!.batches.map((b) => [b.number, b.name, b.priority])).toEqual([
    [1, 'ads', 'non-core'],
    [2, 'shop', 'core'],
  ]);
  await act(h, { action: 'approvePlan', by: 'alice', comment: 'ok' });
  await cutOver(spec, 1, 'ads');
  await waitingFor(h, 'approveBatch');
  await expect(act(h, { action: 'approveBatch', by: 'bob', batch: 3 })).rejects.toThrow(/meant for batch 3, but batch 2 is the one waiting/);
  await act(h, { action: 'approveBatch', by: 'bob', batch: 2 });
  await cutOver(spec, 2, 'shop');
  const result: MigrationResult = await h.result();
  expect(result.outcome).toBe('completed');
  expect(result.status.batches.map((b) => b.state)).toEqual(['completed', 'completed']);
  expect(result.status.decisions.filter((d) => d.accepted).map((d) => `${d.kind}:${d.by}`)).toEqual(['approvePlan:alice', 'approveBatch:bob']);
  expect(result.status.decisions.find((d) => !d.accepted)).toBeUndefined(); // refused updates leave no trace in history
  const batch1 = await t.client.workflow.getHandle(batchWorkflowId(spec.name, 1, 'ads')).query(batchStatusQuery);
  expect(batch1.step).toBe('completed');
  expect(batch1.decisions.map((d) => d.kind)).toEqual(['approveCutover', 'producersStopped', 'consumersStopped']);
  expect(batch1.writePauseMs).toBeGreaterThanOrEqual(0);
  expect(Object.keys(batch1.milestones)).toEqual(
    expect.arrayContaining([
      'ready',
      'cutoverApproved',
      'producersStopped',
      'sourceQuiet',
      'drained',
      'consumersStopped',
      'clientsMayMove',
      'verified',
      'completed',
    ]),
  );
  expect(scenario.calls).toContain('translateOffsetsAndReport:ads-aggregator');
  expect(scenario.calls).toContain('writeReportFiles:migration');
});

test('reject: needs a reason, then ends the migration as rejected', async () => {
  const h = await start(specFor('reject'));
  await waitingFor(h, 'approvePlan|rejectPlan');
  await expect(act(h, { action: 'rejectPlan', by: 'carol' })).rejects.toThrow(/rejectPlan: "reason" is required/);
  await act(h, { action: 'rejectPlan', by: 'carol', reason: 'wrong scope' });
  const r = await h.result();
  expect(r.outcome).toBe('rejected');
  expect(r.status.phase).toBe('aborted');
  expect(r.status.decisions).toEqual([expect.objectContaining({ kind: 'rejectPlan', by: 'carol', reason: 'wrong scope', accepted: true })]);
  expect(scenario.calls.some((c) => c.startsWith('createTargetTopics'))).toBe(false);
});

test('override: a failed preflight blocks until overridden with a reason; other approvals are refused meanwhile', async () => {
  resetScenario({ preflightVerdicts: { capacity: 'fail', acls: 'warn' } });
  const h = await start(specFor('override'));
  const s = await waitingFor(h, 'overridePreflight');
  expect(s.waitingFor?.reason).toMatch(/preflight failed: capacity/);
  expect(s.preflight?.verdict).toBe('fail');
  await expect(act(h, { action: 'approvePlan', by: 'dave' })).rejects.toThrow(/approvePlan: not expected in phase preflight: it waits for overridePreflight/);
  await expect(act(h, { action: 'overridePreflight', by: 'dave' })).rejects.toThrow(/"reason" is required/);
  await expect(act(h, { action: 'overridePreflight', by: '', reason: 'x' })).rejects.toThrow(/"by" is required/);
  await act(h, { action: 'overridePreflight', by: 'dave', reason: 'capacity verified with the vendor' });
  await waitingFor(h, 'approvePlan|rejectPlan');
  await act(h, { action: 'abort', by: 'dave', reason: 'end of test' });
  const r = await h.result();
  expect(r.outcome).toBe('aborted');
  expect(r.status.decisions.map((d) => [d.kind, d.phase, d.reason])).toEqual([
    ['overridePreflight', 'preflight', 'capacity verified with the vendor'],
    ['abort', 'plan', 'end of test'],
  ]);
});

test('abort: ends the migration; later actions are refused', async () => {
  const h = await start(specFor('abort'));
  await waitingFor(h, 'approvePlan|rejectPlan');
  await expect(act(h, { action: 'abort', by: 'erin' })).rejects.toThrow(/abort: "reason" is required/);
  await act(h, { action: 'abort', by: 'erin', reason: 'change freeze' });
  expect((await h.result()).outcome).toBe('aborted');
  await expect(act(h, { action: 'approvePlan', by: 'erin' })).rejects.toThrow();
  await expect(act(h, { action: 'abort', by: 'erin', reason: 'again' })).rejects.toThrow();
});

test('a plain signal in the wrong phase is refused and recorded with its reason', async () => {
  const h = await start(specFor('wrongphase'));
  await waitingFor(h, 'approvePlan|rejectPlan');
  await h.signal(actionSignals.approveCutover, { by: 'frank', batch: 1 });
  await h.signal(actionSignals.approvePlan, { by: '' });
  const s = await until(
    () => h.query(statusQuery),
    (st: MigrationStatus) => st.decisions.length >= 2,
    'refusals recorded',
  );
  expect(s.decisions).toEqual([
    expect.objectContaining({
      kind: 'approveCutover',
      by: 'frank',
      accepted: false,
      reason: expect.stringMatching(/not expected in phase plan: it waits for approvePlan or rejectPlan/),
    }),
    expect.objectContaining({ kind: 'approvePlan', accepted: false, reason: expect.stringMatching(/"by" is required/) }),
  ]);
  expect(s.phase).toBe('plan');
  await act(h, { action: 'abort', by: 'frank', reason: 'end of test' });
  await h.result();
});

test('batch: approve before ready is refused; producersStopped while writes continue goes back to waiting; active groups block consumersStopped; failed verification waits for a decision', async () => {
  resetScenario({ lagPerRound: [50000, 50000, 50000, 50000, 0], quiet: [false, true], groupStates: ['Stable', 'Empty'], verifyOk: [false, true] });
  const spec = specFor('batchpaths', { scope: { topics: ['ads\\..*'] } });
  const h = await start(spec);
  await waitingFor(h, 'approvePlan|rejectPlan');
  await act(h, { action: 'approvePlan', by: 'gina' });
  const b = t.client.workflow.getHandle(batchWorkflowId(spec.name, 1, 'ads'));
  const copying = await until(
    () => b.query(batchStatusQuery),
    (s: BatchStatus) => s.step === 'copying' && s.rounds > 0,
    'first copy round',
  );
  expect(copying.ready).toBe(false);
  expect(copying.totals.lagRecords).toBe(150000);
  await expect(act(b, { action: 'approveCutover', by: 'gina', batch: 1 })).rejects.toThrow(/approveCutover: not expected in phase copying/);

  await batchWaitingFor(b, 'approveCutover');
  await expect(act(b, { action: 'approveCutover', by: 'gina', batch: 2 })).rejects.toThrow(/meant for batch 2, but batch 1 is the one waiting/);
  await act(b, { action: 'approveCutover', by: 'gina', batch: 1 });
  // A repeated approval (a retried CLI call) is refused, not taken twice.
  await expect(act(b, { action: 'approveCutover', by: 'gina', batch: 1 })).rejects.toThrow(/approveCutover: not expected in phase/);

  await batchWaitingFor(b, 'producersStopped');
  // A checked action answers with its check's verdict: refused, with the partitions that moved.
  await expect(act(b, { action: 'producersStopped', by: 'gina', batch: 1 })).rejects.toThrow(
    /producersStopped refused: the source is not quiet: end offsets moved on 1 partitions .*shop\.orders:0/,
  );
  const back = await b.query(batchStatusQuery);
  expect(back.waitingFor?.signal).toBe('producersStopped|clientsStopped');
  expect(back.decisions.find((d) => d.kind === 'producersStopped')).toMatchObject({ accepted: false, by: 'gina' });
  expect(await act(b, { action: 'producersStopped', by: 'gina', batch: 1 })).toMatch(/producersStopped accepted: the source stood still/);

  await batchWaitingFor(b, 'consumersStopped');
  await expect(act(b, { action: 'consumersStopped', by: 'gina', batch: 1 })).rejects.toThrow(
    /consumersStopped refused: groups still active on the source: ads-aggregator \(Stable, 1 members\)/,
  );
  const refused = await b.query(batchStatusQuery);
  expect(refused.step).toBe('awaiting-consumers-stopped');
  await act(b, { action: 'consumersStopped', by: 'gina', batch: 1 });

  await batchWaitingFor(b, 'retryVerification|acceptMismatches');
  await expect(act(b, { action: 'acceptMismatches', by: 'gina', batch: 1 })).rejects.toThrow(/"reason" is required/);
  await act(b, { action: 'retryVerification', by: 'gina', batch: 1 });
  const r = await h.result();
  expect(r.outcome).toBe('completed');
  expect(scenario.calls.filter((c) => c.startsWith('verifyBatchAndReport'))).toEqual(['verifyBatchAndReport:false', 'verifyBatchAndReport:true']);
});

test('abort during cutover rolls the batch back: fence removed, created topics deleted, no further batch', async () => {
  const spec = specFor('abortcut', { cutover: { fenceWithAcl: true, deleteTargetTopicsOnAbort: true } });
  const h = await start(spec);
  await waitingFor(h, 'approvePlan|rejectPlan');
  await act(h, { action: 'approvePlan', by: 'hank' });
  const b = t.client.workflow.getHandle(batchWorkflowId(spec.name, 1, 'ads'));
  await batchWaitingFor(b, 'approveCutover');
  await act(b, { action: 'approveCutover', by: 'hank', batch: 1 });
  await batchWaitingFor(b, 'producersStopped');
  await act(b, { action: 'producersStopped', by: 'hank', batch: 1 });
  await batchWaitingFor(b, 'consumersStopped');
  expect(scenario.calls).toContain('fenceSourceWrites');
  await act(h, { action: 'abort', by: 'hank', reason: 'consumer team not ready' });
  const r = await h.result();
  expect(r.outcome).toBe('aborted');
  expect(r.status.batches.map((x) => x.state)).toEqual(['aborted', 'skipped']);
  expect(scenario.calls).toEqual(expect.arrayContaining(['unfenceSourceWrites', 'deleteTargetTopics:ads.clicks']));
  const bs = await b.query(batchStatusQuery);
  expect(bs.step).toBe('aborted');
  expect(bs.notes.join('\n')).toMatch(/abort by hank: consumer team not ready/);
});

test('abort is refused once clients may already write to the target', async () => {
  resetScenario({ verifyOk: [false] });
  const spec = specFor('lateabort', { scope: { topics: ['ads\\..*'] } });
  const h = await start(spec);
  await waitingFor(h, 'approvePlan|rejectPlan');
  await act(h, { action: 'approvePlan', by: 'ivy' });
  await cutOver(spec, 1, 'ads');
  const b = t.client.workflow.getHandle(batchWorkflowId(spec.name, 1, 'ads'));
  await batchWaitingFor(b, 'retryVerification|acceptMismatches');
  await expect(act(b, { action: 'abort', by: 'ivy', reason: 'oops' })).rejects.toThrow(/abort: refused: clients may already use the target/);
  await expect(act(h, { action: 'abort', by: 'ivy', reason: 'oops' })).rejects.toThrow(/abort: refused: clients of batch 1 \(ads\) may already use the target/);
  await act(b, { action: 'acceptMismatches', by: 'ivy', batch: 1, reason: 'known test data difference' });
  const r = await h.result();
  expect(r.status.batches[0].state).toBe('accepted-with-mismatches');
});

test('cancellation from Temporal after clients moved is refused and recorded; the batch still completes', async () => {
  resetScenario({ verifyOk: [false] });
  const spec = specFor('latecancel', { scope: { topics: ['ads\\..*'] } });
  const h = await start(spec);
  await waitingFor(h, 'approvePlan|rejectPlan');
  await act(h, { action: 'approvePlan', by: 'ivy' });
  await cutOver(spec, 1, 'ads');
  const b = t.client.workflow.getHandle(batchWorkflowId(spec.name, 1, 'ads'));
  await batchWaitingFor(b, 'retryVerification|acceptMismatches');
  // Request Cancellation (UI or API) on the batch and on the migration: both are aborts, both refused.
  await b.cancel();
  await h.cancel();
  const refusedBatch = await until(
    () => b.query(batchStatusQuery),
    (s: BatchStatus) => s.decisions.some((d) => d.by === 'temporal'),
    'batch records the cancellation',
  );
  expect(refusedBatch.decisions.filter((d) => d.by === 'temporal')).toEqual([
    expect.objectContaining({
      kind: 'abort',
      accepted: false,
      reason: expect.stringMatching(/^cancelled from Temporal: .*clients may already use the target/),
    }),
  ]);
  expect(refusedBatch.step).toBe('verification-failed');
  expect(refusedBatch.waitingFor?.signal).toBe('retryVerification|acceptMismatches');
  const refusedMigration = await until(
    () => h.query(statusQuery),
    (s: MigrationStatus) => s.decisions.some((d) => d.by === 'temporal'),
    'migration records the cancellation',
  );
  expect(refusedMigration.decisions.filter((d) => d.by === 'temporal')).toEqual([
    expect.objectContaining({
      kind: 'abort',
      accepted: false,
      reason: expect.stringMatching(/^cancelled from Temporal: .*clients of batch 1 \(ads\) may already use the target/),
    }),
  ]);
  await act(b, { action: 'acceptMismatches', by: 'ivy', batch: 1, reason: 'known test data difference' });
  const r = await h.result();
  expect(r.outcome).toBe('completed');
  expect(r.status.batches[0].state).toBe('accepted-with-mismatches');
  expect((await h.describe()).status.name).toBe('COMPLETED');
  expect((await b.describe()).status.name).toBe('COMPLETED');
  expect(scenario.calls.filter((c) => c.startsWith('deleteTargetTopics') || c.startsWith('unfence'))).toEqual([]);
});

test('an invalid edited plan is refused with its reason while the workflow keeps waiting; a valid edit is used', async () => {
  const spec = specFor('editplan');
  const h = await start(spec);
  await waitingFor(h, 'approvePlan|rejectPlan');
  await expect(act(h, { action: 'approvePlan', by: 'jo', plan: { batches: [{ number: 1, topics: ['ads.clicks', 'no.such.topic'] }] } })).rejects.toThrow(
    /approvePlan: edited plan refused: .*no\.such\.topic/,
  );
  await expect(
    act(h, {
      action: 'approvePlan',
      by: 'jo',
      plan: {
        batches: [
          { number: 1, topics: ['shop.orders'] },
          { number: 2, topics: ['shop.payments'] },
        ],
      },
    }),
  ).rejects.toThrow(/approvePlan: edited plan refused: .*shop-service/);
  const still = await h.query(statusQuery);
  expect(still.waitingFor?.signal).toBe('approvePlan|rejectPlan');
  // Valid: ads excluded, the shop batch moved to the front.
  await act(h, { action: 'approvePlan', by: 'jo', comment: 'ads later', plan: { batches: [{ number: 1, topics: ['shop.orders', 'shop.payments'] }] } });
  const s = await until(
    () => h.query(statusQuery),
    (st: MigrationStatus) => st.phase === 'sync',
    'sync phase',
  );
  expect(s.plan!.batches.map((b) => [b.number, b.name, b.topics.map((x) => x.name)])).toEqual([[1, 'shop', ['shop.orders', 'shop.payments']]]);
  expect(s.proposedPlan!.batches).toHaveLength(2);
  expect(scenario.calls).toContain('writeReportFiles:plan-approved');
  await act(h, { action: 'abort', by: 'jo', reason: 'end of test' });
  expect((await h.result()).outcome).toBe('aborted');
});
