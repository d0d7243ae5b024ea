/**
 * Preflight checks against the real stack. The set-up (through the source's PLAINTEXT super-user) creates
 * what each check must find; the checks themselves read the source as `migrator` over SASL.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  logLevel,
  ResourcePatternTypes,
  type Admin,
  type AclEntry,
  type Consumer,
  type Producer,
} from 'kafkajs';
import {
  checkAcls,
  checkCapacity,
  checkClients,
  checkEcosystem,
  checkPermissions,
  checkReachability,
  checkSecurity,
  checkTargetState,
  checkVersions,
  summarizePreflight,
  writePreflightReport,
} from '../src/activities/preflight';
import { ApplicationFailure } from '@temporalio/common';
import type { MigrationSpec } from '../src/config/spec';
import type { CheckResult } from '../src/types/preflight';
import { SOURCE_ADMIN_BOOTSTRAP, sourceAdminKafka, stackSpec, targetKafka, uniqueSuffix } from './helpers/stack';

const s = uniqueSuffix();
const p = `pf-${s}`;
const T = {
  orders: `${p}-orders`,
  connectConfigs: `${p}-connect-configs`,
  connectOffsets: `${p}-connect-offsets`,
  connectStatus: `${p}-connect-status`,
  schemas: `${p}_schemas`,
  changelog: `${p}-app-store-changelog`,
  repartition: `${p}-app-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition`,
  offsetSyncs: `mm2-offset-syncs.${s}.internal`,
  checkpoints: `${s}.checkpoints.internal`,
  heartbeats: `${s}.heartbeats`,
  dup: `${p}-dup`,
  denied: `${p}-denied`,
};
const APP_GROUP = `${p}-app`; // a Streams-style application.id, actively consuming
const IDLE_GROUP = `${p}-idle`; // committed offsets, no member
const CONNECT_GROUP = `${p}-connect-cluster`; // protocol type "connect"
const CLIENT_ID = `pf-client-${s}`;
const APP_ACL: AclEntry = {
  resourceType: AclResourceTypes.TOPIC,
  resourceName: `${p}-orders`,
  resourcePatternType: ResourcePatternTypes.PREFIXED,
  principal: 'User:app',
  host: '*',
  operation: AclOperationTypes.WRITE,
  permissionType: AclPermissionTypes.ALLOW,
};

function specFor(overrides: Partial<Parameters<typeof stackSpec>[0]> = {}): MigrationSpec {
  return stackSpec({
    name: `pf-${s}`,
    scope: {
      topics: [`pf-${s}.*`, `mm2-offset-syncs\\.${s}\\.internal`, `${s}\\.(checkpoints\\.internal|heartbeats)`],
      excludeTopics: [T.denied],
      groups: [`pf-${s}.*`],
    },
    thresholds: { capacitySampleSeconds: 2 },
    ...overrides,
  });
}

/** Joins a group with protocol type "connect" over the raw protocol (JoinGroup v0), as a Connect worker does. */
function joinConnectGroup(groupId: string): Promise<Socket> {
  const str = (v: string) => {
    const b = Buffer.from(v);
    const len = Buffer.alloc(2);
    len.writeInt16BE(b.length);
    return Buffer.concat([len, b]);
  };
  const i32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  };
  const header = Buffer.concat([Buffer.from([0, 11, 0, 0]), i32(7), str('km-test')]);
  const metadata = Buffer.from('worker');
  const body = Buffer.concat([str(groupId), i32(30000), str(''), str('connect'), i32(1), str('sessioned'), i32(metadata.length), metadata]);
  const request = Buffer.concat([i32(header.length + body.length), header, body]);
  const [host, port] = SOURCE_ADMIN_BOOTSTRAP.split(':');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), host, () => socket.write(request));
    socket.once('data', (d) => (d.readInt16BE(8) === 0 ? resolve(socket) : reject(new Error(`JoinGroup error ${d.readInt16BE(8)}`))));
    socket.once('error', reject);
  });
}

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 15000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let admin: Admin;
let target: Admin;
let producer: Producer;
let consumer: Consumer;
let connectWorker: Socket | undefined;
const results: CheckResult[] = [];

