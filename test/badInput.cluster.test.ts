/**
 * Bad input, part 3: migrations on the real worker, Temporal server and clusters that must end in a clear
 * error: wrong credentials, a missing password reference, an unreachable bootstrap, a scope that matches no
 * topic, target topics that already exist with other partitions, SSL towards an AutoMQ target. After each:
 * the source exactly as before (end offsets, configs, ACLs, committed offsets), no target topic created, no
 * entry of the migration in `__kafka_migrate_offsets`, no workflow of the migration running.
 */
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { MigrationSpec } from '../src/config/spec';
import type { MigrationStatus } from '../src/types';
import { migrationWorkflowId } from '../src/workflows/ids';
import { operatorActionUpdate, statusQuery } from '../src/workflows/messages';
import { migrationWorkflow } from '../src/workflows/migration';
import { deleteCreated, expectNoRunningWorkflow, offsetStoreEntries, seedSource, snapshotSource, targetTopicsPresent } from './helpers/noDamage';
import { captureIo, waitForOperatorWait } from './helpers/operator';
import { run } from '../src/cli/main';
import { MIGRATOR_PASSWORD_FILE, SOURCE_SASL_BOOTSTRAP, stackSpec, TARGET_BOOTSTRAP, targetKafka, uniqueSuffix } from './helpers/stack';
import { startTestWorker, type TestTemporal } from './helpers/temporal';
import { until } from './helpers/until';
import { workerIdentity } from '../src/worker/identity';

process.env.KM_KAFKAJS_LOG ??= 'nothing'; // the worker runs in this process; the errors under test are asserted

let t: TestTemporal;
beforeAll(async () => {
  t = await startTestWorker();
});
/** Everything the cases created, deleted at the end (after each case proved it untouched). */
const created = { sourceTopics: [] as string[], groups: [] as string[], targetTopics: [] as string[] };
afterAll(async () => {
  await t?.shutdown();
  await deleteCreated(created);
  rmSync(dir, { recursive: true, force: true });
});

const dir = mkdtempSync(join(tmpdir(), 'km-bad-cluster-'));

interface World {
  name: string;
  topics: string[];
  group: string;
}

/** A migration name with its own source topics (a few records) and a group with committed offsets. */
async function world(label: string, topicNames: string[] = ['orders'], partitions = 1): Promise<World> {
  const name = `${label}-${uniqueSuffix()}`;
  const topics = topicNames.map((n) => `${name}.${n}`);
  const group = `${name}-app`;
  created.sourceTopics.push(...topics);
  created.groups.push(group);
  for (const topic of topics) await seedSource(topic, group, partitions);
  return { name, topics, group };
}

function specOf(w: World, overrides: Record<string, unknown> = {}): MigrationSpec {
  return stackSpec({
    name: w.name,
    scope: { topics: [`${w.name.replace(/-/g, '\\-')}\\..*`] },
    thresholds: { capacitySampleSeconds: 1 },
    reports: { dir: join(dir, 'reports') },
    ...overrides,
  } as never);
}

async function start(spec: MigrationSpec): Promise<WorkflowHandle<typeof migrationWorkflow>> {
  return t.client.workflow.start(migrationWorkflow, { taskQueue: t.settings.taskQueue, workflowId: migrationWorkflowId(spec.name), args: [{ spec }] });
}

/**
 * The fault the migration blocks on (it must block, never fail), as "migration <name> blocked in <step>: <error>";
 * then aborts it (a batch rolls back) and waits until it has ended.
 */
async function failure(h: WorkflowHandle): Promise<string> {
  const s = await until(
    () => h.query(statusQuery),
    (x: MigrationStatus) => x.phase === 'blocked',
    `${h.workflowId} to block`,
    120_000,
  );
  await h.signal('abort', { by: 'bad-input-test', reason: 'bad input' });
  expect((await h.result()).outcome).toBe('aborted');
  return `migration ${s.name} blocked in ${s.blocked!.step}: ${s.blocked!.error}`;
}

/** Attempts and retryability of the last failure of an activity, from the workflow's history. */
async function activityFailure(h: WorkflowHandle, activity: string): Promise<{ attempt: number; nonRetryable: boolean }> {
  const history = await h.fetchHistory();
  const events = history.events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity);
  if (!scheduled) throw new Error(`${activity} was never scheduled`);
  const id = String(scheduled.eventId);
  const started = events.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === id);
  const failed = events.find((e) => String(e.activityTaskFailedEventAttributes?.scheduledEventId) === id);
  return {
    attempt: started?.activityTaskStartedEventAttributes?.attempt ?? 0,
    nonRetryable: !!failed?.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo?.nonRetryable,
  };
}

/** The source as before, nothing of the migration on the target (except `preexisting`), nothing running. */
async function expectNoDamage(w: World, before: Awaited<ReturnType<typeof snapshotSource>>, preexisting: Record<string, number> = {}): Promise<void> {
  expect(await snapshotSource(w.topics, [w.group])).toEqual(before);
  expect(await targetTopicsPresent(w.topics)).toEqual(preexisting);
  expect(await offsetStoreEntries(w.name, w.topics)).toEqual({ owners: [], partitions: [] });
  await expectNoRunningWorkflow(t.client, w.name);
}

