/**
 * Fail-back after cutover, against the real brokers and Temporal: two batches with live clients, each cut over;
 * during batch 1's rollback window the clients write and consume on the target, then the batch is rolled back
 * (refused first while producers, then consumers, still run on the target: exit 3 with evidence) and the clients
 * resume on the source at exactly the next record; batch 2's window is finalized (twice: the second is refused).
 * An independent reader (the verification decoder) checks every source partition: the per-partition sequence of
 * the producer is 0, 1, 2, ... with no gap and no duplicate, across the cutover, the window and the rollback.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTopicsReady } from '../src/kafka/topicsReady';
import { walkThroughMigration } from '../src/demo/walkthrough';
import { DemoConsumer, DemoProducer, type ClusterAccess } from '../src/demo/workload';
import type { DemoWorld } from '../src/demo/seed';
import { migrationWorkflowId } from '../src/workflows/ids';
import { migrationWorkflow } from '../src/workflows/migration';
import { statusQuery } from '../src/workflows/messages';
import { windowStatusQuery } from '../src/workflows/windowMessages';
import type { MigrationStatus, RollbackVerificationReport, WindowStatus } from '../src/types';
import { appWriteError, sequenceBreaks, windowAcls, windowFenceLeftovers } from './helpers/rollbackWorld';
import { cli } from './helpers/operator';
import { readLedger } from '../src/resume/batchLedger';
import { sourceAdminKafka, SOURCE_SASL_BOOTSTRAP, STACK_DIR, stackSpec, TARGET_BOOTSTRAP, targetKafka, uniqueSuffix } from './helpers/stack';
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
  'rollback window: reverse sync with live clients, refused while clients run on the target, exact rollback, finalize',
  async () => {
    const suffix = uniqueSuffix();
    const prefix = `rb${suffix}-`;
    const ordersTopic = `${prefix}orders.created`;
    const paymentsTopic = `${prefix}payments.tx`;
    const world: DemoWorld = {
      prefix,
      topics: [
        { name: ordersTopic, partitions: 3 },
        { name: paymentsTopic, partitions: 2 },
      ],
      producers: [
        { name: `${prefix}order-service`, topics: [ordersTopic] },
        { name: `${prefix}payment-gateway`, topics: [paymentsTopic] },
      ],
      consumers: [
        { group: `${prefix}orders-fulfillment`, topics: [ordersTopic] },
        { group: `${prefix}payments-ledger`, topics: [paymentsTopic] },
      ],
      laggingGroup: { group: `${prefix}none`, topics: [] },
      orphanGroup: { group: `${prefix}none2`, topic: `${prefix}none` },
      idleTopic: `${prefix}none`,
      compactedTopic: `${prefix}none`,
      transactionalTopic: `${prefix}none`,
    };
    const source: ClusterAccess = {
      brokers: [SOURCE_SASL_BOOTSTRAP],
      sasl: { username: 'app', password: readFileSync(join(STACK_DIR, 'secrets/app.password'), 'utf8').trim() },
    };
    const target: ClusterAccess = { brokers: [TARGET_BOOTSTRAP] };
    const reportsDir = mkdtempSync(join(tmpdir(), 'km-rollback-'));
    const log: string[] = [];
    const say = (l: string) => void log.push(`${new Date().toISOString().slice(11, 23)} ${l}`);

    const setup = sourceAdminKafka().admin();
    await setup.connect();
    await createTopicsReady(
      setup,
      world.topics.map((x) => ({ topic: x.name, numPartitions: x.partitions })),
    );
    const acls = windowAcls([ordersTopic, paymentsTopic]);
    await setup.createAcls({ acl: acls });
    const [orders, payments] = [
      new DemoProducer(world.producers[0].name, [{ name: ordersTopic, partitions: 3 }], 5),
      new DemoProducer(world.producers[1].name, [{ name: paymentsTopic, partitions: 2 }], 5),
    ];
    const producers = [orders, payments];
    const consumers = world.consumers.map((c) => new DemoConsumer(c.group, c.topics));
    const [ordersConsumer] = consumers;
    try {
      for (const p of producers) {
        await p.connect(source);
        await p.write(300);
      }
      for (const c of consumers) await c.start(source);
      for (const p of producers) await p.start(source);

      const esc = prefix.replace(/[-.]/g, '\\$&');
      const spec = stackSpec({
        name: `rb-${suffix}`,
        scope: { topics: [`${esc}.*`] },
        businessSystems: [
          { name: 'orders', priority: 'non-core', topics: { prefix: [`${prefix}orders.`] } },
          { name: 'payments', priority: 'core', topics: { prefix: [`${prefix}payments.`] } },
        ],
        thresholds: { capacitySampleSeconds: 2, quietPeriodSeconds: 2, readyMaxLagRecords: 2000, readyMaxLagSeconds: 30 },
        copy: { roundSeconds: 2, heartbeatTimeoutSeconds: 15 },
        cutover: { rollbackWindow: '30m', fenceWithAcl: true },
        reports: { dir: reportsDir },
      } as never);
      const migrationId = migrationWorkflowId(spec.name);
      const migration = await t.client.workflow.start(migrationWorkflow, { taskQueue: t.settings.taskQueue, workflowId: migrationId, args: [{ spec }] });
      const q = t.settings.taskQueue;
      const status = () => migration.query(statusQuery);

      // The operator walks the migration (cutover of each batch, clients moved to the target, continuity checked).
      const walk = walkThroughMigration({ client: t.client, migration, world, producers, consumers, target, by: 'rollback-test', say, timeoutMs: 12 * 60_000 });
      walk.catch(() => undefined);

      // Batch 1 never cut over yet: no window to roll back.
      await until(status, (s: MigrationStatus) => s.batches[0]?.state === 'running', 'batch 1 running', 180_000);
      const early = await cli(q, 'rollback', spec.name, '--batch', '1', '--by', 'test', '--reason', 'too early');
      expect(early.code).toBe(3);
      expect(early.err).toMatch(/has no rollback window: its clients have not moved/);

      // Batch 1's window is open and copies back what its clients write on the target.
      const s1 = await until(status, (s: MigrationStatus) => s.windows?.[0]?.state === 'open', 'the window of batch 1', 300_000);
      const window1 = t.client.workflow.getHandle(s1.windows![0].workflowId);
      await until(
        () => window1.query(windowStatusQuery),
        (w: WindowStatus) => w.recordsCopiedBack > 0 && w.rounds > 1,
        'records written on the target copied back',
        120_000,
      );

      // The source is fenced for everyone but the migrator while the window is open: the cutover's DENY User:* was
      // replaced by a DENY WRITE for User:app (who may write every topic), and the migrator's reverse writes go through.
      const fenced = await window1.query(windowStatusQuery);
      expect(fenced.fence).toMatchObject({ state: 'in-place', deniedPrincipals: ['User:app'], topicsFenced: 1 });
      expect(await appWriteError(ordersTopic)).toBe('TOPIC_AUTHORIZATION_FAILED');

      // Refused while producers still write on the target (evidence: the partitions that moved).
      const writing = await cli(q, 'rollback', spec.name, '--batch', '1', '--by', 'test', '--reason', 'AutoMQ misbehaves');
      expect(writing.code).toBe(3);
      expect(writing.err).toMatch(/producers still write to the target/);
      expect(writing.err).toMatch(new RegExp(`partitions still written to on the target: .*${ordersTopic.replace(/[.]/g, '\\.')}:`));

      // Producers stopped; consumers still connected: refused with the group's members.
      await orders.stop();
      const consuming = await cli(q, 'rollback', spec.name, '--batch', '1', '--by', 'test', '--reason', 'AutoMQ misbehaves');
      expect(consuming.code).toBe(3);
      expect(consuming.err).toMatch(new RegExp(`consumers still run on the target: ${world.consumers[0].group}`));

      // Let the consumer read everything on the target, then stop it: the rollback goes through.
      const targetEnds = await until(
        async () => (await window1.query(windowStatusQuery)).partitions,
        (ps) => ps.length === 3,
        'the window to know its partitions',
        60_000,
      );
      expect(targetEnds.length).toBe(3);
      await new Promise((r) => setTimeout(r, 3000));
      const lastOnTarget = new Map(ordersConsumer.last);
      await ordersConsumer.stop();
      const rolled = await cli(q, 'rollback', spec.name, '--batch', '1', '--by', 'test', '--reason', 'AutoMQ misbehaves');
      if (rolled.code !== 0) console.log(rolled.err, log.join('\n'));
      expect(rolled.code).toBe(0);
      const w1 = await until(
        () => window1.query(windowStatusQuery),
        (w: WindowStatus) => w.state === 'rolled-back',
        'batch 1 rolled back',
        180_000,
      );
      expect(w1.reverseLagRecords).toBe(0);
      expect(w1.rollback?.verification).toEqual({ ok: true, mismatchCount: 0 });
      expect(w1.decisions.map((d) => [d.kind, d.accepted])).toEqual([
        ['rollback', false],
        ['rollback', false],
        ['rollback', true],
      ]);
      const verification = JSON.parse(readFileSync(w1.reports.rollbackVerification!.replace(/\.md$/, '.json'), 'utf8')) as RollbackVerificationReport;
      expect(verification.ok).toBe(true);
      expect(verification.partitions.every((p) => p.writtenOnTarget > 0 && p.copiedBack === p.writtenOnTarget)).toBe(true);
      say(`rollback write pause ${w1.rollback?.writePauseMs} ms, ${w1.recordsCopiedBack} records copied back`);

      // After the rollback: a second rollback and a finalize are refused (the window is closed).
      const again = await cli(q, 'rollback', spec.name, '--batch', '1', '--by', 'test', '--reason', 'twice');
      expect(again.code).toBe(3);
      expect(again.err).toMatch(/(is|already) rolled-back|it is rolled-back/);

      expect(w1.fence?.state).toBe('lifted');
      // The ledger says so too: a resumed migration adopts the batch as rolled back, never as completed.
      const ledger = await readLedger(targetKafka(), spec.name);
      expect(ledger.find((e) => e.topics.includes(ordersTopic))).toMatchObject({ state: 'rolled-back', number: 1 });

      // The clients move back to the source: the consumer resumes at exactly the next record of each partition.
      await ordersConsumer.start(source, false);
      await orders.start(source);
      await until(
        async () => [...lastOnTarget.keys()].every((k) => ordersConsumer.first.has(k)),
        (x) => x,
        'the consumer reading every partition on the source again',
        90_000,
      );
      for (const [k, last] of lastOnTarget) {
        expect(`${k} #${ordersConsumer.first.get(k)!.seq}`).toBe(`${k} #${Number(last.seq) + 1}`);
      }
      await orders.stop();

      // Batch 2: finalize, and finalize again (refused).
      const s2 = await until(status, (s: MigrationStatus) => s.windows?.[1]?.state === 'open', 'the window of batch 2', 400_000);
      expect(s2.batches[0].state).toBe('rolled-back');
      const fin = await cli(q, 'finalize', spec.name, '--batch', '2', '--by', 'test');
      expect(fin.code).toBe(0);
      // finalize lifts nothing: the source topic stays fenced, the window report says how to remove the fence.
      const w2 = await until(
        () => t.client.workflow.getHandle(s2.windows![1].workflowId).query(windowStatusQuery),
        (w: WindowStatus) => w.state === 'finalized' && !!w.reports.window,
        'batch 2 finalized and reported',
        60_000,
      );
      expect(w2.fence).toMatchObject({ state: 'in-place', deniedPrincipals: ['User:app'] });
      expect(await appWriteError(paymentsTopic)).toBe('TOPIC_AUTHORIZATION_FAILED');
      expect(readFileSync(w2.reports.window!, 'utf8')).toContain(`--deny-principal User:app --deny-host '*' --operation Write --topic ${paymentsTopic}`);
      const fin2 = await cli(q, 'finalize', spec.name, '--batch', '2', '--by', 'test');
      expect(fin2.code).toBe(3);
      expect(fin2.err).toMatch(/already (finalized|open)|has already ended|already finalized/);

      const { status: final } = await walk;
      if (final.phase !== 'completed') console.log(log.join('\n'));
      expect(final.phase).toBe('completed');
      expect(final.windows?.map((w) => w.state)).toEqual(['rolled-back', 'finalized']);
      expect(final.batches.map((b) => b.state)).toEqual(['rolled-back', 'completed']);

      // Independent reader: each source partition of batch 1 is seq 0..n-1: before the cutover, written on the
      // target (copied back), and written on the source again after the rollback; no gap, no duplicate.
      for (let p = 0; p < 3; p++) {
        const { records, breaks } = await sequenceBreaks('source', ordersTopic, p);
        expect(breaks).toEqual([]);
        expect(records).toBeGreaterThan(100);
      }
    } finally {
      for (const p of producers) await p.stop().catch(() => undefined);
      for (const c of consumers) await c.stop().catch(() => undefined);
      await setup.deleteAcls({ filters: acls }).catch(() => undefined);
      await setup.deleteAcls({ filters: [ordersTopic, paymentsTopic].flatMap((topic) => windowFenceLeftovers(topic)) }).catch(() => undefined);
      await setup.disconnect();
    }
  },
  15 * 60 * 1000,
);
