/**
 * One migration under injected faults, shared by the CI crash test and the chaos suite: seeds a world, runs the
 * real migration workflow with the real activities in a worker PROCESS, injects the faults of the scenario at
 * random points of the copy and at the cutover steps, walks the migration to its end and audits the result
 * independently of the tool. Blocks are decided as an operator would, through the CLI: a source topic the
 * scenario deleted is excluded (`exclude-topic --delete-target`), a group blocked by the consumer the scenario
 * started early on the target is retried once that consumer is stopped; any other block fails the scenario.
 * The audit covers the topics the migration migrated (excluded ones left out).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Admin, Consumer } from 'kafkajs';
import type { MigrationStatus, VerificationReport } from '../../src/types';
import { loadOffsetStore } from '../../src/copy/loadOffsetMap';
import { batchFileStem, migrationWorkflowId } from '../../src/workflows/ids';
import { migrationWorkflow } from '../../src/workflows/migration';
import { temporalSettings } from '../../src/worker/settings';
import { operateMigration } from './crashOperator';
import {
  copiedFraction,
  defineCrashWorld,
  deleteCrashWorld,
  seedCrashWorld,
  seededRandom,
  SequencedProducer,
  sourceRecordCount,
  startLiveConsumer,
  targetAdmin,
  type CrashWorld,
  type CrashWorldOptions,
} from './crashWorld';
import { FaultInjector, spreadPoints, type Fault, type InjectedFault } from './faults';
import { auditMigration, type MigrationAudit } from './migrationAudit';
import { cli } from './operator';
import { sourceAdminKafka, STACK_DIR, stackSpec, targetKafka, uniqueSuffix } from './stack';
import type { MigrationSpec, SecretRef } from '../../src/config/spec';
import { WorkerProcess } from './workerProcess';

export interface CrashScenario {
  label: string;
  seed: number;
  world: Omit<CrashWorldOptions, 'prefix'>;
  /**
   * Injected in this order at random points spread over copyRange (shares of the initial records copied). A
   * function builds them once the world, the worker and the workflow exist (scenario actions need them).
   */
  copyFaults: Fault[] | ((ctx: ScenarioContext) => Fault[]);
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
  /** Indexes of the world's topics the live consumer group reads (default: all). */
  liveTopics?: number[];
  /** Indexes of the world's topics whose copied share places the copy faults (default: all). Never deleted ones. */
  progressTopics?: number[];
  /** Merged into the spec's sections (e.g. scope.newTopicsCheckSeconds, cutover.deleteTargetTopicsOnAbort). */
  spec?: { scope?: Record<string, unknown>; cutover?: Record<string, unknown> };
  /**
   * Once the live consumer is stopped on the source, a consumer of its group starts on the TARGET before
   * consumersStopped (too early): the offset step must block with GroupActiveOnTarget; the operator stops it and retries.
   */
  earlyTargetConsumer?: boolean;
  /** Environment of the (first) worker process, e.g. its own KM_SECRETS_DIR / KM_REPORTS_DIR / KM_WORKER_IDENTITY. */
  workerEnv?: Record<string, string>;
  /** More worker processes on the same task queue (as on other hosts), each with its environment; never killed by copy faults. */
  moreWorkers?: Record<string, string>[];
  /** The source password reference of the spec (default the stack's password file, absolute). */
  sourcePassword?: SecretRef;
  /** Runs once the migration completed and the reports were read, while the workers still run (e.g. CLI commands). */
  afterCompleted?: (ctx: ScenarioContext) => Promise<void>;
}

/** What scenario actions (copy faults built by a function) can use. */
export interface ScenarioContext {
  client: Client;
  workflowId: string;
  taskQueue: string;
  spec: MigrationSpec;
  world: CrashWorld;
  producer: SequencedProducer;
  faults: FaultInjector;
  random: () => number;
  say: (line: string) => void;
  /** Source topics the scenario deleted: a SourceTopicMissing block on them is decided by exclude-topic. */
  deletedTopics: Set<string>;
  /** A super-user admin client of the source (connected). */
  sourceAdmin: Admin;
  /** The first worker process (the one kill-worker faults kill) and the scenario's further ones. */
  worker: WorkerProcess;
  moreWorkers: WorkerProcess[];
}

