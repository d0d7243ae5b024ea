/**
 * `status` and `report` on migrations that did not end well, on the real Temporal server with scripted
 * activities (test/helpers/fakeActivities.ts): a terminated migration shows its batches as Temporal has them
 * and exits 1 saying why; a batch workflow id renders that batch; a migration no worker polls exits 5; the
 * report carries each batch's verification verdict and its offset and verification reports.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowHandle } from '@temporalio/client';
import type { BatchStatus, MigrationStatus } from '../src/types';
import { batchWorkflowId, migrationWorkflowId } from '../src/workflows/ids';
import { batchStatusQuery, operatorActionUpdate, statusQuery, waitsFor, type OperatorAction, type OperatorActionName } from '../src/workflows/messages';
import { migrationWorkflow } from '../src/workflows/migration';
import { cli } from './helpers/operator';
import { fakeActivities, fakeWorldSpec, resetScenario, startMigrationOn, type RealActivities } from './helpers/fakeActivities';
import { uniqueSuffix } from './helpers/stack';
import { startTestWorker, type TestTemporal } from './helpers/temporal';
import { until } from './helpers/until';

const reportsDir = mkdtempSync(join(tmpdir(), 'km-status-'));

/** Detail reports written as real files, as the real activities do (Markdown + JSON side by side). */
function writeDetail(stem: string, markdown: string, json: unknown): { jsonPath: string; markdownPath: string } {
  const markdownPath = join(reportsDir, `${stem}-${uniqueSuffix()}.md`);
  const jsonPath = markdownPath.replace(/\.md$/, '.json');
  writeFileSync(markdownPath, markdown);
  writeFileSync(jsonPath, JSON.stringify(json));
  return { jsonPath, markdownPath };
}

const activities = {
  ...fakeActivities,
  translateOffsetsAndReport: async (input) => ({
    groups: input.groups.length,
    partitionsCommitted: 3,
    groupsAlreadyCommitted: 0,
    partitionsWithoutOffset: 0,
    notes: [],
    report: writeDetail('offsets', '# Offset translation (fake)\n\n## ads-aggregator\n\n3 partitions committed\n', {
      groups: [{ group: 'ads-aggregator', committed: 3 }],
    }),
  }),
  verifyBatchAndReport: async () => ({
    ok: true,
    durationMs: 1,
    partitions: 3,
    groups: 1,
    mismatchCount: 0,
    mismatches: [],
    report: writeDetail('verification', '# Verification of batch 1 (ads) of migration fake\n\n- result: **OK**\n', { ok: true, mismatches: [] }),
  }),
} satisfies Partial<RealActivities>;

let t: TestTemporal;
beforeAll(async () => {
  t = await startTestWorker({ activities });
});
afterAll(async () => {
  await t?.shutdown();
});
beforeEach(() => resetScenario());

const act = (h: WorkflowHandle, action: OperatorAction) => h.executeUpdate(operatorActionUpdate, { args: [action] });
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

/** A migration of the scripted world whose first batch has caught up and waits for approveCutover. */
async function atCutover(label: string) {
  const spec = fakeWorldSpec(label);
  const h = await startMigrationOn(t, spec);
  await waitingFor(h, 'approvePlan|rejectPlan');
  await act(h, { action: 'approvePlan', by: 'alice' });
  const batch = t.client.workflow.getHandle(batchWorkflowId(spec.name, 1, 'ads'));
  await batchWaitingFor(batch, 'approveCutover');
  await act(batch, { action: 'approveCutover', by: 'bob', batch: 1, comment: 'go' });
  await batchWaitingFor(batch, 'producersStopped');
  return { spec, h, batch };
}

test('a terminated migration: batches as Temporal has them, the newest activity as "updated", exit 1 with the reason', async () => {
  const { h, batch } = await atCutover('term');
  const running = await cli(t.settings.taskQueue, 'status', h.workflowId);
  expect(running.code).toBe(0);
  expect(running.out).toMatch(/1 +ads +running: awaiting-producers-stopped/);
  const live = await batch.query(batchStatusQuery);
  const approvedAt = live.decisions.find((d) => d.kind === 'approveCutover')!.at;

  await h.terminate('operator pulled the plug');
  const r = await cli(t.settings.taskQueue, 'status', h.workflowId);
  expect(r.code).toBe(1);
  expect(r.err).toMatch(new RegExp(`^error: ${h.workflowId} terminated( by [^:]+)?: operator pulled the plug$`));
  expect(r.out).toMatch(new RegExp(`^${h.workflowId} \\(TERMINATED\\) — phase sync`));
  expect(r.out).toMatch(/\n {2}ended \S+: terminated( by [^:]+)?: operator pulled the plug\n/);
  expect(r.out).toMatch(/1 +ads +terminated \(was: awaiting-producers-stopped\)/);
  expect(r.out).not.toContain('running: ');
  expect(r.out).not.toContain('waiting for: producersStopped'); // a terminated batch waits for nothing
  // the header's time is the batch's latest decision, not the migration's last own update (the plan approval)
  const [, updated] = /updated (\S+)/.exec(r.out)!;
  expect(Date.parse(updated)).toBeGreaterThanOrEqual(Date.parse(approvedAt));
  expect(r.out).toMatch(/awaiting-cutover-approval \(batch 1\) +approveCutover +by bob +accepted +go/);

  const json = JSON.parse((await cli(t.settings.taskQueue, 'status', h.workflowId, '--json')).out);
  expect(json).toMatchObject({ execution: 'TERMINATED', batchExecutions: { [batch.workflowId]: 'TERMINATED' } });
});