function sourceWith(password: unknown, username = 'migrator'): Record<string, unknown> {
  return { bootstrapServers: [SOURCE_SASL_BOOTSTRAP], securityProtocol: 'SASL_PLAINTEXT', sasl: { mechanism: 'PLAIN', username, password } };
}

/** A port on 127.0.0.1 that nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

async function createTargetTopic(topic: string, partitions: number): Promise<void> {
  created.targetTopics.push(topic);
  const admin = targetKafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
  } finally {
    await admin.disconnect();
  }
}

/** The preflight fails on the target-state finding the test set up (and only on it); overridden, the plan approved: the batch starts. */
async function approveUpToBatch(h: WorkflowHandle, expectedPreflightFailure: RegExp): Promise<MigrationStatus> {
  let s = await waitForOperatorWait(t.client, h.workflowId);
  expect(s.waitingFor?.signal).toBe('overridePreflight');
  expect(s.preflight?.checks.filter((c) => c.verdict === 'fail').map((c) => c.id)).toEqual(['target-state']);
  expect(s.preflight?.checks.find((c) => c.id === 'target-state')?.summary).toMatch(expectedPreflightFailure);
  await h.executeUpdate(operatorActionUpdate, { args: [{ action: 'overridePreflight', by: 'bad-input', reason: 'the test wants to reach the batch' }] });
  s = await waitForOperatorWait(t.client, h.workflowId);
  expect(s.waitingFor?.signal).toBe('approvePlan|rejectPlan');
  await h.executeUpdate(operatorActionUpdate, { args: [{ action: 'approvePlan', by: 'bad-input' }] });
  return s;
}

test.concurrent('wrong credentials: connectivity fails at once (non-retryable), naming the cluster and the user', async () => {
  const w = await world('bad-cred');
  const before = await snapshotSource(w.topics, [w.group]);
  const wrong = join(dir, `${w.name}.password`);
  writeFileSync(wrong, 'not-the-password\n');
  const h = await start(specOf(w, { source: sourceWith({ file: wrong }) }));
  expect(await failure(h)).toBe(
    `migration ${w.name} blocked in connectivity: checkConnectivity: authentication failed on the source cluster ${SOURCE_SASL_BOOTSTRAP} over SASL_PLAINTEXT as user "migrator" (PLAIN): check the username and the password reference in source.sasl`,
  );
  expect(await activityFailure(h, 'checkConnectivity')).toEqual({ attempt: 1, nonRetryable: true });
  expect(JSON.stringify(await h.query(statusQuery))).not.toContain('not-the-password');
  await expectNoDamage(w, before);
});

test.concurrent('a password reference to an unset environment variable: non-retryable, names the field and the variable', async () => {
  const w = await world('bad-env');
  const before = await snapshotSource(w.topics, [w.group]);
  const variable = `KM_BAD_INPUT_UNSET_${uniqueSuffix().toUpperCase()}`;
  const h = await start(specOf(w, { source: sourceWith({ env: variable }) }));
  expect(await failure(h)).toBe(
    `migration ${w.name} blocked in connectivity: checkConnectivity: source.sasl.password: environment variable ${variable} is not set on the worker ${workerIdentity()}`,
  );
  expect(await activityFailure(h, 'checkConnectivity')).toEqual({ attempt: 1, nonRetryable: true });
  await expectNoDamage(w, before);
});

test.concurrent('a password reference to a missing file: non-retryable, names the field and the file', async () => {
  const w = await world('bad-file');
  const before = await snapshotSource(w.topics, [w.group]);
  const missing = join(dir, `${w.name}-missing.password`);
  const h = await start(specOf(w, { source: sourceWith({ file: missing }) }));
  expect(await failure(h)).toBe(
    `migration ${w.name} blocked in connectivity: checkConnectivity: source.sasl.password: cannot read file ${missing} on the worker ${workerIdentity()} (ENOENT)`,
  );
  expect(await activityFailure(h, 'checkConnectivity')).toEqual({ attempt: 1, nonRetryable: true });
  await expectNoDamage(w, before);
});

test.concurrent(
  'an unreachable bootstrap: a clear error after a bounded number of retries, not a hang',
  async () => {
    const w = await world('bad-port');
    const before = await snapshotSource(w.topics, [w.group]);
    const port = await closedPort();
    const started = Date.now();
    const h = await start(specOf(w, { target: { bootstrapServers: [`127.0.0.1:${port}`], securityProtocol: 'PLAINTEXT' } }));
    expect(await failure(h)).toMatch(
      new RegExp(`^migration ${w.name} blocked in connectivity: checkConnectivity: target cluster 127\\.0\\.0\\.1:${port} over PLAINTEXT: .*ECONNREFUSED`),
    );
    // Bounded: the fifth attempt was the last (then the migration blocks instead of retrying on).
    expect(await activityFailure(h, 'checkConnectivity')).toEqual({ attempt: 5, nonRetryable: false });
    console.log(`unreachable bootstrap: blocked after ${Date.now() - started} ms`); // speed is the benchmark's job
    await expectNoDamage(w, before);
  },
  120_000,
);