export interface BlockSeen {
  batch?: number;
  step: string;
  type: string;
  topics?: string[];
  groups?: string[];
  error: string;
  /** The operator's command line (kafka-migrate ...). */
  decision: string;
}

export interface ScenarioOutcome {
  status: MigrationStatus;
  /** Batch 1's verification report (see `verifications` for every completed batch). */
  verification?: VerificationReport;
  verifications: VerificationReport[];
  audit?: MigrationAudit;
  /** The topics audited: those of the completed batches, without the excluded ones. */
  auditedTopics: string[];
  blocks: BlockSeen[];
  /** The migration workflow's Temporal status at the end (COMPLETED, ...), and each batch workflow's by its id. */
  workflowStatus?: string;
  batchWorkflowStatuses: Record<string, string | undefined>;
  /** The world's topics (created ones too) on each cluster once the migration ended, before the clean-up. */
  topicsAtEnd: { source: string[]; target: string[] };
  /** Records on the source of the world's topics at the end. */
  sourceRecordsAtEnd?: number;
  injected: InjectedFault[];
  workerKills: number;
  /** Worker exits nobody injected (each was restarted, as a deployment would). */
  workerCrashes: string[];
  workerLog: string;
  /** Logs of the further worker processes. */
  moreWorkerLogs: string[];
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
  // Several workers bundle the workflow code at once on a loaded machine: give them longer to start.
  const startTimeoutMs = s.moreWorkers?.length ? 300_000 : undefined;
  const worker = new WorkerProcess({ taskQueue: `km-${s.label}-${suffix}`, logFile: workerLog, supervise: true, env: s.workerEnv, startTimeoutMs });
  const moreWorkerLogs = (s.moreWorkers ?? []).map((_, i) => join(logDir, `${s.label}-${suffix}-worker-${i + 2}.log`));
  const moreWorkers = (s.moreWorkers ?? []).map(
    (env, i) => new WorkerProcess({ taskQueue: `km-${s.label}-${suffix}`, logFile: moreWorkerLogs[i], supervise: true, env, startTimeoutMs }),
  );
  const producer = new SequencedProducer(world);
  const progressAdmin = targetAdmin();
  const sourceAdmin = sourceAdminKafka().admin();
  let consumer: Consumer | undefined;
  let earlyConsumer: Consumer | undefined;
  const blocks: BlockSeen[] = [];
  const deletedTopics = new Set<string>();
  const pick = (indexes: number[] | undefined) => (indexes ? indexes.map((i) => world.topicNames[i]) : world.topicNames);
  const liveTopics = pick(s.liveTopics);
  const progressTopics = pick(s.progressTopics);
  let connection: Connection | undefined;
  let status: MigrationStatus | undefined;
  const spec = stackSpec({
    name: `${s.label}-${suffix}`,
    ...(s.sourcePassword
      ? { source: { ...stackSpec({ name: 'x' }).source, sasl: { mechanism: 'PLAIN', username: 'migrator', password: s.sourcePassword } } }
      : {}),
    scope: { topics: [`${world.prefix.replace(/[-.]/g, '\\$&')}t.*`], groups: [`${world.prefix.replace(/[-.]/g, '\\$&')}(live|lagging)`], ...s.spec?.scope },
    ...(s.spec?.cutover ? { cutover: s.spec.cutover } : {}),
    thresholds: { capacitySampleSeconds: 1, quietPeriodSeconds: 2, readyMaxLagRecords: 20000, readyMaxLagSeconds: 120 },
    copy: {
      roundSeconds: 5,
      heartbeatTimeoutSeconds: 5,
      throttleBytesPerSecond: s.throttleBytesPerSecond,
      maxBatchBytes: s.maxBatchBytes,
      partitionsPerActivity: 4,
    },
    reports: { dir: mkdtempSync(join(tmpdir(), `km-${s.label}-`)) },
  } as never);
  const workflowId = migrationWorkflowId(spec.name);
  /** Records the dead worker had written to the target beyond its durable checkpoints (the tail to reconcile). */
  const tailBeyondCheckpoints = async () => {
    const store = await loadOffsetStore(spec.target, spec.name);
    let ahead = 0;
    for (const topic of world.topicNames) {
      const offsets = await progressAdmin.fetchTopicOffsets(topic).catch(() => []); // a topic excluded and deleted
      for (const o of offsets) ahead += Number(o.high) - (store.get(topic, o.partition).checkpoint?.targetNext ?? Number(o.low));
    }
    return `${ahead} records on the target beyond the checkpoints`;
  };
  const faults = new FaultInjector(worker, say, tailBeyondCheckpoints);
  try {
    await seedCrashWorld(world, producer);
    consumer = await startLiveConsumer(world, liveTopics);
    producer.startSteady(s.steady.perPartition, s.steady.intervalMs);
    const sourceTotal = await sourceRecordCount(world, progressTopics);
    say(`seeded ${world.topicNames.length} topics × ${world.partitions} partitions, ${sourceTotal} records; producer and consumer running`);
    await Promise.all([worker.start(), ...moreWorkers.map((w) => w.start())]);
    await progressAdmin.connect();
    await sourceAdmin.connect();
    const setupSeconds = (Date.now() - t0) / 1000;

    const settings = temporalSettings({ taskQueue: `km-${s.label}-${suffix}` });
    connection = await Connection.connect({ address: settings.address });
    const client = new Client({ connection, namespace: settings.namespace });
    await client.workflow.start(migrationWorkflow, { taskQueue: settings.taskQueue, workflowId, args: [{ spec }] });
    say(`started ${workflowId} on task queue ${settings.taskQueue}; worker log ${workerLog}`);

    let lastProgress = 0;
    const progress = async () => {
      try {
        lastProgress = await copiedFraction(world, sourceTotal, progressAdmin, progressTopics);
      } catch {
        /* target topics not created yet, or the target is restarting */
      }
      return lastProgress;
    };
    const taskQueue = settings.taskQueue;
    const ctx: ScenarioContext = { client, workflowId, taskQueue, spec, world, producer, faults, random, say, deletedTopics, sourceAdmin, worker, moreWorkers };
    const copyFaults = typeof s.copyFaults === 'function' ? s.copyFaults(ctx) : s.copyFaults;
    const points = spreadPoints(copyFaults.length, s.copyRange[0], s.copyRange[1], random);
    say(
      `copy faults: ${copyFaults.map((f, i) => `${f.kind === 'action' ? f.name : f.kind === 'restart' ? `restart ${f.component}` : 'SIGKILL worker'} at ${(points[i] * 100).toFixed(1)}%`).join(', ')}`,
    );
    const copyPhase = faults.duringCopy(copyFaults, points, progress, random, s.timeoutMs);
    copyPhase.catch(() => undefined); // awaited by the cutover approval and below

    const batchStep = async () => {
      const m = (await client.workflow
        .getHandle(workflowId)
        .query('status')
        .catch(() => undefined)) as MigrationStatus | undefined;
      const running = m?.batches.find((b) => b.state === 'running');
      if (!running) return 'unknown';
      const b = (await client.workflow
        .getHandle(running.workflowId)
        .query('batchStatus')
        .catch(() => undefined)) as { step: string } | undefined;
      return b?.step ?? 'unknown';
    };
    const cutoverFaults = async (list: Fault[], maxDelayMs: number, label: string) => {
      for (const f of list) {
        await sleep(200 + random() * maxDelayMs);
        await faults.inject(f, `cutover ${label} (batch step: ${await batchStep()})`);
      }
    };

    const decided = new Set<string>();
    let earlyStopped = false;
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
          if (s.earlyTargetConsumer) earlyConsumer = await startEarlyTargetConsumer(world.liveGroup, liveTopics, say);
        },
        onBlocked: async (m) => {
          const b = m.blocked!;
          const key = `${b.batch}:${b.step}:${b.type}:${b.since}`;
          if (decided.has(key)) return;
          let argv: string[];
          const missing = (b.topics ?? []).filter((t) => deletedTopics.has(t));
          if (b.type === 'SourceTopicMissing' && missing.length && missing.length === (b.topics ?? []).length) {
            argv = [
              'exclude-topic',
              spec.name,
              '--topic',
              missing[0],
              '--reason',
              'deleted on the source by its team',
              '--delete-target',
              '--by',
              'chaos-operator',
            ];
          } else if (b.type === 'GroupActiveOnTarget' && (earlyConsumer || earlyStopped) && (b.groups ?? []).every((g) => g === world.liveGroup)) {
            if (earlyConsumer) {
              await earlyConsumer.disconnect().catch(() => undefined);
              earlyConsumer = undefined;
              earlyStopped = true;
              say(`the consumer started too early on the target (group ${world.liveGroup}) is stopped`);
            }
            argv = ['retry', spec.name, '--by', 'chaos-operator', '--reason', 'stopped the consumer that started on the target too early'];
          } else {
            // A block nobody caused on purpose (e.g. by a worker kill) is a finding: the scenario fails on it.
            throw new Error(
              `UNEXPECTED block: batch ${b.batch} ${b.step} ${b.type}: ${b.error} (topics ${b.topics?.join(', ') ?? '-'}, groups ${b.groups?.join(', ') ?? '-'})`,
            );
          }
          const r = await cli(taskQueue, ...argv);
          say(`operator: kafka-migrate ${argv.join(' ')} -> exit ${r.code}: ${(r.code === 0 ? r.out : r.err).split('\n')[0]}`);
          if (r.code === 0) {
            decided.add(key);
            blocks.push({
              batch: b.batch,
              step: b.step,
              type: b.type,
              topics: b.topics,
              groups: b.groups,
              error: b.error,
              decision: `kafka-migrate ${argv.join(' ')}`,
            });
          } else await sleep(2000);
        },
        afterConsumersStopped: () => cutoverFaults(s.afterConsumersStopped.faults, s.afterConsumersStopped.maxDelayMs, 'after consumersStopped'),
        onVerifying: () => cutoverFaults(s.duringVerification.faults, s.duringVerification.maxDelayMs, 'verifying'),
      },
    });
    if (status.phase !== 'completed') faults.stopped = true; // e.g. cancelled mid-copy: the remaining copy faults are moot
    await copyPhase;
    const migrationSeconds = (Date.now() - migrationStarted) / 1000;
    say(`migration ${status.phase}${status.error ? `: ${status.error}` : ''} after ${migrationSeconds.toFixed(0)}s`);

    const workflowStatus = (
      await client.workflow
        .getHandle(workflowId)
        .describe()
        .catch(() => undefined)
    )?.status.name;
    const batchWorkflowStatuses: Record<string, string | undefined> = {};
    for (const b of status.batches)
      batchWorkflowStatuses[b.workflowId] = (
        await client.workflow
          .getHandle(b.workflowId)
          .describe()
          .catch(() => undefined)
      )?.status.name;
    const topicsAtEnd = { source: await worldTopicsOn(sourceAdmin, world), target: await worldTopicsOn(progressAdmin, world) };
    const sourceRecordsAtEnd = await sourceRecordCount(world, topicsAtEnd.source).catch(() => undefined);
    const verifications: VerificationReport[] = [];
    let auditedTopics: string[] = [];
    let audit: MigrationAudit | undefined;
    const auditStarted = Date.now();
    if (status.phase === 'completed') {
      // Each worker writes reports into its own KM_REPORTS_DIR when it has one, else into the spec's folder.
      const reportDirs = [...new Set([s.workerEnv, ...(s.moreWorkers ?? [])].map((env) => env?.KM_REPORTS_DIR ?? spec.reports.dir))];
      for (const b of status.batches.filter((x) => x.state === 'completed')) {
        const file = `${batchFileStem(b.number, b.name, 'verification')}.json`;
        const where = reportDirs.map((d) => join(d, spec.name, file)).find((f) => existsSync(f)) ?? join(spec.reports.dir, spec.name, file);
        verifications.push(JSON.parse(readFileSync(where, 'utf8')) as VerificationReport);
        const excluded = new Set(b.excludedTopics ?? []);
        auditedTopics.push(...(status.plan?.batches.find((p) => p.number === b.number)?.topics.map((t) => t.name) ?? []).filter((t) => !excluded.has(t)));
      }
      auditedTopics = [...new Set(auditedTopics)].sort();
      say(`auditing ${auditedTopics.length} migrated topics: ${auditedTopics.join(', ')}`);
      audit = await auditMigration(world, [world.liveGroup, world.laggingGroup], 180000, auditedTopics);
      say(
        `audit: ${audit.sourceRecords} source records, ${audit.targetRecords} target records, lost ${audit.lost}, duplicated ${audit.duplicated}, foreign ${audit.foreign}, inexact partitions ${audit.inexactPartitions.length}, group offsets ${audit.groupOffsets.length} checked / ${audit.wrongGroupOffsets.length} wrong`,
      );
      await s.afterCompleted?.(ctx);
    }
    return {
      status,
      verification: verifications[0],
      verifications,
      audit,
      auditedTopics,
      blocks,
      workflowStatus,
      batchWorkflowStatuses,
      topicsAtEnd,
      sourceRecordsAtEnd,
      injected: faults.injected,
      workerKills: worker.kills,
      workerCrashes: worker.unexpectedExits.map((e) => `${e.at} pid ${e.pid}: ${e.detail}`),
      workerLog,
      moreWorkerLogs,
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
      await new Client({ connection }).workflow
        .getHandle(workflowId)
        .terminate('crash test cleanup')
        .catch(() => undefined);
    }
    await worker.stop().catch(() => undefined);
    for (const w of moreWorkers) await w.stop().catch(() => undefined);
    await producer.disconnect();
    await consumer?.disconnect().catch(() => undefined);
    await earlyConsumer?.disconnect().catch(() => undefined);
    await progressAdmin.disconnect().catch(() => undefined);
    await sourceAdmin.disconnect().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await deleteCrashWorld(world);
  }
}

/** The world's topics (created ones too) that exist on the cluster of `admin`. */
async function worldTopicsOn(admin: Admin, world: CrashWorld): Promise<string[]> {
  const names = new Set([...world.topicNames, ...world.createdTopics]);
  return (await admin.listTopics()).filter((t) => names.has(t)).sort();
}

/** A consumer of `group` on the target that joins before its offsets are translated (autoCommit off: it commits nothing). */
async function startEarlyTargetConsumer(group: string, topics: string[], say: (line: string) => void): Promise<Consumer> {
  const early = targetKafka().consumer({ groupId: group, sessionTimeout: 30000, heartbeatInterval: 3000 });
  let joined!: () => void;
  const hasJoined = new Promise<void>((r) => (joined = r));
  early.on(early.events.GROUP_JOIN, () => joined());
  await early.connect();
  await early.subscribe({ topics, fromBeginning: true });
  await early.run({ autoCommit: false, eachBatch: async () => undefined });
  await Promise.race([hasJoined, sleep(60000)]);
  say(`a consumer of group ${group} joined on the TARGET before consumersStopped (too early)`);
  return early;
}
