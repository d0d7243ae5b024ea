/**
 * Bad input, part 2: operator actions in the wrong phase or with invalid payloads, on the real Temporal
 * server with scripted activities (only the validation of actions is under test here; the Kafka side is in
 * badInput.cluster.test.ts). Through the checked update the refusal comes back to the sender; a raw signal
 * cannot answer, so its refusal is recorded in the decisions. Either way the workflow keeps waiting, and
 * every case ends with no workflow of the migration left running.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { MigrationSpec } from '../src/config/spec';
import type { BatchStatus, Decision, MigrationStatus } from '../src/types';
import { batchWorkflowId, migrationWorkflowId } from '../src/workflows/ids';
import { batchStatusQuery, OPERATOR_ACTIONS, operatorActionUpdate, statusQuery, type OperatorAction } from '../src/workflows/messages';
import { fakeActivities, fakeWorldSpec, resetScenario, startMigrationOn, type RealActivities } from './helpers/fakeActivities';
import { expectNoRunningWorkflow } from './helpers/noDamage';
import { cli } from './helpers/operator';
import { startTestWorker, type TestTemporal } from './helpers/temporal';
import { until } from './helpers/until';

/** Connectivity takes this long for specs with source.clientId SLOW: an abort arrives while it runs. */
const SLOW = 'km-slow-connectivity';
const SLOW_MS = 4000;

let t: TestTemporal;
beforeAll(async () => {
  const activities = {
    ...fakeActivities,
    checkConnectivity: async (input) => {
      if (input.source.clientId === SLOW) await new Promise((r) => setTimeout(r, SLOW_MS));
      return fakeActivities.checkConnectivity();
    },
  } satisfies Partial<RealActivities>;
  t = await startTestWorker({ activities });
});
afterAll(async () => {
  await t?.shutdown();
});
beforeEach(() => resetScenario());

const ALL_ACTIONS = OPERATOR_ACTIONS.join(', ');
const PLAN_WAIT = 'approve the plan of 2 batches (see the plan report), optionally with an edited plan';

const specFor = fakeWorldSpec;
const start = (spec: MigrationSpec) => startMigrationOn(t, spec);

/** Sends the checked update; resolves to the workflow's refusal message (fails the test if accepted). */
async function refused(h: WorkflowHandle, action: unknown): Promise<string> {
  try {
    const r = await h.executeUpdate(operatorActionUpdate, { args: [action as OperatorAction] });
    throw new Error(`expected a refusal, got: ${r.message}`);
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) return (e.cause as Error).message;
    throw e;
  }
}

const status = (h: WorkflowHandle) => h.query(statusQuery);
const planWait = (h: WorkflowHandle) =>
  until(
    () => status(h),
    (s: MigrationStatus) => s.waitingFor?.signal === 'approvePlan|rejectPlan',
    'the plan approval',
  );
const refusals = (s: { decisions: Decision[] }) => s.decisions.filter((d) => !d.accepted).map((d) => ({ kind: d.kind, by: d.by, reason: d.reason }));

/** Ends the migration with a reason and checks that nothing of it still runs. */
async function rejectAndCheck(h: WorkflowHandle, spec: MigrationSpec): Promise<void> {
  await h.executeUpdate(operatorActionUpdate, { args: [{ action: 'rejectPlan', by: 'ops', reason: 'end of the bad-input case' }] });
  expect((await h.result()).outcome).toBe('rejected');
  await expectNoRunningWorkflow(t.client, spec.name);
}