beforeAll(async () => {
  admin = sourceAdminKafka().admin();
  target = targetKafka().admin();
  producer = sourceAdminKafka().producer();
  await Promise.all([admin.connect(), target.connect(), producer.connect()]);
  const compact = [{ name: 'cleanup.policy', value: 'compact' }];
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: T.orders, numPartitions: 2, configEntries: [{ name: 'message.downconversion.enable', value: 'false' }] },
      ...[T.connectConfigs, T.connectOffsets, T.connectStatus, T.schemas].map((topic) => ({ topic, numPartitions: 1, configEntries: compact })),
      ...[T.changelog, T.repartition, T.offsetSyncs, T.checkpoints, T.heartbeats, T.dup, T.denied].map((topic) => ({ topic, numPartitions: 1 })),
    ],
  });
  await target.createTopics({ waitForLeaders: true, topics: [{ topic: T.dup, numPartitions: 1 }] });
  await producer.send({ topic: T.orders, messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: 'x'.repeat(1000), partition: i % 2 })) });
  await producer.send({ topic: T.denied, messages: [{ value: 'secret' }] });
  await producer.send({ topic: T.schemas, messages: [{ key: '{"magic":0}', value: '{}' }] });
  await admin.setOffsets({ groupId: IDLE_GROUP, topic: T.orders, partitions: [{ partition: 0, offset: '1' }] });
  await admin.createAcls({ acl: [APP_ACL] });

  // An application with its own client id: the clients check must show it.
  const app = new Kafka({ clientId: CLIENT_ID, brokers: [SOURCE_ADMIN_BOOTSTRAP], logLevel: logLevel.NOTHING });
  consumer = app.consumer({ groupId: APP_GROUP, sessionTimeout: 10000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topics: [T.orders], fromBeginning: true });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.run({ eachMessage: async () => undefined });
  await waitFor('the app group to be stable', async () => joined);
  connectWorker = await joinConnectGroup(CONNECT_GROUP);
});

afterAll(async () => {
  connectWorker?.destroy();
  await consumer?.disconnect().catch(() => undefined);
  await admin?.deleteAcls({ filters: [APP_ACL] }).catch(() => undefined);
  await admin?.deleteTopics({ topics: Object.values(T) }).catch(() => undefined);
  await target?.deleteTopics({ topics: [T.dup] }).catch(() => undefined);
  await Promise.all([admin?.disconnect(), target?.disconnect(), producer?.disconnect()]);
});

test('ecosystem: Connect, Schema Registry, Streams and MirrorMaker topics and groups, with the guidance', async () => {
  const r = await checkEcosystem({ spec: specFor() });
  results.push(r);
  expect(r.verdict).toBe('warn');
  const affected = r.evidence.affected as {
    kind: string;
    name: string;
    topics: { name: string }[];
    groups: { groupId: string; protocolType: string }[];
    guidance: string;
  }[];
  const byKind = (kind: string, name?: string) => affected.find((c) => c.kind === kind && (name === undefined || c.name === name));
  expect(
    byKind('kafka-connect', `${p}-connect`)
      ?.topics.map((t) => t.name)
      .sort(),
  ).toEqual([T.connectConfigs, T.connectOffsets, T.connectStatus].sort());
  expect(byKind('kafka-connect', CONNECT_GROUP)?.groups).toEqual([{ groupId: CONNECT_GROUP, protocolType: 'connect', inScope: true }]);
  expect(byKind('schema-registry', T.schemas)?.topics.map((t) => t.name)).toEqual([T.schemas]);
  const streams = byKind('kafka-streams', APP_GROUP)!;
  expect(streams.topics.map((t) => t.name).sort()).toEqual([T.changelog, T.repartition].sort());
  expect(streams.groups.map((g) => g.groupId)).toEqual([APP_GROUP]);
  expect(byKind('mirrormaker2')?.topics.map((t) => t.name)).toEqual(expect.arrayContaining([T.offsetSyncs, T.checkpoints, T.heartbeats]));
  for (const c of affected) expect(c.guidance).toMatch(/keep .*(restart)/i);
  expect(r.remediation).toMatch(/bootstrap/);
});

