/** Starts a migration workflow on the test worker's queue and approves its plan, as an operator would. */
import type { WorkflowHandle } from '@temporalio/client';
import type { MigrationSpec } from '../../src/config/spec';
import type { MigrationStatus } from '../../src/types';
import { migrationWorkflowId } from '../../src/workflows/ids';
import { statusQuery } from '../../src/workflows/messages';
import { migrationWorkflow } from '../../src/workflows/migration';
import { cli } from './operator';
import type { TestTemporal } from './temporal';
import { until } from './until';

/** The preflight must pass (or only warn); then the plan is approved `--by` the given operator. */
export async function startWithPlanApproved(t: TestTemporal, spec: MigrationSpec, by: string): Promise<WorkflowHandle<typeof migrationWorkflow>> {
  const taskQueue = t.settings.taskQueue;
  const h = await t.client.workflow.start(migrationWorkflow, { taskQueue, workflowId: migrationWorkflowId(spec.name), args: [{ spec }] });
  const s = await until(
    () => h.query(statusQuery),
    (x: MigrationStatus) => !!x.waitingFor || x.phase === 'blocked',
    `${spec.name} waiting for the plan`,
    120_000,
  );
  expect({ phase: s.phase, waitingFor: s.waitingFor?.signal, failed: s.preflight?.checks.filter((c) => c.verdict === 'fail') }).toEqual({
    phase: 'plan',
    waitingFor: 'approvePlan|rejectPlan',
    failed: [],
  });
  expect(await cli(taskQueue, 'approve', spec.name, '--step', 'plan', '--by', by)).toMatchObject({ code: 0 });
  return h;
}
