/**
 * Cutover activities against the real stack: the quiet check, group states, the ACL write fence (with and
 * without the ALTER grant, seen from the `app` user over SASL) and the end offsets. The tool reads the source
 * as `migrator` over SASL; set-up uses the PLAINTEXT super-user.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes, type Admin, type Consumer } from 'kafkajs';
import { describeGroups, fenceSourceWrites, sampleEndOffsets, unfenceSourceWrites, waitForQuietSource } from '../src/activities/cutover';
import { commitGroupOffsets } from '../src/cutover/commitGroupOffsets';
import { createTopicsReady } from '../src/kafka/topicsReady';
import { SOURCE_ADMIN_BOOTSTRAP, SOURCE_SASL_BOOTSTRAP, sourceAdminKafka, STACK_DIR, stackSpec, uniqueSuffix } from './helpers/stack';

const setup = sourceAdminKafka();
let admin: Admin;
const created: string[] = [];

beforeAll(async () => {
  admin = setup.admin();
  await admin.connect();
});
afterAll(async () => {
  if (created.length) await admin.deleteTopics({ topics: created }).catch(() => undefined);
  await admin.disconnect();
});

async function createTopic(name: string, partitions: number): Promise<string> {
  await createTopicsReady(admin, [{ topic: name, numPartitions: partitions, replicationFactor: 1 }]);
  created.push(name);
  return name;
}

async function produce(topic: string, partition: number, count: number): Promise<void> {
  const producer = setup.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ partition, key: `k${i}`, value: `v${i}` })) });
  await producer.disconnect();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('sampleEndOffsets gives every partition end, read as migrator over SASL', async () => {
  const spec = stackSpec({ name: `cut-${uniqueSuffix()}` });
  const topic = await createTopic(`cut-ends-${uniqueSuffix()}`, 3);
  await produce(topic, 0, 5);
  await produce(topic, 2, 2);
  expect(await sampleEndOffsets({ spec, topics: [topic] })).toEqual({ [`${topic}:0`]: 5, [`${topic}:1`]: 0, [`${topic}:2`]: 2 });
});

describe('waitForQuietSource', () => {
  test('is quiet when nothing is written, with the end offsets a drain must reach', async () => {
    const spec = stackSpec({ name: `cut-${uniqueSuffix()}` });
    const topic = await createTopic(`cut-quiet-${uniqueSuffix()}`, 2);
    await produce(topic, 1, 3);
    const started = Date.now();
    const r = await waitForQuietSource({ spec, topics: [topic], quietSeconds: 1 });
    expect(r).toMatchObject({ quiet: true, changed: [], endOffsets: { [`${topic}:0`]: 0, [`${topic}:1`]: 3 } });
    // The verdict's own evidence: it watched (at least) the whole quiet period before calling the source quiet.
    expect(r.observedSeconds).toBeGreaterThanOrEqual(1);
    console.log(`quiet check (quiet) observed ${Date.now() - started} ms`); // speed is the benchmark's job
  });

  test('answers not quiet, naming the partition that moves, after watching twice the period while a producer writes', async () => {
    const spec = stackSpec({ name: `cut-${uniqueSuffix()}` });
    const topic = await createTopic(`cut-busy-${uniqueSuffix()}`, 2);
    const producer = setup.producer();
    await producer.connect();
    let writing = true;
    const writes = (async () => {
      for (let i = 0; writing; i++) {
        await producer.send({ topic, messages: [{ partition: 1, value: `w${i}` }] });
        await sleep(150);
      }
    })();
    try {
      const started = Date.now();
      const r = await waitForQuietSource({ spec, topics: [topic], quietSeconds: 1.5 });
      const elapsed = Date.now() - started;
      expect(r.quiet).toBe(false);
      expect(r.changed).toEqual([`${topic}:1`]);
      expect(r.endOffsets[`${topic}:1`]).toBeGreaterThan(0);
      expect(r.endOffsets[`${topic}:0`]).toBe(0);
      // It gave up only after its maximum watch (twice the period), not at the first move it saw.
      expect(r.observedSeconds).toBeGreaterThanOrEqual(3);
      console.log(`quiet check (busy) observed ${elapsed} ms`); // speed is the benchmark's job
    } finally {
      writing = false;
      await writes;
      await producer.disconnect();
    }
  });
});

describe('describeGroups', () => {
  let consumer: Consumer | undefined;
  afterEach(async () => {
    await consumer?.disconnect();
    consumer = undefined;
  });

  test('reports an active group with its members, an empty group and an unknown one', async () => {
    const spec = stackSpec({ name: `cut-${uniqueSuffix()}` });
    const topic = await createTopic(`cut-groups-${uniqueSuffix()}`, 1);
    const active = `cut-active-${uniqueSuffix()}`;
    const empty = `cut-empty-${uniqueSuffix()}`;
    const unknown = `cut-unknown-${uniqueSuffix()}`;
    await produce(topic, 0, 3);
    await commitGroupOffsets(setup, empty, [{ topic, partition: 0, offset: 2 }]);
    consumer = sourceAdminKafkaConsumer(active);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const joined = new Promise<void>((r) => consumer!.on(consumer!.events.GROUP_JOIN, () => r()));
    await consumer.run({ eachMessage: async () => undefined });
    await joined;

    const states = await describeGroups({ spec, cluster: 'source', groups: [active, empty, unknown] });
    expect(states).toEqual([
      {
        group: active,
        cluster: 'source',
        state: 'Stable',
        protocolType: 'consumer',
        protocol: expect.any(String),
        members: [{ memberId: expect.any(String), clientId: 'cutover-test-app', host: expect.stringMatching(/127\.0\.0\.1/) }],
      },
      // Offsets committed by an admin, no member ever: Empty, without a protocol type.
      { group: empty, cluster: 'source', state: 'Empty', protocolType: '', protocol: '', members: [] },
      { group: unknown, cluster: 'source', state: 'Dead', protocolType: '', protocol: '', members: [] },
    ]);
    expect(await describeGroups({ spec, cluster: 'target', groups: [active] })).toEqual([
      expect.objectContaining({ group: active, cluster: 'target', state: 'Dead', members: [] }),
    ]);
  });
});

/** An application consumer (super-user set-up connection) with a recognizable client id. */
function sourceAdminKafkaConsumer(groupId: string): Consumer {
  return new Kafka({ clientId: 'cutover-test-app', brokers: [SOURCE_ADMIN_BOOTSTRAP], logLevel: logLevel.NOTHING }).consumer({ groupId, maxWaitTimeInMs: 100 });
}