test('versions: source 3.4 inside the automq range, target 3.9 judged on its APIs', async () => {
  const r = await checkVersions({ spec: specFor() });
  results.push(r);
  expect(r.verdict).toBe('pass');
  expect(r.evidence).toMatchObject({
    profile: { name: 'automq', supportedVersions: { min: '0.9', max: '3.4' } },
    source: { version: '3.4' },
    target: { version: '3.9' },
  });
  expect((r.evidence.source as { brokers: unknown[] }).brokers).toEqual([
    expect.objectContaining({ version: '3.4', verdict: 'pass', metadataVersion: { supported: [1, 8], finalized: [8, 8] } }),
  ]);
  expect(r.summary).toContain('source 3.4, target 3.9');

  // With a range that ends before 3.4 the source fails, and the remediation says what to do.
  const narrow = specFor();
  narrow.target.profileOverrides = { supportedVersions: { min: '0.9', max: '3.3' } };
  const f = await checkVersions({ spec: narrow });
  expect(f.verdict).toBe('fail');
  expect(f.summary).toMatch(/source broker 127\.0\.0\.1:\d+ \(broker \d+\) runs 3\.4, outside 0\.9–3\.3/);
  expect(f.remediation).toMatch(/upgrade or downgrade the source brokers/);
});

test('security: SASL_PLAINTEXT as migrator authenticates; wrong credentials and a protocol the profile rejects fail', async () => {
  const r = await checkSecurity({ spec: specFor() });
  results.push(r);
  expect(r.verdict).toBe('pass');
  expect(r.evidence).toMatchObject({
    source: { securityProtocol: 'SASL_PLAINTEXT', user: 'migrator', mechanism: 'PLAIN', authenticated: true },
    target: { securityProtocol: 'PLAINTEXT', reachable: true },
  });

  const badFile = join(mkdtempSync(join(tmpdir(), 'km-')), 'wrong.password');
  writeFileSync(badFile, 'wrong-password-zz9');
  const bad = specFor();
  bad.source.sasl!.password = { file: badFile };
  bad.target.securityProtocol = 'SSL';
  const f = await checkSecurity({ spec: bad });
  expect(f.verdict).toBe('fail');
  expect(f.summary).toContain('the source credentials do not work');
  expect(f.summary).toContain('as user "migrator" (PLAIN)');
  expect(f.summary).toContain('the target is configured with SSL, but the automq profile accepts PLAINTEXT');
  expect(f.remediation).toMatch(/source\.sasl\.username/);
  expect(JSON.stringify(f)).not.toContain('wrong-password-zz9');
});

test('permissions: migrator can describe and really read every in-scope topic and describe every group', async () => {
  const r = await checkPermissions({ spec: specFor() });
  results.push(r);
  expect(r.verdict).toBe('pass');
  expect(r.evidence).toMatchObject({ principal: 'User:migrator', missing: [] });
  expect(r.evidence.topicsRead).toEqual(expect.arrayContaining([T.orders, T.schemas]));
  expect(r.evidence.topicsInScope).toBe(Object.keys(T).length - 1);
  // Empty topics too: a clean fetch from their leader proves the right to read.
  expect(r.evidence.topicsReadVerified).toEqual(
    Object.values(T)
      .filter((t) => t !== T.denied)
      .sort(),
  );
});

test('permissions: a DENY Read on an in-scope topic fails, naming the topic and the binding to remove', async () => {
  const deny: AclEntry = {
    ...APP_ACL,
    resourceName: T.denied,
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: 'User:migrator',
    operation: AclOperationTypes.READ,
    permissionType: AclPermissionTypes.DENY,
  };
  await admin.createAcls({ acl: [deny] });
  try {
    await waitFor('the DENY binding', async () => (await admin.describeAcls({ ...deny })).resources.length > 0);
    const spec = specFor({ scope: { topics: [`${T.denied}|${T.orders}|${T.schemas}`] } });
    const r = await checkPermissions({ spec });
    expect(r.verdict).toBe('fail');
    expect(r.summary).toBe(`User:migrator lacks 1 permission(s): Read on topic ${T.denied}`);
    expect(r.evidence.missing).toEqual([
      {
        resource: `topic ${T.denied}`,
        operation: 'Read',
        error: 'TOPIC_AUTHORIZATION_FAILED',
        fix: expect.stringContaining(`--remove --deny-principal User:migrator --operation Read --topic '${T.denied}'`),
      },
    ]);
    expect(r.evidence.topicsRead).toEqual(expect.arrayContaining([T.orders, T.schemas]));
    expect(r.remediation).toContain('an ALLOW cannot override a DENY');
  } finally {
    await admin.deleteAcls({ filters: [deny] });
  }
});

