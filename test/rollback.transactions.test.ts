/**
 * The rollback window with a compacted topic and a transactional producer on the target: during the window a
 * client writes updates and tombstones to the compacted topic and committed and aborted transactions to the other;
 * after the rollback the source holds, after its pre-cutover records, exactly the records written on the target:
 * keys, values (tombstones as null), headers and timestamps, the committed transactions, and none of the aborted.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { createTopicsReady } from '../src/kafka/topicsReady';
import { walkThroughMigration } from '../src/demo/walkthrough';
import type { DemoWorld } from '../src/demo/seed';
import { migrationWorkflowId } from '../src/workflows/ids';
import { migrationWorkflow } from '../src/workflows/migration';
import { statusQuery } from '../src/workflows/messages';
import { windowStatusQuery } from '../src/workflows/windowMessages';
import type { MigrationStatus, WindowStatus } from '../src/types';
import { content, readPartition } from './helpers/copyFixtures';
import { cli } from './helpers/operator';
import { windowAcls } from './helpers/rollbackWorld';
import { sourceAdminKafka, stackSpec, TARGET_BOOTSTRAP, uniqueSuffix } from './helpers/stack';
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
  'rollback window: a compacted topic and committed/aborted transactions written on the target come back exactly (aborted ones do not)',
  async () => {
    const suffix = uniqueSuffix();
    const prefix = `rbt${suffix}-`;
    const compacted = `${prefix}orders.state`;
    const payments = `${prefix}orders.payments`;
    const world: DemoWorld = {
      prefix,
      topics: [],
      producers: [],
      consumers: [],
      laggingGroup: { group: `${prefix}none`, topics: [] },
      orphanGroup: { group: `${prefix}none2`, topic: `${prefix}none` },
      idleTopic: `${prefix}none`,
      compactedTopic: compacted,
      transactionalTopic: payments,
    };
    const log: string[] = [];
    const say = (l: string) => void log.push(l);
    const setup = sourceAdminKafka().admin();
    await setup.connect();
    await createTopicsReady(setup, [
      { topic: compacted, numPartitions: 2, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      { topic: payments, numPartitions: 2 },
    ]);
    const acls = windowAcls([compacted, payments]);
    await setup.createAcls({ acl: acls });
    const seed = sourceAdminKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await seed.connect();
    await seed.send({ topic: compacted, messages: Array.from({ length: 40 }, (_, i) => ({ key: `order-${i % 10}`, value: `state-${i}` })) });
    await seed.send({ topic: payments, messages: Array.from({ length: 40 }, (_, i) => ({ key: `p-${i}`, value: `before-${i}` })) });
    await seed.disconnect();
    const targetKafka = new Kafka({ brokers: [TARGET_BOOTSTRAP], logLevel: logLevel.NOTHING });
    try {
      const spec = stackSpec({
        name: `rbt-${suffix}`,
        scope: { topics: [`${prefix.replace(/[-.]/g, '\\$&')}.*`] },
        businessSystems: [{ name: 'orders', priority: 'non-core', topics: { prefix: [`${prefix}orders.`] } }],
        thresholds: { capacitySampleSeconds: 2, quietPeriodSeconds: 2, readyMaxLagRecords: 2000, readyMaxLagSeconds: 30 },
        copy: { roundSeconds: 2, heartbeatTimeoutSeconds: 15 },
        cutover: { rollbackWindow: '1h' },
        reports: { dir: mkdtempSync(join(tmpdir(), 'km-rbt-')) },
      } as never);
      const migration = await t.client.workflow.start(migrationWorkflow, {
        taskQueue: t.settings.taskQueue,
        workflowId: migrationWorkflowId(spec.name),
        args: [{ spec }],
      });
      const walk = walkThroughMigration({
        client: t.client,
        migration,
        world,
        producers: [],
        consumers: [],
        target: { brokers: [TARGET_BOOTSTRAP] },
        by: 'test',
        say,
      });
      walk.catch(() => undefined);
      const s = await until(
        () => migration.query(statusQuery),
        (x: MigrationStatus) => x.windows?.[0]?.state === 'open',
        'the window',
        300_000,
      );
      const window = t.client.workflow.getHandle(s.windows![0].workflowId);

      // On the target, during the window: updates and tombstones; committed and aborted transactions, interleaved.
      const plain = targetKafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await plain.connect();
      for (let round = 0; round < 3; round++) {
        await plain.send({
          topic: compacted,
          messages: Array.from({ length: 20 }, (_, i) => ({
            key: `order-${i % 10}`,
            value: round === 2 && i % 3 === 0 ? null : `after-${round}-${i}`,
            headers: { round: String(round) },
          })),
        });
      }
      await plain.disconnect();
      const tx = targetKafka.producer({ transactionalId: `${prefix}payments-tx`, idempotent: true, maxInFlightRequests: 1 });
      await tx.connect();
      for (let i = 0; i < 8; i++) {
        const transaction = await tx.transaction();
        await transaction.send({
          topic: payments,
          messages: Array.from({ length: 10 }, (_, j) => ({ key: `p-${i}-${j}`, value: JSON.stringify({ i, j, aborted: i % 3 === 1 }) })),
        });
        if (i % 3 === 1) await transaction.abort();
        else await transaction.commit();
      }
      await tx.disconnect();
      await until(
        () => window.query(windowStatusQuery),
        (w: WindowStatus) => w.reverseLagRecords === 0 && w.recordsCopiedBack > 0,
        'the reverse sync caught up',
        120_000,
      );

      const rolled = await cli(t.settings.taskQueue, 'rollback', spec.name, '--batch', '1', '--by', 'test', '--reason', 'transactions test');
      if (rolled.code !== 0) console.log(rolled.err, log.join('\n'));
      expect(rolled.code).toBe(0);
      const done = await until(
        () => window.query(windowStatusQuery),
        (w: WindowStatus) => w.state === 'rolled-back',
        'rolled back',
        180_000,
      );
      expect(done.rollback?.verification).toEqual({ ok: true, mismatchCount: 0 });

      // Read back both sides independently (verification decoder, read_committed).
      for (const topic of [compacted, payments]) {
        for (const p of [0, 1]) {
          const onSource = (await readPartition('source', topic, p)).map(content);
          const onTarget = (await readPartition('target', topic, p)).map(content);
          // Nothing compacted yet on either side (active segments): the whole logs are equal record for record.
          expect({ topic, p, records: onSource.length }).toEqual({ topic, p, records: onTarget.length });
          expect(onSource).toEqual(onTarget);
        }
      }
      const values = [...(await readPartition('source', payments, 0)), ...(await readPartition('source', payments, 1))].map((r) => r.value?.toString() ?? '');
      expect(values.filter((v) => v.includes('"aborted":true'))).toEqual([]);
      expect(values.filter((v) => v.includes('"aborted":false')).length).toBe(50);
      const tombstones = [...(await readPartition('source', compacted, 0)), ...(await readPartition('source', compacted, 1))].filter((r) => r.value === null);
      expect(tombstones.length).toBe(7);

      const fin = await walk;
      expect(fin.status.phase).toBe('completed');
    } finally {
      await setup.deleteAcls({ filters: acls }).catch(() => undefined);
      await setup.disconnect();
    }
  },
  10 * 60 * 1000,
);
