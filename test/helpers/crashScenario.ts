/**
 * One migration under injected faults, shared by the CI crash test and the chaos suite: seeds a world, runs the
 * real migration workflow with the real activities in a worker PROCESS, injects the faults of the scenario at
 * random points of the copy and at the cutover steps, walks the migration to its end and audits the result
 * independently of the tool.
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Consumer } from 'kafkajs';
import type { MigrationStatus, VerificationReport } from '../../src/types';
import { loadOffsetStore } from '../../src/copy/loadOffsetMap';
import { batchFileStem, migrationWorkflowId } from '../../src/workflows/ids';
import { migrationWorkflow } from '../../src/workflows/migration';
import { temporalSettings } from '../../src/worker/settings';
import { operateMigration } from './crashOperator';
import { copiedFraction, defineCrashWorld, deleteCrashWorld, seedCrashWorld, seededRandom, SequencedProducer, sourceRecordCount, startLiveConsumer, targetAdmin, type CrashWorld, type CrashWorldOptions } from './crashWorld';
import { FaultInjector, spreadPoints, type Fault, type InjectedFault } from './faults';
import { auditMigration, type MigrationAudit } from './migrationAudit';
import { STACK_DIR, stackSpec, uniqueSuffix } from './stack';
import { WorkerProcess } from './workerProcess';

export interface CrashScenario {
  label: string;
  seed: number;
  world: Omit<CrashWorldOptions, 'prefix'>;
  /** Injected in this order at random points spread over copyRange (shares of the initial records copied). */
  copyFaults: Fault[];
  copyRange: [number, number];
  /** After producersStopped is accepted, within maxDelayMs: lands in the quiet check or the drain. */
  afterProducersStopped: { faults: Fault[]; maxDelayMs: number };
  /** After consumersStopped is accepted, within maxDelayMs: lands in the group check or the offset translation. */
  afterConsumersStopped: { faults: Fault[]; maxDelayMs: number };
  /** Once the batch verifies, within maxDelayMs. */
  duringVerification: { faults: Fault[]; maxDelayMs: number };
  /** The producer during the copy: records per partition every intervalMs. */
  steady: { perPartition: number; intervalMs: number };
  /** Records per partition the producers flush when they are stopped (the tail the drain must copy). */
  burstPerPartition: number;
  /** spec.copy.throttleBytesPerSecond (0: unthrottled) and maxBatchBytes (small: many writes, so kills land mid-write). */
  throttleBytesPerSecond: number;
  maxBatchBytes: number;
  timeoutMs: number;
}