test('acls: the source bindings are listed; the automq target will not enforce them', async () => {
  const r = await checkAcls({ spec: specFor() });
  results.push(r);
  expect(r.verdict).toBe('warn');
  expect(r.evidence.principals).toEqual(expect.arrayContaining(['User:app', 'User:migrator']));
  const mine = `ALLOW User:app WRITE on topic prefix "${p}-orders"`;
  expect((r.evidence.inScopeTopicBindings as { items: string[] }).items).toContain(mine);
  expect(r.summary).toMatch(/stop being enforced/);
  expect(r.remediation).toMatch(/restrict who can reach the target/);

  const kafkaTarget = specFor();
  kafkaTarget.target.profile = 'kafka';
  const k = await checkAcls({ spec: kafkaTarget });
  expect(k.verdict).toBe('pass');
  expect(k.remediation).toMatch(/recreate these bindings on the target/);
});

test('reachability: every advertised broker answers; an unreachable one is named by host:port', async () => {
  const r = await checkReachability({ spec: specFor() });
  results.push(r);
  expect(r.verdict).toBe('pass');
  const ev = r.evidence as { source: { source: string; brokers: { reachable: boolean }[] }; target: { brokers: { reachable: boolean }[] } };
  expect(ev.source.source).toBe('metadata');
  expect(ev.source.brokers.length).toBeGreaterThan(0);
  expect([...ev.source.brokers, ...ev.target.brokers].every((b) => b.reachable)).toBe(true);

  const down = specFor();
  down.target.bootstrapServers = ['127.0.0.1:1'];
  down.target.connectionTimeoutMs = 1000;
  const f = await checkReachability({ spec: down });
  expect(f.verdict).toBe('fail');
  expect(f.summary).toMatch(/target metadata unavailable .*; unreachable bootstrap: 127\.0\.0\.1:1/);
});

test('capacity: write rate sampled while a topic is written, read = write × reading groups, verdicts by ratio', async () => {
  let writing = true;
  const writer = (async () => {
    let i = 0;
    while (writing) {
      await producer.send({ topic: T.orders, messages: [{ key: `w${i}`, value: 'y'.repeat(2000), partition: i++ % 2 }] });
      await new Promise((r) => setTimeout(r, 40));
    }
  })();
  try {
    const r = await checkCapacity({ spec: specFor() });
    results.push(r);
    expect(r.verdict).toBe('pass');
    const orders = (
      r.evidence.perTopic as {
        topic: string;
        recordsWritten: number;
        avgRecordBytes: number;
        sizeFrom: string;
        writeMBps: number;
        readMBps: number;
        readingGroups: string[];
      }[]
    ).find((t) => t.topic === T.orders)!;
    expect(orders.recordsWritten).toBeGreaterThan(5);
    expect(orders.sizeFrom).toBe('sampled');
    expect(orders.avgRecordBytes).toBeGreaterThanOrEqual(2000);
    expect(orders.avgRecordBytes).toBeLessThan(2010);
    expect(orders.writeMBps).toBeGreaterThan(0);
    expect(orders.readingGroups.sort()).toEqual([APP_GROUP, IDLE_GROUP].sort());
    expect(orders.readMBps).toBeCloseTo(orders.writeMBps * 2, 3);
    expect(r.evidence.total).toMatchObject({ verdicts: { write: 'pass', read: 'pass', partitions: 'pass' } });

    const small = specFor();
    small.target.capacity = { writeMBps: 0.001, readMBps: 1000, maxPartitions: 100000 };
    const f = await checkCapacity({ spec: small });
    expect(f.verdict).toBe('fail');
    expect(f.evidence.total).toMatchObject({ verdicts: { write: 'fail', read: 'pass', partitions: 'pass' } });
    expect(f.summary).toContain(`busiest: ${T.orders}`);

    const tight = specFor();
    tight.thresholds.capacityWarnRatio = 0.000001;
    tight.target.capacity = { writeMBps: 1000, readMBps: 1000, maxPartitions: 1e6 };
    const w = await checkCapacity({ spec: tight });
    expect(w.verdict).toBe('warn');
    expect(w.evidence.total).toMatchObject({ verdicts: { write: 'warn', partitions: 'warn' } });
  } finally {
    writing = false;
    await writer;
  }
});

