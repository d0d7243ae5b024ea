/**
 * The operator CLI against a real migration workflow (real worker, real clusters): start, status, list,
 * actions the workflow refuses (exit 3 with the workflow's reason), reports, abort.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrationWorkflowId } from '../src/workflows/ids';
import { cli, createSourceTopic, waitForOperatorWait } from './helpers/operator';
import { MIGRATOR_PASSWORD_FILE, SOURCE_SASL_BOOTSTRAP, TARGET_BOOTSTRAP, uniqueSuffix } from './helpers/stack';
import { startTestWorker, type TestTemporal } from './helpers/temporal';

let t: TestTemporal;
beforeAll(async () => {
  t = await startTestWorker();
});
afterAll(async () => {
  await t?.shutdown();
});

test('start, status, list, refused actions, report and abort through the CLI', async () => {
  const name = `cli-${uniqueSuffix()}`;
  const workflowId = migrationWorkflowId(name);
  const q = t.settings.taskQueue;
  await createSourceTopic(`${name}.orders`, 4);
  const dir = mkdtempSync(join(tmpdir(), 'km-cli-'));
  const specFile = join(dir, 'spec.yaml');
  writeFileSync(
    specFile,
    [
      `name: ${name}`,
      'source:',
      `  bootstrapServers: ["${SOURCE_SASL_BOOTSTRAP}"]`,
      '  securityProtocol: SASL_PLAINTEXT',
      `  sasl: { mechanism: PLAIN, username: migrator, password: { file: ${JSON.stringify(MIGRATOR_PASSWORD_FILE)} } }`,
      'target:',
      `  bootstrapServers: ["${TARGET_BOOTSTRAP}"]`,
      'scope:',
      `  topics: ["${name}\\\\..*"]`,
      'thresholds: { capacitySampleSeconds: 1 }',
      `reports: { dir: ${JSON.stringify(join(dir, 'reports'))} }`,
    ].join('\n'),
  );

  const started = await cli(q, 'start', '-f', specFile);
  expect(started.code).toBe(0);
  expect(started.out).toContain(`started ${workflowId}`);
  expect(started.out).toContain(`Temporal UI: http://127.0.0.1:8233/namespaces/default/workflows/${workflowId}`);
  const again = await cli(q, 'start', '-f', specFile);
  expect(again).toMatchObject({ code: 2, err: `error: migration ${workflowId} is already running; see "kafka-migrate status ${workflowId}"` });

  // The topics in scope are this test's own and not on the target: the preflight has nothing to fail on.
  const status = await waitForOperatorWait(t.client, workflowId);
  expect(status.preflight?.checks.filter((c) => c.verdict === 'fail')).toEqual([]);
  expect(status.phase).toBe('plan');

  // status: by name, text and JSON
  const text = await cli(q, 'status', name);
  expect(text.code).toBe(0);
  expect(text.out).toMatch(new RegExp(`^${workflowId} \\(RUNNING\\) — phase plan`));
  expect(text.out).toContain('waiting for: approvePlan|rejectPlan — approve the plan of 1 batches');
  expect(text.out).toMatch(/preflight: (pass|warn) \(\d+ pass, \d+ warn, 0 fail\)/);
  expect(text.out).toMatch(/inventory: \d+ topics, \d+ partitions/);
  const json = JSON.parse((await cli(q, 'status', workflowId, '--json')).out);
  expect(json).toMatchObject({ workflowId, execution: 'RUNNING', status: { name, phase: 'plan' }, batches: [] });

  // list: through visibility, with the phase from the search attribute
  const listed = await cli(q, 'list', '--json', '--limit', '100');
  expect(JSON.parse(listed.out)).toEqual(
    expect.arrayContaining([expect.objectContaining({ workflowId, type: 'migrationWorkflow', status: 'RUNNING', phase: 'plan', migration: name })]),
  );

  // refused by the workflow's validator: exit 3, its reason, nothing recorded
  const early = await cli(q, 'approve', name, '--step', 'batch', '--by', 'cli-test');
  expect(early.code).toBe(3);
  expect(early.err).toMatch(/^refused: approveBatch: not expected in phase plan: it waits for approvePlan or rejectPlan/);
  const noReason = await cli(q, 'override', name, '--by', 'cli-test', '--reason', ' ');
  expect(noReason).toMatchObject({ code: 3, err: 'refused: overridePreflight: "reason" is required' });
  // a batch action before any batch runs is refused by the CLI, naming the phase
  const cutover = await cli(q, 'approve', name, '--step', 'cutover', '--by', 'cli-test');
  expect(cutover).toMatchObject({ code: 3, err: `refused: approveCutover: no batch of ${workflowId} is running (phase plan); give --batch N` });
  const noBatch = await cli(q, 'producers-stopped', name, '--batch', '7', '--by', 'cli-test');
  expect(noBatch).toMatchObject({ code: 4, err: `error: migration ${workflowId} has no batch 7 (batches: none yet)` });
  const unknown = await cli(q, 'abort', `nope-${uniqueSuffix()}`, '--by', 'cli-test', '--reason', 'x');
  expect(unknown.code).toBe(4);

  // report in three formats
  const html = join(dir, 'out', 'report.html');
  expect(await cli(q, 'report', name, '--format', 'html', '--out', html)).toMatchObject({ code: 0, out: `wrote ${html}` });
  expect(readFileSync(html, 'utf8')).toContain(`<h1>Migration ${name}: in progress (plan)</h1>`);
  expect((await cli(q, 'report', name)).out).toMatch(/^# Migration .*\n[\s\S]*## Preflight/);

  // abort: accepted, recorded, and the migration ends
  const aborted = await cli(q, 'abort', name, '--by', 'cli-test', '--reason', 'end of test', '--comment', 'bye');
  expect(aborted).toMatchObject({ code: 0, err: '' });
  expect(aborted.out).toMatch(new RegExp(`^accepted: abort accepted in phase plan \\(${workflowId}\\)`));
  const result = await t.client.workflow.getHandle(workflowId).result();
  expect(result.outcome).toBe('aborted');
  const after = await cli(q, 'status', name);
  expect(after.out).toMatch(new RegExp(`^${workflowId} \\(COMPLETED\\) — phase aborted`));
  expect(after.out).toMatch(/plan +abort +by cli-test +accepted +bye — end of test/);
  const late = await cli(q, 'abort', name, '--by', 'cli-test', '--reason', 'again');
  expect(late).toMatchObject({ code: 3, err: `refused: abort: ${workflowId} has already ended` });
});
