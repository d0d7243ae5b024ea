/** The plumbing end to end: CLI-style start of the migration workflow, a real worker, the real clusters. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { MigrationStatus } from '../src/types';
import { migrationWorkflow } from '../src/workflows/migration';
import { operatorActionUpdate, statusQuery } from '../src/workflows/messages';
import { migrationWorkflowId } from '../src/workflows/ids';
import { SOURCE_SASL_BOOTSTRAP, stackSpec, TARGET_BOOTSTRAP, uniqueSuffix } from './helpers/stack';
import { startTestWorker, type TestTemporal } from './helpers/temporal';
import { until } from './helpers/until';

let t: TestTemporal;
beforeAll(async () => {
  t = await startTestWorker();
});
afterAll(async () => {
  await t?.shutdown();
});

test('checkConnectivity reaches both real clusters (SASL on the source) and is queryable', async () => {
  const spec = stackSpec({ name: `conn-${uniqueSuffix()}` });
  const handle = await t.client.workflow.start(migrationWorkflow, {
    taskQueue: t.settings.taskQueue,
    workflowId: migrationWorkflowId(spec.name),
    args: [{ spec }],
  });
  // The migration goes on to preflight and the plan; connectivity is the first thing it reports.
  let status = await handle.query(statusQuery);
  for (let i = 0; i < 150 && !status.connectivity && !status.error; i++) {
    await new Promise((r) => setTimeout(r, 200));
    status = await handle.query(statusQuery);
  }
  expect(status.error).toBeUndefined();
  await handle.executeUpdate(operatorActionUpdate, { args: [{ action: 'abort', by: 'connectivity-test', reason: 'only connectivity is tested here' }] });
  const result = await handle.result();
  expect(result.outcome).toBe('aborted');
  expect(result.status.connectivity).toEqual(status.connectivity);
  const c = status.connectivity!;
  expect(c.source).toMatchObject({ role: 'source', securityProtocol: 'SASL_PLAINTEXT', user: 'migrator', bootstrapServers: [SOURCE_SASL_BOOTSTRAP] });
  expect(c.source.brokers).toEqual([expect.objectContaining({ host: '127.0.0.1', port: Number(SOURCE_SASL_BOOTSTRAP.split(':')[1]) })]);
  expect(c.target).toMatchObject({ role: 'target', securityProtocol: 'PLAINTEXT', bootstrapServers: [TARGET_BOOTSTRAP] });
  expect(c.source.clusterId).not.toEqual(c.target.clusterId);
});

/** A configuration fault blocks the migration in connectivity (never FAILED): returns the block, then aborts. */
async function blockedThenAborted(handle: WorkflowHandle): Promise<MigrationStatus['blocked']> {
  const status = await until(
    () => handle.query(statusQuery),
    (s: MigrationStatus) => s.phase === 'blocked',
    'the migration to block',
    30_000,
  );
  expect(status.blocked).toMatchObject({ step: 'connectivity', actions: ['retry', 'abort'] });
  expect(status.waitingFor?.signal).toBe('retry');
  await handle.signal('abort', { by: 'test', reason: 'fix the spec first' });
  expect((await handle.result()).outcome).toBe('aborted');
  return status.blocked;
}

test('a wrong SASL password blocks at once, non-retryable, naming the cluster and the user but not the password', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-'));
  const badFile = join(dir, 'wrong.password');
  writeFileSync(badFile, 'not-the-password-xyz');
  const spec = stackSpec({ name: `badpw-${uniqueSuffix()}` });
  spec.source.sasl!.password = { file: badFile };
  const handle = await t.client.workflow.start(migrationWorkflow, {
    taskQueue: t.settings.taskQueue,
    workflowId: migrationWorkflowId(spec.name),
    args: [{ spec }],
  });
  const started = Date.now();
  const blocked = await blockedThenAborted(handle);
  expect(blocked!.type).toBe('KafkaAuthenticationFailed');
  expect(blocked!.error).toMatch(
    /^checkConnectivity: authentication failed on the source cluster 127\.0\.0\.1:\d+ over SASL_PLAINTEXT as user "migrator" \(PLAIN\)/,
  );
  expect(JSON.stringify(blocked)).not.toContain('not-the-password-xyz');
  console.log(`wrong SASL password: blocked after ${Date.now() - started} ms`); // speed is the benchmark's job
  // exactly one attempt: the failure is non-retryable (not retried for minutes)
  const history = await handle.fetchHistory();
  const failed = history.events!.filter((e) => e.activityTaskFailedEventAttributes);
  expect(failed).toHaveLength(1);
  expect(failed[0].activityTaskFailedEventAttributes!.failure!.applicationFailureInfo!.nonRetryable).toBe(true);
  expect(JSON.stringify(history)).not.toContain('not-the-password-xyz');
});

test('a missing password reference is a clear non-retryable error', async () => {
  const spec = stackSpec({ name: `nopw-${uniqueSuffix()}` });
  spec.source.sasl!.password = { env: 'KM_TEST_UNSET_PASSWORD_VAR' };
  const handle = await t.client.workflow.start(migrationWorkflow, {
    taskQueue: t.settings.taskQueue,
    workflowId: migrationWorkflowId(spec.name),
    args: [{ spec }],
  });
  const blocked = await blockedThenAborted(handle);
  expect(blocked!.error).toMatch(/source\.sasl\.password: environment variable KM_TEST_UNSET_PASSWORD_VAR is not set on the worker/);
});

test('a protocol the target profile cannot take blocks at once, saying which field and what is expected', async () => {
  const spec = stackSpec({ name: `ssl-${uniqueSuffix()}` });
  spec.target.securityProtocol = 'SSL';
  const handle = await t.client.workflow.start(migrationWorkflow, {
    taskQueue: t.settings.taskQueue,
    workflowId: migrationWorkflowId(spec.name),
    args: [{ spec }],
  });
  const blocked = await blockedThenAborted(handle);
  expect(blocked!.error).toMatch(
    /^checkConnectivity: target\.securityProtocol SSL is not accepted by the automq profile \(expected PLAINTEXT\): use the target's PLAINTEXT listener/,
  );
  const history = await handle.fetchHistory();
  expect(history.events!.filter((e) => e.activityTaskFailedEventAttributes)).toHaveLength(1);
});