test.concurrent(
  'a scope that matches no topic: the empty plan is refused, saying which patterns matched nothing',
  async () => {
    const w = await world('bad-scope');
    const before = await snapshotSource(w.topics, [w.group]);
    const h = await start(specOf(w, { scope: { topics: [`${w.name}\\.ordres`] } })); // a typo
    expect(await failure(h)).toBe(
      `migration ${w.name} blocked in plan: the plan has no batches: no source topic matches spec.scope.topics ["${w.name}\\\\.ordres"]; check the topic names (patterns are full-match regular expressions) and that the migration user may describe them, then start again`,
    );
    await expectNoDamage(w, before);
  },
  90_000,
);

test.concurrent(
  "a target topic with other partitions under existingTopicPolicy 'fail': the batch fails naming it, and creates nothing",
  async () => {
    // Two topics in one batch: `a-new` is absent on the target and sorts first, `b-taken` already exists there.
    const w = await world('bad-exists', ['a-new', 'b-taken'], 2);
    const [fresh, taken] = w.topics;
    await createTargetTopic(taken, 3);
    const before = await snapshotSource(w.topics, [w.group]);
    const h = await start(specOf(w));
    await approveUpToBatch(h, new RegExp(`${taken.replace(/\./g, '\\.')} exists on the target with 3 partitions, more than the source's 2`));
    expect(await failure(h)).toBe(
      `migration ${w.name} blocked in creating-topics: createTargetTopics: target topic ${taken} already exists (3 partitions) and target.existingTopicPolicy is 'fail': delete it on the target, or set existingTopicPolicy: adopt-if-empty if it is an empty topic prepared for this migration`,
    );
    await expectNoDamage(w, before, { [taken]: 3 });
    expect(await targetTopicsPresent([fresh])).toEqual({});
  },
  90_000,
);

test.concurrent(
  'adopt-if-empty with a different partition count: preflight fails and the batch refuses, saying why',
  async () => {
    const w = await world('bad-adopt', ['orders'], 2);
    const [topic] = w.topics;
    await createTargetTopic(topic, 1); // empty, but 1 partition against the source's 2
    const before = await snapshotSource(w.topics, [w.group]);
    const spec = specOf(w, { target: { bootstrapServers: [TARGET_BOOTSTRAP], securityProtocol: 'PLAINTEXT', existingTopicPolicy: 'adopt-if-empty' } });
    const h = await start(spec);
    const s = await approveUpToBatch(
      h,
      new RegExp(`${topic.replace(/\./g, '\\.')} exists on the target with 1 partitions, the source has 2: it cannot be adopted`),
    );
    expect(s.preflight?.checks.find((c) => c.id === 'target-state')?.remediation).toContain(`delete ${topic} on the target, or give it 2 partitions`);
    expect(await failure(h)).toBe(
      `migration ${w.name} blocked in creating-topics: createTargetTopics: target topic ${topic} already exists with 1 partitions, the source has 2: it cannot be adopted (offsets and keys must map partition for partition); delete it on the target or fix its partition count`,
    );
    await expectNoDamage(w, before, { [topic]: 1 });
  },
  90_000,
);

test.concurrent('SSL towards an AutoMQ target: `preflight` fails and explains that the profile accepts PLAINTEXT only', async () => {
  const w = await world('bad-ssl');
  const before = await snapshotSource(w.topics, [w.group]);
  const file = join(dir, `${w.name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name: w.name,
      source: sourceWith({ file: MIGRATOR_PASSWORD_FILE }),
      target: { bootstrapServers: [TARGET_BOOTSTRAP], securityProtocol: 'SSL', profile: 'automq' },
      scope: { topics: [`${w.name}\\..*`] },
      thresholds: { capacitySampleSeconds: 1 },
      reports: { dir: join(dir, 'reports') },
    }),
  );
  const io = captureIo();
  expect(await run(['--task-queue', t.settings.taskQueue, 'preflight', '-f', file, '--quiet'], io)).toBe(1);
  const lines = io.stderr().split('\n');
  expect(lines[0]).toMatch(new RegExp(`^error: preflight check\\w+ could not run: check\\w+: target cluster ${TARGET_BOOTSTRAP} over SSL: .*TLS`));
  expect(lines.slice(1, 3)).toEqual([
    'failed checks:',
    expect.stringMatching(
      /^ {2}security: the target is configured with SSL, but the automq profile accepts PLAINTEXT; the target does not answer over SSL at /,
    ),
  ]);
  expect(lines[3]).toBe(
    '    fix: set target.securityProtocol to one of PLAINTEXT (and use the matching listener in target.bootstrapServers). check target.bootstrapServers, that the listener speaks the configured protocol, and firewalls between the worker and the target.',
  );
  await expectNoDamage(w, before);
});