test('updates with a missing "by", a missing reason, an unknown action, or in the wrong phase are refused with their reason', async () => {
  const spec = specFor('bad-upd');
  const h = await start(spec);
  await planWait(h);

  expect(await refused(h, { action: 'approvePlan' })).toBe('approvePlan: "by" is required (who takes this action)');
  expect(await refused(h, { action: 'approvePlan', by: '   ' })).toBe('approvePlan: "by" is required (who takes this action)');
  expect(await refused(h, { action: 'rejectPlan', by: 'ops' })).toBe('rejectPlan: "reason" is required');
  expect(await refused(h, { action: 'abort', by: 'ops', reason: '' })).toBe('abort: "reason" is required');
  expect(await refused(h, { action: 'frobnicate', by: 'ops' })).toBe(`unknown action "frobnicate"; expected one of ${ALL_ACTIONS}`);
  expect(await refused(h, 'approve')).toBe('expected a payload object with at least "by"');
  expect(await refused(h, { action: 'approveCutover', by: 'ops' })).toBe(
    `approveCutover: not expected in phase plan: it waits for approvePlan or rejectPlan (${PLAN_WAIT})`,
  );
  expect(await refused(h, { action: 'overridePreflight', by: 'ops', reason: 'why not' })).toBe(
    `overridePreflight: not expected in phase plan: it waits for approvePlan or rejectPlan (${PLAN_WAIT})`,
  );
  expect(await refused(h, { action: 'approveBatch', by: 'ops', batch: 2 })).toBe(
    `approveBatch: not expected in phase plan: it waits for approvePlan or rejectPlan (${PLAN_WAIT})`,
  );

  // A refused update leaves no trace and changes nothing: the migration still waits for the plan decision.
  const after = await status(h);
  expect(after).toMatchObject({ phase: 'plan', waitingFor: { signal: 'approvePlan|rejectPlan' } });
  expect(after.decisions).toEqual([]);
  await rejectAndCheck(h, spec);
});

test('raw signals with an unknown name, no payload object, no "by" or in the wrong phase are refused and recorded', async () => {
  const spec = specFor('bad-sig');
  const h = await start(spec);
  await planWait(h);

  await h.signal('approvePlna', { by: 'mallory' }); // a typo: no workflow handler has that name
  await h.signal('approvePlan', 'yes' as never); // not a payload object
  await h.signal('rejectPlan', { by: 'ops' }); // no reason
  await h.signal('approveCutover', { by: 'ops' }); // wrong phase
  await h.signal('producersStopped', { by: 'ops', batch: 1 }); // wrong phase

  const s = await until(
    () => status(h),
    (x: MigrationStatus) => refusals(x).length === 5,
    'five recorded refusals',
  );
  expect(refusals(s)).toEqual([
    { kind: 'approvePlna', by: 'mallory', reason: `unknown action "approvePlna"; expected one of ${ALL_ACTIONS}` },
    { kind: 'approvePlan', by: '(unknown)', reason: 'approvePlan: "by" is required (who takes this action)' },
    { kind: 'rejectPlan', by: 'ops', reason: 'rejectPlan: "reason" is required' },
    { kind: 'approveCutover', by: 'ops', reason: `approveCutover: not expected in phase plan: it waits for approvePlan or rejectPlan (${PLAN_WAIT})` },
    { kind: 'producersStopped', by: 'ops', reason: `producersStopped: not expected in phase plan: it waits for approvePlan or rejectPlan (${PLAN_WAIT})` },
  ]);
  expect(s).toMatchObject({ phase: 'plan', waitingFor: { signal: 'approvePlan|rejectPlan' }, batches: [] });
  await rejectAndCheck(h, spec);
});