describe('fenceSourceWrites / unfenceSourceWrites', () => {
  const alterGrant = {
    resourceType: AclResourceTypes.CLUSTER,
    resourceName: 'kafka-cluster',
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: 'User:migrator',
    host: '*',
    operation: AclOperationTypes.ALTER,
    permissionType: AclPermissionTypes.ALLOW,
  };
  const denyWrite = (topic: string) => ({
    resourceType: AclResourceTypes.TOPIC,
    resourceName: topic,
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: 'User:*',
    host: '*',
    operation: AclOperationTypes.WRITE,
    permissionType: AclPermissionTypes.DENY,
  });
  const appPassword = readFileSync(resolve(STACK_DIR, 'secrets/app.password'), 'utf8').trim();
  /** The `app` user over SASL, as a real application writes. */
  async function appWrite(topic: string): Promise<'ok' | string> {
    const app = new Kafka({
      clientId: 'cutover-test-app',
      brokers: [SOURCE_SASL_BOOTSTRAP],
      sasl: { mechanism: 'plain', username: 'app', password: appPassword },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const producer = app.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages: [{ value: 'x' }] });
      return 'ok';
    } catch (e) {
      return (e as { type?: string }).type ?? (e as Error).message;
    } finally {
      await producer.disconnect();
    }
  }
  /** ACL changes reach the authorizer asynchronously (KRaft metadata): poll briefly. */
  async function eventually(topic: string, expected: (r: string) => boolean): Promise<string> {
    let r = '';
    for (let i = 0; i < 20; i++) {
      r = await appWrite(topic);
      if (expected(r)) return r;
      await sleep(250);
    }
    return r;
  }
  const describeDeny = async (topic: string) => (await admin.describeAcls({ ...denyWrite(topic), resourceName: topic })).resources.flatMap((r) => r.acls);

  test('without ALTER on the cluster: not applied, with the exact grant to add, and writes still flow', async () => {
    const spec = stackSpec({ name: `cut-${uniqueSuffix()}` });
    const topic = await createTopic(`cut-nofence-${uniqueSuffix()}`, 1);
    const r = await fenceSourceWrites({ spec, migration: spec.name, topics: [topic] });
    expect(r.applied).toBe(false);
    expect(r.reason).toContain('grant: kafka-acls --add --allow-principal User:migrator --operation Alter --cluster');
    expect(r.changed).toEqual([]);
    expect(await describeDeny(topic)).toEqual([]);
    expect(await appWrite(topic)).toBe('ok');
    // Nothing was fenced: unfence is a harmless no-op.
    expect(await unfenceSourceWrites({ spec, migration: spec.name, topics: [topic] })).toMatchObject({ applied: true, changed: [] });
  });

  test('with ALTER: fences writes of the app user, idempotently, and unfence removes only its own ACLs', async () => {
    const spec = stackSpec({ name: `cut-${uniqueSuffix()}` });
    const topic = await createTopic(`cut-fence-${uniqueSuffix()}`, 1);
    const foreignTopic = await createTopic(`cut-foreign-${uniqueSuffix()}`, 1);
    await admin.createAcls({ acl: [alterGrant, denyWrite(foreignTopic)] });
    try {
      expect(await eventually(topic, (r) => r === 'ok')).toBe('ok');
      const fence = await fenceSourceWrites({ spec, migration: spec.name, topics: [topic, foreignTopic] });
      expect(fence).toMatchObject({ applied: true, action: 'fence', topics: [topic, foreignTopic].sort() });
      expect(fence.changed.map((a) => a.topic)).toEqual([topic]);
      expect(fence.owned.map((a) => a.topic)).toEqual([topic]);
      expect(fence.foreign.map((a) => a.topic)).toEqual([foreignTopic]);
      expect(await eventually(topic, (r) => r !== 'ok')).toBe('TOPIC_AUTHORIZATION_FAILED');

      // A retry changes nothing and still knows the binding is its own.
      const again = await fenceSourceWrites({ spec, migration: spec.name, topics: [topic, foreignTopic] });
      expect(again).toMatchObject({ applied: true, changed: [] });
      expect(again.owned.map((a) => a.topic)).toEqual([topic]);
      expect(await describeDeny(topic)).toHaveLength(1);

      // Another migration cannot remove this migration's fence.
      const other = await unfenceSourceWrites({ spec, migration: `${spec.name}-other`, topics: [topic] });
      expect(other.changed).toEqual([]);
      expect(await describeDeny(topic)).toHaveLength(1);

      const unfence = await unfenceSourceWrites({ spec, migration: spec.name, topics: [topic, foreignTopic] });
      expect(unfence).toMatchObject({ applied: true, action: 'unfence' });
      expect(unfence.changed.map((a) => a.topic)).toEqual([topic]);
      expect(await describeDeny(topic)).toEqual([]);
      expect(await describeDeny(foreignTopic)).toHaveLength(1); // not ours: left in place
      expect(await eventually(topic, (r) => r === 'ok')).toBe('ok');

      expect(await unfenceSourceWrites({ spec, migration: spec.name, topics: [topic] })).toMatchObject({ applied: true, changed: [] });
    } finally {
      await admin.deleteAcls({ filters: [alterGrant, denyWrite(foreignTopic), denyWrite(topic)] });
    }
  });
});
