/**
 * Crash safety of the rollback window: the real worker runs as its own OS process and is SIGKILLed twice during
 * the reverse sync (clients writing on the target), once while clients write a burst on the target, and once during
 * the rollback's drain of that burst; it is restarted each time. The rollback must complete and verify, and an
 * independent reader (the verification decoder) must find on every source partition the producer's sequence
 * 0..n-1 exactly once each, in order, as many records as the target holds, and the group committed on the source
 * at exactly the end (it consumed everything on the target): 0 lost, 0 duplicated.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createTopicsReady } from '../src/kafka/topicsReady';
import { walkThroughMigration } from '../src/demo/walkthrough';
import { DemoConsumer, DemoProducer, type ClusterAccess } from '../src/demo/workload';
import type { DemoWorld } from '../src/demo/seed';
import { temporalSettings } from '../src/worker/settings';
import { migrationWorkflowId } from '../src/workflows/ids';
import { migrationWorkflow } from '../src/workflows/migration';
import { statusQuery } from '../src/workflows/messages';
import { windowStatusQuery } from '../src/workflows/windowMessages';
import type { MigrationStatus, WindowStatus } from '../src/types';
import { cli } from './helpers/operator';
import { sequenceBreaks, windowAcls } from './helpers/rollbackWorld';
import { sourceAdminKafka, SOURCE_SASL_BOOTSTRAP, STACK_DIR, stackSpec, TARGET_BOOTSTRAP, targetKafka, uniqueSuffix } from './helpers/stack';
import { until } from './helpers/until';
import { buildWorker, WorkerProcess } from './helpers/workerProcess';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(() => {
  buildWorker();
}, 180_000);

test(
  'SIGKILLs of the worker during the reverse sync and during the rollback drain: 0 lost, 0 duplicated, exact offsets',
  async () => {
    const suffix = uniqueSuffix();
    const prefix = `rbk${suffix}-`;
    const topic = `${prefix}orders.created`;
    const partitions = 4;
    const group = `${prefix}orders-fulfillment`;
    const world: DemoWorld = {
      prefix,
      topics: [{ name: topic, partitions }],
      producers: [{ name: `${prefix}order-service`, topics: [topic] }],
      consumers: [{ group, topics: [topic] }],
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
    const log: string[] = [];
    const say = (l: string) => void log.push(`${new Date().toISOString().slice(11, 23)} ${l}`);
    const taskQueue = `km-rbk-${suffix}`;
    const worker = new WorkerProcess({ taskQueue, logFile: join(mkdtempSync(join(tmpdir(), 'km-rbk-')), 'worker.log'), supervise: true });
    const setup = sourceAdminKafka().admin();
    await setup.connect();
    await createTopicsReady(setup, [{ topic, numPartitions: partitions }]);
    const acls = windowAcls([topic]);
    await setup.createAcls({ acl: acls });
    const producer = new DemoProducer(world.producers[0].name, [{ name: topic, partitions }], 20);
    const consumer = new DemoConsumer(group, [topic]);
    const settings = temporalSettings({ taskQueue });
    const connection = await Connection.connect({ address: settings.address });
    const client = new Client({ connection, namespace: settings.namespace });
    try {
      await producer.connect(source);
      await producer.write(400);
      await consumer.start(source);
      await producer.start(source);
      await worker.start();

      const spec = stackSpec({
        name: `rbk-${suffix}`,
        scope: { topics: [`${prefix.replace(/[-.]/g, '\\$&')}.*`] },
        businessSystems: [{ name: 'orders', priority: 'non-core', topics: { prefix: [`${prefix}orders.`] } }],
        thresholds: { capacitySampleSeconds: 2, quietPeriodSeconds: 2, readyMaxLagRecords: 2000, readyMaxLagSeconds: 30 },
        copy: { roundSeconds: 2, heartbeatTimeoutSeconds: 5, maxBatchBytes: 64 * 1024 },
        cutover: { rollbackWindow: 'until-finalize' },
        reports: { dir: mkdtempSync(join(tmpdir(), 'km-rbk-reports-')) },
      } as never);
      const migration = await client.workflow.start(migrationWorkflow, { taskQueue, workflowId: migrationWorkflowId(spec.name), args: [{ spec }] });
      const walk = walkThroughMigration({
        client,
        migration,
        world,
        producers: [producer],
        consumers: [consumer],
        target,
        by: 'crash-test',
        say,
        timeoutMs: 12 * 60_000,
      });
      walk.catch(() => undefined);

      const s = await until(
        () => migration.query(statusQuery),
        (x: MigrationStatus) => x.windows?.[0]?.state === 'open',
        'the window',
        300_000,
      );
      const window = client.workflow.getHandle(s.windows![0].workflowId);
      const windowStatus = () => window.query(windowStatusQuery);

      // Two SIGKILLs during the reverse sync, clients writing on the target.
      for (let i = 0; i < 2; i++) {
        const before = await until(windowStatus, (w: WindowStatus) => w.recordsCopiedBack > 0, 'records copied back', 120_000);
        await sleep(500 + Math.random() * 2500);
        await worker.kill('SIGKILL', `reverse sync ${i + 1}`);
        say(`killed the worker during the reverse sync (${before.recordsCopiedBack} copied back so far)`);
        await sleep(2000);
        await worker.start();
        await until(windowStatus, (w: WindowStatus) => w.recordsCopiedBack > before.recordsCopiedBack, 'the reverse sync going on after the restart', 120_000);
      }

      // The worker dies; clients write a burst on the target meanwhile, then stop (producers, then consumers).
      await worker.kill('SIGKILL', 'before the burst');
      await producer.stop();
      await producer.connect(target);
      for (let i = 0; i < 10; i++) await producer.write(2000);
      await producer.stop();
      const admin = targetKafka().admin();
      await admin.connect();
      const ends = await admin.fetchTopicOffsets(topic);
      await admin.disconnect();
      await until(
        async () => ends.every((e) => Number(consumer.last.get(`${topic}:${e.partition}`)?.offset ?? -1) === Number(e.high) - 1),
        (x) => x,
        'the consumer at the end of the target',
        120_000,
      );
      const lastOnTarget = new Map(consumer.last);
      await consumer.stop();
      await worker.start();

      // Rollback; the worker is SIGKILLed during its drain of the burst.
      const rolled = await cli(taskQueue, 'rollback', spec.name, '--batch', '1', '--by', 'test', '--reason', 'crash test');
      if (rolled.code !== 0) console.log(rolled.err, log.join('\n'));
      expect(rolled.code).toBe(0);
      const draining = await until(windowStatus, (w: WindowStatus) => w.state !== 'open', 'the rollback started', 60_000);
      await sleep(300);
      await worker.kill('SIGKILL', 'rollback drain');
      say(`killed the worker during the rollback (state ${draining.state}, reverse lag ${draining.reverseLagRecords})`);
      await sleep(2000);
      await worker.start();
      const done = await until(windowStatus, (w: WindowStatus) => w.state === 'rolled-back', 'rolled back', 300_000);
      say(`rolled back: ${done.recordsCopiedBack} copied back, write pause ${done.rollback?.writePauseMs} ms, kills ${worker.kills}`);
      expect(draining.state).toBe('rolling-back');
      expect(done.rollback?.verification).toEqual({ ok: true, mismatchCount: 0 });
      expect(worker.kills).toBe(4);

      // Independent audit: every record written on either side exactly once, in order, on the source.
      const sourceAdmin = sourceAdminKafka().admin();
      await sourceAdmin.connect();
      const committed = await sourceAdmin.fetchOffsets({ groupId: group, topics: [topic] });
      const sourceEnds = await sourceAdmin.fetchTopicOffsets(topic);
      await sourceAdmin.disconnect();
      for (let p = 0; p < partitions; p++) {
        const onSource = await sequenceBreaks('source', topic, p);
        const onTarget = await sequenceBreaks('target', topic, p);
        expect({ p, breaks: onSource.breaks }).toEqual({ p, breaks: [] });
        expect({ p, breaks: onTarget.breaks }).toEqual({ p, breaks: [] });
        expect({ p, records: onSource.records }).toEqual({ p, records: onTarget.records });
        // The group consumed everything on the target: on the source it resumes at the end, after the last copy.
        const c = committed[0].partitions.find((x) => x.partition === p)!;
        expect({ p, committed: Number(c.offset) }).toEqual({ p, committed: Number(sourceEnds.find((e) => e.partition === p)!.high) });
      }
      expect([...lastOnTarget.keys()].length).toBe(partitions);

      // The walkthrough's own polling may have died with a killed worker (no poller): read the migration directly.
      const final = await until(
        () => migration.query(statusQuery),
        (x: MigrationStatus) => x.phase === 'completed',
        'the migration completed',
        120_000,
      );
      expect(final.batches[0].state).toBe('rolled-back');
    } catch (e) {
      console.log(log.join('\n'));
      throw e;
    } finally {
      await producer.stop().catch(() => undefined);
      await consumer.stop().catch(() => undefined);
      await worker.stop().catch(() => undefined);
      await connection.close();
      await setup.deleteAcls({ filters: acls }).catch(() => undefined);
      await setup.disconnect();
    }
  },
  15 * 60 * 1000,
);