test('an edited plan that is not a plan object is refused (update and CLI --plan), and the proposed plan stays', async () => {
  const spec = specFor('bad-plan');
  const h = await start(spec);
  const proposed = (await planWait(h)).plan;
  const notAPlan = 'approvePlan: edited plan refused: expected an object with a "batches" array';
  expect(await refused(h, { action: 'approvePlan', by: 'ops', plan: 'all of it' })).toBe(notAPlan);
  expect(await refused(h, { action: 'approvePlan', by: 'ops', plan: [1, 2] })).toBe(notAPlan);
  expect(await refused(h, { action: 'approvePlan', by: 'ops', plan: { batches: 'shop' } })).toBe(notAPlan);
  expect(await refused(h, { action: 'approvePlan', by: 'ops', plan: { batches: [{ number: 1, topics: 'shop.orders' }] } })).toBe(
    'approvePlan: edited plan refused: batches[0].topics: expected an array of topic names',
  );
  expect(await refused(h, { action: 'approvePlan', by: 'ops', plan: { batches: [] } })).toBe(
    'approvePlan: edited plan refused: the edited plan has no batches: reject the plan instead',
  );

  const dir = mkdtempSync(join(tmpdir(), 'km-bad-plan-'));
  const quoted = join(dir, 'plan.json');
  writeFileSync(quoted, '"everything"');
  expect(await cli(t.settings.taskQueue, 'approve', spec.name, '--step', 'plan', '--by', 'ops', '--plan', quoted)).toEqual({
    code: 3,
    out: '',
    err: `refused: ${notAPlan}`,
  });
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{ "batches": [ ');
  const b = await cli(t.settings.taskQueue, 'approve', spec.name, '--step', 'plan', '--by', 'ops', '--plan', broken);
  expect(b.code).toBe(2);
  expect(b.err).toMatch(new RegExp(`^error: --plan: ${broken.replace(/[.]/g, '\\.')} is not valid JSON \\(.+\\); start from the plan report's \\.json file$`));
  expect(await cli(t.settings.taskQueue, 'approve', spec.name, '--step', 'plan', '--by', 'ops', '--plan', join(dir, 'none.json'))).toEqual({
    code: 2,
    out: '',
    err: `error: --plan: cannot read ${join(dir, 'none.json')} (ENOENT)`,
  });
  expect(await cli(t.settings.taskQueue, 'approve', spec.name, '--step', 'plan', '--by', ' ')).toEqual({
    code: 2,
    out: '',
    err: 'error: --by is required (who takes this action); $USER is not set',
  });

  const s = await status(h);
  expect(s).toMatchObject({ phase: 'plan', plan: proposed, decisions: [] });
  expect(s.proposedPlan).toBeUndefined();
  rmSync(dir, { recursive: true, force: true });
  await rejectAndCheck(h, spec);
});

test('a cutover action for the wrong batch is refused, by the workflow and by the CLI', async () => {
  const spec = specFor('bad-batch');
  const h = await start(spec);
  await planWait(h);
  await h.executeUpdate(operatorActionUpdate, { args: [{ action: 'approvePlan', by: 'ops' }] });
  const b1 = t.client.workflow.getHandle(batchWorkflowId(spec.name, 1, 'ads'));
  await until(
    () => b1.query(batchStatusQuery),
    (s: BatchStatus) => s.waitingFor?.signal === 'approveCutover',
    'batch 1 waiting for approveCutover',
  );

  expect(await refused(b1, { action: 'approveCutover', by: 'ops', batch: 2 })).toBe('approveCutover: it is meant for batch 2, but batch 1 is the one waiting');
  expect(await refused(b1, { action: 'producersStopped', by: 'ops', batch: 1 })).toBe(
    'producersStopped: not expected in phase awaiting-cutover-approval: it waits for approveCutover (the batch has caught up; approve the client cutover)',
  );
  expect(await refused(h, { action: 'approveBatch', by: 'ops', batch: 2 })).toBe(
    'approveBatch: not expected in phase sync: it is not waiting for an operator action',
  );
  const q = t.settings.taskQueue;
  expect(await cli(q, 'approve', spec.name, '--step', 'cutover', '--batch', '2', '--by', 'ops')).toEqual({
    code: 3,
    out: '',
    err: 'refused: approveCutover: batch 2 (shop) is pending, not running',
  });
  expect(await cli(q, 'producers-stopped', spec.name, '--batch', '9', '--by', 'ops')).toEqual({
    code: 4,
    out: '',
    err: `error: migration ${migrationWorkflowId(spec.name)} has no batch 9 (batches: 1, 2)`,
  });
  expect(await cli(q, 'consumers-stopped', spec.name, '--batch', '0', '--by', 'ops')).toEqual({
    code: 2,
    out: '',
    err: 'error: --batch: expected a batch number (1, 2, ...), got "0"',
  });

  const s = await b1.query(batchStatusQuery);
  expect(s).toMatchObject({ step: 'awaiting-cutover-approval', waitingFor: { signal: 'approveCutover' } });
  expect(s.decisions).toEqual([]);

  // Abort rolls the batch back; nothing of the migration keeps running.
  expect(await cli(q, 'abort', spec.name, '--by', 'ops', '--reason', 'end of the bad-input case')).toMatchObject({ code: 0 });
  const r = await h.result();
  expect(r.outcome).toBe('aborted');
  expect(r.status.batches.map((x) => x.state)).toEqual(['aborted', 'skipped']);
  await expectNoRunningWorkflow(t.client, spec.name);
});

test('abort twice, then approve after abort: refused while the abort runs and after the migration ended', async () => {
  const base = specFor('bad-abort');
  const spec: MigrationSpec = { ...base, source: { ...base.source, clientId: SLOW } };
  const h = await start(spec);
  const id = migrationWorkflowId(spec.name);
  await until(
    () => status(h),
    (s: MigrationStatus) => s.phase === 'connectivity',
    'the connectivity phase',
  );
  const q = t.settings.taskQueue;

  // Connectivity is still running: the first abort is taken, the second one is refused.
  expect(await cli(q, 'abort', spec.name, '--by', 'alice', '--reason', 'wrong cluster')).toEqual({
    code: 0,
    out: `accepted: abort accepted in phase connectivity (${id})`,
    err: '',
  });
  expect(await cli(q, 'abort', spec.name, '--by', 'bob', '--reason', 'me too')).toEqual({ code: 3, out: '', err: 'refused: abort: already being aborted' });
  expect(await refused(h, { action: 'approvePlan', by: 'bob' })).toBe(
    'approvePlan: not expected in phase connectivity: it is not waiting for an operator action',
  );
  await h.signal('abort', { by: 'carol', reason: 'and me' });

  const r = await h.result();
  expect(r.outcome).toBe('aborted');
  expect(r.status.decisions.map((d) => ({ kind: d.kind, by: d.by, accepted: d.accepted, reason: d.reason }))).toEqual([
    { kind: 'abort', by: 'alice', accepted: true, reason: 'wrong cluster' },
    { kind: 'abort', by: 'carol', accepted: false, reason: 'abort: already being aborted' },
  ]);

  // After the end: every action is refused by the CLI, naming the ended workflow.
  expect(await cli(q, 'abort', spec.name, '--by', 'bob', '--reason', 'again')).toEqual({ code: 3, out: '', err: `refused: abort: ${id} has already ended` });
  expect(await cli(q, 'approve', spec.name, '--step', 'plan', '--by', 'bob')).toEqual({
    code: 3,
    out: '',
    err: `refused: approvePlan: ${id} has already ended`,
  });
  expect(await cli(q, 'override', spec.name, '--by', 'bob', '--reason', 'late')).toEqual({
    code: 3,
    out: '',
    err: `refused: overridePreflight: ${id} has already ended`,
  });
  expect(r.status.phase).toBe('aborted');
  expect(r.status.preflight).toBeUndefined(); // the abort stopped it before any further phase
  await expectNoRunningWorkflow(t.client, spec.name);
});

test('blocked-state actions and deadlines: retry with nothing blocked, excludeTopic without topic or reason, an expired or malformed deadline are refused', async () => {
  const spec = specFor('badblock');
  const h = await start(spec);
  await planWait(h);
  expect(await refused(h, { action: 'retry', by: 'ops' })).toBe(`retry: not expected in phase plan: it waits for approvePlan or rejectPlan (${PLAN_WAIT})`);
  expect(await refused(h, { action: 'excludeTopic', by: 'ops', topic: 'ads.clicks' })).toBe('excludeTopic: "reason" is required');
  expect(await refused(h, { action: 'approvePlan', by: 'ops', deadline: new Date(Date.now() - 60_000).toISOString() })).toMatch(
    /^approvePlan: expired at .* before a worker took it; it was not applied \(send it again\)$/,
  );
  expect(await refused(h, { action: 'approvePlan', by: 'ops', deadline: 'tomorrow' })).toBe('approvePlan: "deadline" must be an ISO time, got "tomorrow"');
  // The CLI: exclude-topic needs --topic and --reason (exit 2 from the argument parser), retry reaches the workflow.
  expect((await cli(t.settings.taskQueue, 'exclude-topic', spec.name, '--reason', 'x', '--by', 'ops')).code).toBe(2);
  expect((await cli(t.settings.taskQueue, 'exclude-topic', spec.name, '--topic', 'ads.clicks', '--by', 'ops')).code).toBe(2);
  const r = await cli(t.settings.taskQueue, 'retry', spec.name, '--by', 'ops');
  expect(r).toMatchObject({ code: 3 });
  expect(r.err).toMatch(/^refused: retry: not expected in phase plan/);
  const still = await status(h);
  expect(still.waitingFor?.signal).toBe('approvePlan|rejectPlan');
  expect(still.decisions).toEqual([]);
  await h.signal('abort', { by: 'ops', reason: 'end of test' });
  expect((await h.result()).outcome).toBe('aborted');
  await expectNoRunningWorkflow(t.client, migrationWorkflowId(spec.name));
});