test('status of a batch workflow id renders that batch (not "phase undefined")', async () => {
  const { h, batch } = await atCutover('bid');
  const r = await cli(t.settings.taskQueue, 'status', batch.workflowId);
  expect(r.code).toBe(0);
  expect(r.out).not.toContain('undefined');
  expect(r.out).toMatch(
    new RegExp(
      `^${batch.workflowId} \\(RUNNING\\) — batch 1 \\(ads\\) of migration ${h.workflowId.replace(/^migration-/, '')}, step awaiting-producers-stopped`,
    ),
  );
  expect(r.out).toContain('waiting for: producersStopped');
  expect(r.out).toMatch(/ads\.clicks +\[#+\] 100%/);
  expect(r.out).toMatch(/approveCutover +by bob +accepted +go/);
  await h.terminate('end of test');
  const ended = await cli(t.settings.taskQueue, 'status', batch.workflowId);
  expect(ended.code).toBe(1);
  expect(ended.out).toMatch(new RegExp(`^${batch.workflowId} \\(TERMINATED\\) — batch 1 \\(ads\\)`));
});

test('no worker polls the queue: a running migration exits 5; once terminated it is shown from its history and exits 1', async () => {
  const queue = `km-noworker-${uniqueSuffix()}`;
  const spec = fakeWorldSpec('nowrk');
  const h = await t.client.workflow.start(migrationWorkflow, { taskQueue: queue, workflowId: migrationWorkflowId(spec.name), args: [{ spec }] });
  const r = await cli(queue, '--timeout', '2', 'status', spec.name);
  expect(r.code).toBe(5);
  expect(r.err).toMatch(new RegExp(`^error: status of ${h.workflowId}: no worker (answered within 2 s|polls task queue ${queue})`));
  await h.terminate('never picked up');
  const ended = await cli(queue, '--timeout', '2', 'status', spec.name);
  expect(ended.err).toMatch(new RegExp(`^error: ${h.workflowId} terminated( by [^:]+)?: never picked up$`));
  expect(ended.code).toBe(1);
  expect(ended.out).toMatch(new RegExp(`^${h.workflowId} \\(TERMINATED\\) — phase `));
  expect(ended.out).toContain('(no worker answered: rebuilt from the workflow history, without progress details)');
});

test("report: each batch's verification verdict, its decisions in the decision table, its offset and verification reports", async () => {
  const { spec, h, batch } = await atCutover('rep');
  await act(batch, { action: 'producersStopped', by: 'bob', batch: 1 });
  await batchWaitingFor(batch, 'consumersStopped');
  await act(batch, { action: 'consumersStopped', by: 'bob', batch: 1 });
  await waitingFor(h, 'approveBatch');

  const md = await cli(t.settings.taskQueue, 'report', spec.name);
  expect(md.code).toBe(0);
  expect(md.out).toContain('# Batch 1 (ads): verification OK');
  expect(md.out).toContain('# Offset translation (fake)\n\n## ads-aggregator\n\n3 partitions committed');
  expect(md.out).toContain('# Verification of batch 1 (ads) of migration fake');
  const decisions = md.out.slice(md.out.indexOf('## Decisions'));
  for (const kind of ['approveCutover', 'producersStopped', 'consumersStopped'])
    expect(decisions).toMatch(new RegExp(`\\| 1 \\| [a-z-]+ \\| ${kind} \\| bob \\| yes \\|`));
  expect(md.out).toMatch(/\| 1 \| ads \| [^|]+ \| completed \|[^\n]*\| OK \| [^\n]*\[offsets\]\([^)]+offsets-[^)]+\.md\)/);

  const json = JSON.parse((await cli(t.settings.taskQueue, 'report', spec.name, '--format', 'json')).out);
  expect(json.batchReports).toEqual([
    expect.objectContaining({
      number: 1,
      name: 'ads',
      verification: { ok: true, mismatchCount: 0 },
      offsets: expect.objectContaining({ json: { groups: [{ group: 'ads-aggregator', committed: 3 }] } }),
    }),
  ]);
  const html = (await cli(t.settings.taskQueue, 'report', spec.name, '--format', 'html')).out;
  expect(html).toMatch(/<a href="[^"]+offsets-[^"]+\.md">offsets<\/a>/);
  await h.terminate('end of test');
});
