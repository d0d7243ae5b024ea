/**
 * A rollback window's expiry, on the real window workflow and activities: a 1-minute window whose reverse sync blocks
 * at once (its topic was never copied forward: RollbackNotPossible) still expires at its time, finalized by policy.
 * The window's fence denied the application user WRITE on the source topic while it was open, and it stays in place
 * after the expiry (nothing is lifted), with the window report naming the command that removes it.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTopicsReady } from '../src/kafka/topicsReady';
import type { WindowStatus } from '../src/types';
import { windowStatusQuery } from '../src/workflows/windowMessages';
import { appWriteError, windowAcls, windowFenceLeftovers } from './helpers/rollbackWorld';
import { sourceAdminKafka, stackSpec, targetKafka, uniqueSuffix } from './helpers/stack';
import { startTestWorker, type TestTemporal } from './helpers/temporal';
import { until } from './helpers/until';

let t: TestTemporal;
beforeAll(async () => {
  t = await startTestWorker();
});
afterAll(async () => {
  await t?.shutdown();
});

test('a window blocked in its reverse sync expires at its time (finalized by policy); its fence stays, with the command to remove it', async () => {
  const suffix = uniqueSuffix();
  const topic = `rbx${suffix}.orders`;
  const source = sourceAdminKafka().admin();
  const target = targetKafka().admin();
  await Promise.all([source.connect(), target.connect()]);
  const acls = windowAcls([topic]);
  try {
    await createTopicsReady(source, [{ topic, numPartitions: 1 }]);
    await createTopicsReady(target, [{ topic, numPartitions: 1 }]);
    await source.createAcls({ acl: acls });
    const spec = stackSpec({
      name: `rbx-${suffix}`,
      copy: { roundSeconds: 2, heartbeatTimeoutSeconds: 15 },
      cutover: { rollbackWindow: '1m' },
      reports: { dir: mkdtempSync(join(tmpdir(), 'km-rbx-')) },
    } as never);
    const startedAt = Date.now();
    const handle = await t.client.workflow.start('rollbackWindowWorkflow', {
      taskQueue: t.settings.taskQueue,
      workflowId: `migration-rbx-${suffix}-batch-1-orders-window`,
      // No migration above it: its windowClosed signal is tolerated.
      args: [{ spec, migrationWorkflowId: `migration-rbx-${suffix}-none`, batch: { number: 1, name: 'orders', topics: [topic], groups: [] } }],
    });
    const blocked = await until(
      () => handle.query(windowStatusQuery),
      (w: WindowStatus) => !!w.blocked,
      'the reverse sync blocked',
      60_000,
    );
    expect(blocked.blocked).toMatchObject({ step: 'reverse-sync', type: 'RollbackNotPossible', actions: ['retry', 'finalize', 'rollback'] });
    expect(blocked.blocked!.error).toMatch(/was never copied to the target/);
    expect(blocked.fence).toMatchObject({ state: 'in-place', deniedPrincipals: ['User:app'], topicsFenced: 1 });
    expect(await appWriteError(topic)).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(blocked.closesAt).toBeDefined();
    // The Temporal UI's current details say the same, with the commands that end the window.
    const meta = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(meta.currentDetails).toContain(`**Rollback window of batch 1 (orders)** of migration ${spec.name}: \`open\``);
    expect(meta.currentDetails).toContain('- Source write fence: in-place, WRITE denied to User:app');
    expect(meta.currentDetails).toMatch(/\*\*Blocked\*\* in `reverse-sync`.*`RollbackNotPossible`.*actions: retry, finalize, rollback/);
    expect(meta.currentDetails).toContain(`kafka-migrate finalize ${spec.name} --batch 1 --by "<your name>"`);

    const done = (await handle.result()) as WindowStatus;
    const seconds = (Date.now() - startedAt) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(55); // not before its time (60 s from its opening)
    expect(done.state).toBe('expired');
    expect(done.blocked).toBeUndefined();
    expect(done.decisions).toEqual([]);
    // Expiry lifts nothing: the fence stays, and the window report says how to remove it.
    expect(done.fence?.state).toBe('in-place');
    expect(await appWriteError(topic)).toBe('TOPIC_AUTHORIZATION_FAILED');
    const report = readFileSync(done.reports.window!, 'utf8');
    expect(report).toContain('expired');
    expect(report).toContain(`--deny-principal User:app --deny-host '*' --operation Write --topic ${topic}`);
  } finally {
    await source.deleteAcls({ filters: [...acls, ...windowFenceLeftovers(topic)] }).catch(() => undefined);
    await Promise.all([source.disconnect(), target.disconnect()]);
  }
}, 180_000);