test('target state: a same-named topic on the target and configs the profile rejects', async () => {
  const r = await checkTargetState({ spec: specFor() });
  results.push(r);
  expect(r.verdict).toBe('fail');
  expect(r.evidence.existingTopics).toEqual([{ topic: T.dup, partitions: 1, sourcePartitions: 1, records: 0 }]);
  expect(r.evidence.rejectedConfigs).toEqual([{ topic: T.orders, config: 'message.downconversion.enable', value: 'false' }]);
  expect(r.summary).toContain(`${T.dup} already exists on the target (0 records)`);
  expect(r.remediation).toContain(`delete ${T.dup} on the target, or set target.existingTopicPolicy: adopt-if-empty`);

  const adopt = specFor();
  adopt.target.existingTopicPolicy = 'adopt-if-empty';
  const w = await checkTargetState({ spec: adopt });
  expect(w.verdict).toBe('warn');
  expect(w.summary).toContain(`${T.dup} already exists on the target, empty: it will be adopted`);
});

test('clients: members client ids and hosts per group; a group without members is a warning', async () => {
  const r = await checkClients({ spec: specFor() });
  results.push(r);
  expect(r.verdict).toBe('warn');
  const groups = r.evidence.groups as { groupId: string; members: { clientId: string; host: string }[]; topics: string[] }[];
  expect(groups.find((g) => g.groupId === APP_GROUP)).toMatchObject({
    topics: [T.orders],
    members: [expect.objectContaining({ clientId: CLIENT_ID, host: '127.0.0.1' })],
  });
  expect(r.evidence.groupsWithoutMembers).toEqual([IDLE_GROUP]);
  expect(groups.map((g) => g.groupId)).not.toContain(CONNECT_GROUP);
  expect(r.summary).toContain(IDLE_GROUP);
});

test('failures: bad credentials are non-retryable and say what to fix; an unreachable cluster is retryable', async () => {
  const badFile = join(mkdtempSync(join(tmpdir(), 'km-')), 'wrong.password');
  writeFileSync(badFile, 'wrong-password-qq7');
  const bad = specFor();
  bad.source.sasl!.password = { file: badFile };
  const auth = (await checkAcls({ spec: bad }).catch((e) => e)) as ApplicationFailure;
  expect(auth).toBeInstanceOf(ApplicationFailure);
  expect(auth).toMatchObject({ nonRetryable: true, type: 'KafkaAuthenticationFailed' });
  expect(auth.message).toMatch(
    /checkAcls: authentication failed on the source cluster .* as user "migrator" \(PLAIN\): check the username and the password reference in source\.sasl/,
  );
  expect(auth.message).not.toContain('wrong-password-qq7');

  const down = specFor();
  down.source.bootstrapServers = ['127.0.0.1:1'];
  down.source.connectionTimeoutMs = 1000;
  const net = (await checkClients({ spec: down }).catch((e) => e)) as ApplicationFailure;
  expect(net).toMatchObject({ nonRetryable: false, type: 'KafkaUnavailable' });
  expect(net.message).toContain('checkClients: source cluster 127.0.0.1:1');
});

test('the report: worst verdict wins, written as preflight.json and preflight.md', async () => {
  const spec = specFor({ reports: { dir: mkdtempSync(join(tmpdir(), 'km-reports-')) } });
  const report = summarizePreflight(spec.name, results);
  expect(report.checks).toHaveLength(9);
  expect(report.verdict).toBe('fail'); // target state
  const files = await writePreflightReport({ spec, report });
  expect(files.jsonPath).toBe(join(spec.reports.dir, spec.name, 'preflight.json'));
  expect(JSON.parse(readFileSync(files.jsonPath, 'utf8'))).toEqual(report);
  const md = readFileSync(files.markdownPath, 'utf8');
  expect(md).toContain(`# Preflight of migration ${spec.name}: FAIL`);
  expect(md).toContain('## FAIL — State of the target cluster (`target-state`)');
  expect(md).not.toMatch(/password/i);
});
