/**
 * A whole migration against the real brokers and the real Temporal server, with the real activities: live
 * producers and consumers on the source, preflight, inventory, plan, every batch copied, cut over and verified,
 * the clients moved to the target, and each consumer resuming at exactly the next record.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { demoWorld, seedDemo } from '../src/demo/seed';
import { walkThroughMigration } from '../src/demo/walkthrough';
import { DemoConsumer, type ClusterAccess } from '../src/demo/workload';
import { batchFileStem, migrationWorkflowId } from '../src/workflows/ids';
import { migrationWorkflow } from '../src/workflows/migration';
import type { VerificationReport } from '../src/types';
import { sourceAdminKafka, SOURCE_SASL_BOOTSTRAP, STACK_DIR, stackSpec, TARGET_BOOTSTRAP, uniqueSuffix } from './helpers/stack';
import { startTestWorker, type TestTemporal } from './helpers/temporal';
import { until } from './helpers/until';

let t: TestTemporal;
beforeAll(async () => {
  t = await startTestWorker();
});
afterAll(async () => {
  await t?.shutdown();
});

test(
  'a full migration: every batch copied, cut over with live clients, verified; consumers resume exactly',
  async () => {
    const suffix = uniqueSuffix();
    const prefix = `e2e${suffix}-`;
    const world = demoWorld(prefix);
    const source: ClusterAccess = {
      brokers: [SOURCE_SASL_BOOTSTRAP],
      sasl: { username: 'app', password: readFileSync(join(STACK_DIR, 'secrets/app.password'), 'utf8').trim() },
    };
    const target: ClusterAccess = { brokers: [TARGET_BOOTSTRAP] };
    const reportsDir = mkdtempSync(join(tmpdir(), 'km-e2e-'));
    const log: string[] = [];
    const say = (l: string) => void log.push(l);

    const setup = sourceAdminKafka().admin();
    await setup.connect();
    const producers = await seedDemo(world, setup, source, say, 500);
    await setup.disconnect();
    const consumers = world.consumers.map((c) => new DemoConsumer(c.group, c.topics));
    try {
      for (const c of consumers) await c.start(source);
      for (const p of producers) await p.start(source);

      const esc = prefix.replace(/[-.]/g, '\\$&');
      const spec = stackSpec({
        name: `e2e-${suffix}`,
        scope: { topics: [`${esc}.*`] },
        businessSystems: [
          { name: 'analytics', priority: 'non-core', topics: { prefix: [`${prefix}analytics.`] } },
          { name: 'orders', priority: 'core', topics: { prefix: [`${prefix}orders.`] } },
          { name: 'payments', priority: 'core', topics: { prefix: [`${prefix}payments.`] } },
        ],
        thresholds: { capacitySampleSeconds: 2, quietPeriodSeconds: 2, readyMaxLagRecords: 2000, readyMaxLagSeconds: 30 },
        copy: { roundSeconds: 3, heartbeatTimeoutSeconds: 15 },
        reports: { dir: reportsDir },
      } as never);
      const migration = await t.client.workflow.start(migrationWorkflow, {
        taskQueue: t.settings.taskQueue,
        workflowId: migrationWorkflowId(spec.name),
        args: [{ spec }],
      });
      const { status, continuity } = await walkThroughMigration({
        client: t.client,
        migration,
        world,
        producers,
        consumers,
        target,
        by: 'e2e-test',
        say,
        timeoutMs: 8 * 60 * 1000,
      });

      if (status.phase !== 'completed') console.log(log.join('\n'));
      expect(status.phase).toBe('completed');
      // Plan: non-core first, unassigned before core; the idle topic and the orphan group stay behind.
      expect(status.plan!.batches.map((b) => b.name)).toEqual(['analytics', 'unassigned', 'orders', 'payments']);
      expect(status.plan!.excluded).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'topic', name: world.idleTopic })]));
      expect(status.batches.map((b) => b.state)).toEqual(['completed', 'completed', 'completed', 'completed']);
      console.log(`write pauses: ${status.batches.map((b) => `${b.name} ${b.writePauseMs} ms`).join(', ')}`); // measured by the benchmark

      // Every consumer group resumed at exactly the next record of each partition.
      expect(continuity.length).toBe(world.consumers.length);
      for (const c of continuity) {
        expect(c.broken).toEqual([]);
        expect(c.partitions).toBeGreaterThan(0);
      }

      // Each batch's verification report: content, offset map, group offsets and configs all equal.
      for (const b of status.batches) {
        const report = JSON.parse(
          readFileSync(join(reportsDir, spec.name, `${batchFileStem(b.number, b.name, 'verification')}.json`), 'utf8'),
        ) as VerificationReport;
        expect(report.mismatches).toEqual([]);
        expect(report.ok).toBe(true);
      }

      // No record of an aborted transaction reached the target: read the whole target topic (to its end offsets).
      const targetKafka = new Kafka({ brokers: [TARGET_BOOTSTRAP], logLevel: logLevel.NOTHING });
      const targetAdmin = targetKafka.admin();
      await targetAdmin.connect();
      const ends = await targetAdmin.fetchTopicOffsets(world.transactionalTopic).finally(() => targetAdmin.disconnect());
      const reader = targetKafka.consumer({ groupId: `e2e-check-${suffix}` });
      await reader.connect();
      await reader.subscribe({ topics: [world.transactionalTopic], fromBeginning: true });
      const values: string[] = [];
      const next = new Map<number, number>();
      await reader.run({
        eachMessage: async ({ partition, message }) => {
          values.push(message.value?.toString() ?? '');
          next.set(partition, Number(message.offset) + 1);
        },
      });
      await until(
        async () => ends.every((e) => (next.get(e.partition) ?? Number(e.low)) >= Number(e.high)),
        (done) => done,
        `a reader at the end of ${world.transactionalTopic} on the target`,
        60_000,
      ).finally(() => reader.disconnect());
      expect(values.filter((v) => v.includes('"aborted":true'))).toEqual([]);
      expect(values.filter((v) => v.includes('"aborted":false')).length).toBe(200);
    } finally {
      for (const p of producers) await p.stop().catch(() => undefined);
      for (const c of consumers) await c.stop().catch(() => undefined);
    }
  },
  10 * 60 * 1000,
);