export interface ScenarioOutcome {
  status: MigrationStatus;
  verification?: VerificationReport;
  audit?: MigrationAudit;
  injected: InjectedFault[];
  workerKills: number;
  /** Worker exits nobody injected (each was restarted, as a deployment would). */
  workerCrashes: string[];
  workerLog: string;
  world: CrashWorld;
  seconds: { setup: number; migration: number; audit: number };
  log: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runCrashScenario(s: CrashScenario, echo = false): Promise<ScenarioOutcome> {
  const random = seededRandom(s.seed);
  const suffix = uniqueSuffix();
  const log: string[] = [];
  const t0 = Date.now();
  const say = (line: string) => {
    const l = `[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${line}`;
    log.push(l);
    if (echo) process.stdout.write(`${l}\n`);
  };
  say(`${s.label}: seed ${s.seed} (replay with KM_CRASH_SEED=${s.seed})`);
  const world = defineCrashWorld({ ...s.world, prefix: `${s.label}${suffix}-` });
  const logDir = resolve(STACK_DIR, 'logs/crash-tests');
  mkdirSync(logDir, { recursive: true });
  const workerLog = join(logDir, `${s.label}-${suffix}-worker.log`);
  const worker = new WorkerProcess({ taskQueue: `km-${s.label}-${suffix}`, logFile: workerLog, supervise: true });
  const producer = new SequencedProducer(world);
  const progressAdmin = targetAdmin();
  let consumer: Consumer | undefined;
  let connection: Connection | undefined;
  let status: MigrationStatus | undefined;
  const spec = stackSpec({
    name: `${s.label}-${suffix}`,
    scope: { topics: [`${world.prefix.replace(/[-.]/g, '\\$&')}t.*`], groups: [`${world.prefix.replace(/[-.]/g, '\\$&')}(live|lagging)`] },
    thresholds: { capacitySampleSeconds: 1, quietPeriodSeconds: 2, readyMaxLagRecords: 20000, readyMaxLagSeconds: 120 },
    copy: { roundSeconds: 5, heartbeatTimeoutSeconds: 5, throttleBytesPerSecond: s.throttleBytesPerSecond, maxBatchBytes: s.maxBatchBytes, partitionsPerActivity: 4 },
    reports: { dir: mkdtempSync(join(tmpdir(), `km-${s.label}-`)) },
  } as never);
  const workflowId = migrationWorkflowId(spec.name);
  /** Records the dead worker had written to the target beyond its durable checkpoints (the tail to reconcile). */
  const tailBeyondCheckpoints = async () => {
    const store = await loadOffsetStore(spec.target, spec.name);
    let ahead = 0;
    for (const topic of world.topicNames) {
      for (const o of await progressAdmin.fetchTopicOffsets(topic)) ahead += Number(o.high) - (store.get(topic, o.partition).checkpoint?.targetNext ?? Number(o.low));
    }
    return `${ahead} records on the target beyond the checkpoints`;
  };
  const faults = new FaultInjector(worker, say, tailBeyondCheckpoints);
  try {
    await seedCrashWorld(world, producer);
    consumer = await startLiveConsumer(world);
    producer.startSteady(s.steady.perPartition, s.steady.intervalMs);
    const sourceTotal = await sourceRecordCount(world);
    say(`seeded ${world.topicNames.length} topics × ${world.partitions} partitions, ${sourceTotal} records; producer and consumer running`);
    await worker.start();
    await progressAdmin.connect();
    const setupSeconds = (Date.now() - t0) / 1000;

    const settings = temporalSettings({ taskQueue: `km-${s.label}-${suffix}` });
    connection = await Connection.connect({ address: settings.address });
    const client = new Client({ connection, namespace: settings.namespace });
    await client.workflow.start(migrationWorkflow, { taskQueue: settings.taskQueue, workflowId, args: [{ spec }] });
    say(`started ${workflowId} on task queue ${settings.taskQueue}; worker log ${workerLog}`);

    let lastProgress = 0;
    const progress = async () => {
      try {
        lastProgress = await copiedFraction(world, sourceTotal, progressAdmin);
      } catch {
        /* target topics not created yet, or the target is restarting */
      }
      return lastProgress;
    };
    const points = spreadPoints(s.copyFaults.length, s.copyRange[0], s.copyRange[1], random);
    const copyPhase = faults.duringCopy(s.copyFaults, points, progress, random, s.timeoutMs);
    copyPhase.catch(() => undefined); // awaited by the cutover approval and below

    const batchStep = async () => {
      const m = await client.workflow.getHandle(workflowId).query('status').catch(() => undefined) as MigrationStatus | undefined;
      const running = m?.batches.find((b) => b.state === 'running');
      if (!running) return 'unknown';
      const b = (await client.workflow.getHandle(running.workflowId).query('batchStatus').catch(() => undefined)) as { step: string } | undefined;
      return b?.step ?? 'unknown';
    };
    const cutoverFaults = async (list: Fault[], maxDelayMs: number, label: string) => {
      for (const f of list) {
        await sleep(200 + random() * maxDelayMs);
        await faults.inject(f, `cutover ${label} (batch step: ${await batchStep()})`);
      }
    };

    const migrationStarted = Date.now();
    status = await operateMigration({
      client,
      workflowId,
      say,
      timeoutMs: s.timeoutMs,
      hooks: {
        beforeApproveCutover: async () => {
          await copyPhase;
          say(`copy-phase faults done (${faults.injected.length}); approving the cutover`);
        },
        stopProducers: async () => {
          await producer.stop();
          await producer.write(s.burstPerPartition);
          say(`producers stopped after a final flush; ${producer.sent} records written in all (${producer.failures} failed sends)`);
        },
        afterProducersStopped: () => cutoverFaults(s.afterProducersStopped.faults, s.afterProducersStopped.maxDelayMs, 'after producersStopped'),
        stopConsumers: async () => {
          await consumer?.disconnect();
          consumer = undefined;
          say('live consumer stopped on the source');
        },
        afterConsumersStopped: () => cutoverFaults(s.afterConsumersStopped.faults, s.afterConsumersStopped.maxDelayMs, 'after consumersStopped'),
        onVerifying: () => cutoverFaults(s.duringVerification.faults, s.duringVerification.maxDelayMs, 'verifying'),
      },
    });
    await copyPhase;
    const migrationSeconds = (Date.now() - migrationStarted) / 1000;
    say(`migration ${status.phase}${status.error ? `: ${status.error}` : ''} after ${migrationSeconds.toFixed(0)}s`);

    let verification: VerificationReport | undefined;
    let audit: MigrationAudit | undefined;
    const auditStarted = Date.now();
    if (status.phase === 'completed') {
      const b = status.batches[0];
      verification = JSON.parse(readFileSync(join(spec.reports.dir, spec.name, `${batchFileStem(b.number, b.name, 'verification')}.json`), 'utf8')) as VerificationReport;
      audit = await auditMigration(world, [world.liveGroup, world.laggingGroup]);
      say(`audit: ${audit.sourceRecords} source records, ${audit.targetRecords} target records, lost ${audit.lost}, duplicated ${audit.duplicated}, foreign ${audit.foreign}, inexact partitions ${audit.inexactPartitions.length}, group offsets ${audit.groupOffsets.length} checked / ${audit.wrongGroupOffsets.length} wrong`);
    }
    return {
      status,
      verification,
      audit,
      injected: faults.injected,
      workerKills: worker.kills,
      workerCrashes: worker.unexpectedExits.map((e) => `${e.at} pid ${e.pid}: ${e.detail}`),
      workerLog,
      world,
      seconds: { setup: setupSeconds, migration: migrationSeconds, audit: (Date.now() - auditStarted) / 1000 },
      log,
    };
  } catch (e) {
    console.log(`${log.join('\n')}\n--- worker log tail (${workerLog}) ---\n${worker.logTail(60)}`);
    throw e;
  } finally {
    faults.stopped = true;
    if (connection && status?.phase !== 'completed') {
      await new Client({ connection }).workflow.getHandle(workflowId).terminate('crash test cleanup').catch(() => undefined);
    }
    await worker.stop().catch(() => undefined);
    await producer.disconnect();
    await consumer?.disconnect().catch(() => undefined);
    await progressAdmin.disconnect().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await deleteCrashWorld(world);
  }
}
