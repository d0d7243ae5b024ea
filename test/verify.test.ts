/**
 * Offset translation and verification against the real stack.
 * - A correct copy made by the real copy engine (src/copy) of a topic with null keys, a tombstone, binary and
 *   repeated headers, an aborted and a committed transaction and a raised log-start offset: group offsets are
 *   translated exactly (refused while the group is active), and verification passes.
 * - A tampered copy made by a test-only copier (it writes the offset map in the real store format): an
 *   extra record, a changed header, a changed timestamp, a missing record and a wrong group offset each show
 *   up as a precise mismatch.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Kafka, logLevel, type Admin, type Consumer, type IHeaders, type Message } from 'kafkajs';
import { translateAndCommitOffsets } from '../src/activities/cutover';
import { verifyBatch } from '../src/activities/verify';
import { copyPartitionsUntil } from '../src/copy/copyPartitions';
import { loadOffsetMap } from '../src/copy/loadOffsetMap';
import { ensureOffsetStoreTopic, offsetMapRecords, OFFSET_STORE_TOPIC } from '../src/copy/offsetMapStore';
import { appendMapping } from '../src/copy/offsetRuns';
import { translateOffset } from '../src/copy/translateOffset';
import type { MigrationSpec } from '../src/config/spec';
import type { OffsetRun } from '../src/types/copy';
import { commitGroupOffsets } from '../src/cutover/commitGroupOffsets';
import { createTopicsReady } from '../src/kafka/topicsReady';
import { TopicRangeReader } from '../src/verify/topicRangeReader';
import { SOURCE_ADMIN_BOOTSTRAP, sourceAdminKafka, stackSpec, targetKafka, uniqueSuffix } from './helpers/stack';

const source = sourceAdminKafka();
const target = targetKafka();
let sourceAdmin: Admin;
let targetAdmin: Admin;
const createdSource: string[] = [];
const createdTarget: string[] = [];

beforeAll(async () => {
  sourceAdmin = source.admin();
  targetAdmin = target.admin();
  await Promise.all([sourceAdmin.connect(), targetAdmin.connect()]);
});
afterAll(async () => {
  if (createdSource.length) await sourceAdmin.deleteTopics({ topics: createdSource }).catch(() => undefined);
  if (createdTarget.length) await targetAdmin.deleteTopics({ topics: createdTarget }).catch(() => undefined);
  await Promise.all([sourceAdmin.disconnect(), targetAdmin.disconnect()]);
});

async function createTopicBothSides(topic: string, partitions: number): Promise<void> {
  await createTopicsReady(sourceAdmin, [{ topic, numPartitions: partitions, replicationFactor: 1 }]);
  createdSource.push(topic);
  await createTopicsReady(targetAdmin, [{ topic, numPartitions: partitions, replicationFactor: 1 }]);
  createdTarget.push(topic);
}

async function produce(kafka: Kafka, topic: string, messages: Message[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
}

function appConsumer(kafka: Kafka, groupId: string): Consumer {
  // A short fetch wait keeps disconnect() quick.
  return kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
}

/** Joins the group and stays in it; commits nothing (its offsets must not blur what translation committed). */
async function runConsumer(consumer: Consumer, topic: string): Promise<void> {
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const joined = new Promise<void>((r) => consumer.on(consumer.events.GROUP_JOIN, () => r()));
  await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
  await joined;
}

const ends = async (admin: Admin, topic: string) =>
  Object.fromEntries((await admin.fetchTopicOffsets(topic)).map((o) => [`${topic}:${o.partition}`, Number(o.high)]));

const committedOn = async (admin: Admin, group: string, topic: string) =>
  Object.fromEntries((await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0].partitions.map((p) => [p.partition, Number(p.offset)]));

describe('a correct copy by the copy engine', () => {
  const suffix = uniqueSuffix();
  const topic = `ver-ok-${suffix}`;
  const group = `ver-ok-g-${suffix}`;
  let spec: MigrationSpec;

  beforeAll(async () => {
    spec = stackSpec({ name: `ver-ok-${suffix}` });
    await createTopicBothSides(topic, 3);
    const headers: IHeaders = { 'bin-h': Buffer.from([0, 255, 1, 254]), trace: [Buffer.from('a'), Buffer.from('b')] };
    await produce(source, topic, [
      { partition: 0, key: 'k0', value: 'v0', timestamp: '1700000000000' },
      { partition: 0, key: null, value: 'null-key' },
      { partition: 0, key: 'k2', value: null },
      { partition: 0, key: 'k3', value: 'with-headers', headers },
    ]);
    // An aborted and a committed transaction on partition 0: aborted records and markers become gaps.
    const tx = source.producer({ transactionalId: `ver-tx-${suffix}`, idempotent: true, maxInFlightRequests: 1 });
    await tx.connect();
    const aborted = await tx.transaction();
    await aborted.send({ topic, messages: [{ partition: 0, key: 'aborted', value: 'never-seen' }] });
    await aborted.abort();
    const committed = await tx.transaction();
    await committed.send({
      topic,
      messages: [
        { partition: 0, key: 'k5', value: 'committed-1' },
        { partition: 0, key: 'k6', value: 'committed-2' },
      ],
    });
    await committed.commit();
    await tx.disconnect();
    await produce(source, topic, [{ partition: 0, key: 'k7', value: 'after-tx' }]);
    await produce(
      source,
      topic,
      [1, 2, 3].map((i) => ({ partition: 1, key: `p1-${i}`, value: `p1-${i}` })),
    );
    await produce(source, topic, [{ partition: 2, key: 'p2', value: 'p2' }]);
    // Log-start above 0 on partition 0: offsets differ on the target. (kafkajs' deleteTopicRecords needs the
    // topic's metadata loaded first, which fetchTopicOffsets does.)
    await sourceAdmin.fetchTopicOffsets(topic);
    await sourceAdmin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '1' }] });
    // The group: mid-partition on 0, at the end on 1, nothing committed on 2.
    await commitGroupOffsets(source, group, [
      { topic, partition: 0, offset: 6 },
      { topic, partition: 1, offset: 3 },
    ]);

    const stopAt = await ends(sourceAdmin, topic);
    await copyPartitionsUntil({
      source: spec.source,
      target: spec.target,
      migration: spec.name,
      partitions: [0, 1, 2].map((partition) => ({ topic, partition })),
      stopAt,
    });
  });

  test('translation is refused while the group has members on the target, then commits exact offsets', async () => {
    const consumer = appConsumer(target, group);
    await runConsumer(consumer, topic);
    try {
      const refused = await translateAndCommitOffsets({ spec, migration: spec.name, groups: [group], topics: [topic] }).catch((e) => e);
      expect(refused).toBeInstanceOf(ApplicationFailure);
      expect(refused).toMatchObject({ type: 'GroupActiveOnTarget', nonRetryable: true });
      expect(refused.message).toContain(`group "${group}" has 1 member(s) on the target`);
    } finally {
      await consumer.disconnect();
    }

    const report = await translateAndCommitOffsets({ spec, migration: spec.name, groups: [group], topics: [topic] });
    const map0 = await loadOffsetMap(spec.target, spec.name, topic, 0);
    const map1 = await loadOffsetMap(spec.target, spec.name, topic, 1);
    const expected0 = translateOffset(map0, 6);
    // Source offsets: k0..k3 at 0..3, the aborted record at 4 and its marker at 5, k5 at 6. With log-start 1
    // the copy holds source 1, 2, 3 at target 0, 1, 2, so k5 (source 6) is at target 3.
    expect(expected0).toBe(3);
    expect(report.groups).toEqual([
      expect.objectContaining({
        group,
        sourceState: 'Empty',
        committed: 2,
        // Partition 2 has no committed offset on either cluster: counted, not listed.
        withoutOffset: [],
        uncommitted: 1,
        partitions: [
          { topic, partition: 0, sourceOffset: 6, targetOffset: 3, identical: false },
          { topic, partition: 1, sourceOffset: 3, targetOffset: translateOffset(map1, 3), identical: true },
        ],
      }),
    ]);
    expect(report.notes.join(' ')).toContain('auto.offset.reset');
    expect(await committedOn(targetAdmin, group, topic)).toEqual({ 0: 3, 1: 3, 2: -1 });

    // Idempotent: a retry commits the same offsets again.
    const again = await translateAndCommitOffsets({ spec, migration: spec.name, groups: [group], topics: [topic] });
    expect(again.groups[0].partitions).toEqual(report.groups[0].partitions);
    expect(await committedOn(targetAdmin, group, topic)).toEqual({ 0: 3, 1: 3, 2: -1 });
  });

  test('translation is refused while the group is still consuming on the source', async () => {
    const busy = `ver-busy-${suffix}`;
    const consumer = appConsumer(new Kafka({ clientId: 'ver-app', brokers: [SOURCE_ADMIN_BOOTSTRAP], logLevel: logLevel.NOTHING }), busy);
    await runConsumer(consumer, topic);
    try {
      const refused = await translateAndCommitOffsets({ spec, migration: spec.name, groups: [busy], topics: [topic] }).catch((e) => e);
      expect(refused).toMatchObject({ type: 'GroupActive', nonRetryable: true });
      expect(refused.message).toMatch(new RegExp(`group "${busy}" is Stable on the source with 1 member\\(s\\)`));
    } finally {
      await consumer.disconnect();
    }
  });

  test('verification passes: counts, digests, offset map, group offsets and configs', async () => {
    const report = await verifyBatch({ spec, migration: spec.name, batch: { number: 1, name: 'ok', topics: [{ name: topic }], groups: [group] } });
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.partitions.map((p) => [p.partition, p.source.records, p.target.records, p.contentEqual, p.mapConsistent])).toEqual([
      [0, 6, 6, true, true],
      [1, 3, 3, true, true],
      [2, 1, 1, true, true],
    ]);
    expect(report.partitions[0].source.start).toBe(1);
    expect(report.partitions[0].source.digest).toBe(report.partitions[0].target.digest);
    expect(report.groups[0]).toMatchObject({ group, ok: true });
    expect(report.configs).toEqual([expect.objectContaining({ topic, ok: true })]);
  });
});

/** A deliberately imperfect copier: writes the target through kafkajs and the offset map in the store's format. */
async function testCopy(
  spec: MigrationSpec,
  topic: string,
  partitions: number,
  tamper: (partition: number, index: number, message: Message) => Message[],
): Promise<void> {
  const reader = await TopicRangeReader.open(source, topic, { groupIdPrefix: 'ver-test-copier' });
  const producer = target.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await ensureOffsetStoreTopic(targetAdmin, undefined);
  try {
    const bounds = await sourceAdmin.fetchTopicOffsets(topic);
    for (let partition = 0; partition < partitions; partition++) {
      const b = bounds.find((o) => o.partition === partition)!;
      const runs: OffsetRun[] = [];
      let targetNext = 0;
      let index = 0;
      for await (const m of reader.read(partition, Number(b.low), Number(b.high))) {
        const copy: Message = { partition, key: m.key, value: m.value, headers: m.headers, timestamp: m.timestamp };
        // The last message written stands for the source record (possibly altered); earlier ones are extras.
        const outs = tamper(partition, index++, copy);
        for (const [i, out] of outs.entries()) {
          const [meta] = await producer.send({ topic, acks: -1, messages: [out] });
          const at = Number(meta.baseOffset);
          if (i === outs.length - 1) appendMapping(runs, Number(m.offset), at);
          targetNext = at + 1;
        }
      }
      const map = {
        migration: spec.name,
        topic,
        partition,
        runs,
        checkpoint: {
          sourceStart: Number(b.low),
          sourceNext: Number(b.high),
          targetNext,
          recordsCopied: index,
          bytesCopied: 0,
          updatedAt: new Date().toISOString(),
        },
      };
      await producer.send({ topic: OFFSET_STORE_TOPIC, acks: -1, messages: offsetMapRecords(map, 0).map((r) => ({ key: r.key, value: r.value })) });
    }
  } finally {
    await producer.disconnect();
    await reader.close();
  }
}

test('verification names every tampering precisely', async () => {
  const suffix = uniqueSuffix();
  const topic = `ver-bad-${suffix}`;
  const group = `ver-bad-g-${suffix}`;
  const spec = stackSpec({ name: `ver-bad-${suffix}` });
  await createTopicBothSides(topic, 4);
  const rows = (p: number) =>
    [0, 1, 2, 3].map((i) => ({ partition: p, key: `p${p}-${i}`, value: `v${i}`, headers: { h: Buffer.from(`h${i}`) }, timestamp: String(1700000000000 + i) }));
  await produce(source, topic, [0, 1, 2, 3].flatMap(rows));
  await commitGroupOffsets(source, group, [{ topic, partition: 1, offset: 2 }]);

  await testCopy(spec, topic, 4, (partition, index, m) => {
    // partition 0: an extra record appears before the third record
    if (partition === 0 && index === 2) return [{ ...m, key: 'intruder', value: 'extra' }, m];
    // partition 1: a header value changed
    if (partition === 1 && index === 1) return [{ ...m, headers: { h: Buffer.from('tampered') } }];
    // partition 2: a timestamp changed
    if (partition === 2 && index === 3) return [{ ...m, timestamp: String(Number(m.timestamp) + 1) }];
    return [m];
  });
  // partition 3: the first copy disappears from the target (as if retention had deleted it there)
  await targetAdmin.fetchTopicOffsets(topic);
  await targetAdmin.deleteTopicRecords({ topic, partitions: [{ partition: 3, offset: '1' }] });
  // the group: committed one record too far on the target
  await commitGroupOffsets(target, group, [{ topic, partition: 1, offset: 3 }]);

  // a topic of the batch that was never created on the target
  const uncopied = `ver-uncopied-${suffix}`;
  await createTopicsReady(sourceAdmin, [{ topic: uncopied, numPartitions: 1, replicationFactor: 1 }]);
  createdSource.push(uncopied);

  const report = await verifyBatch({
    spec,
    migration: spec.name,
    batch: { number: 2, name: 'bad', topics: [{ name: topic }, { name: uncopied }], groups: [group] },
  });
  expect(report.ok).toBe(false);
  const byPartition = (p: number) => report.partitions.find((x) => x.partition === p)!;

  expect(byPartition(0)).toMatchObject({ contentEqual: false, mapConsistent: false });
  expect(byPartition(0).mismatches).toEqual([
    `${topic}:0: record count differs: source 4 in [0, 4), target 5 in [0, 5)`,
    `${topic}:0: target offset 2 holds a record no source record maps to (extra record on the target)`,
  ]);
  expect(byPartition(1).mismatches).toEqual([
    expect.stringMatching(new RegExp(`^${topic}:1: digest differs over 4 records`)),
    `${topic}:1: source offset 1 -> target offset 1: record differs (header value of h)`,
  ]);
  expect(byPartition(2).mismatches).toEqual([
    expect.stringMatching(new RegExp(`^${topic}:2: digest differs over 4 records`)),
    `${topic}:2: source offset 3 -> target offset 3: record differs (timestamp 1700000000003 vs 1700000000004)`,
  ]);
  expect(byPartition(3).mismatches).toEqual([
    `${topic}:3: record count differs: source 4 in [0, 4), target 3 in [1, 4)`,
    `${topic}:3: source offset 0 is missing on the target: expected at target offset 0, next target record is at 1`,
  ]);
  expect(report.groups).toEqual([
    expect.objectContaining({
      group,
      ok: false,
      partitions: expect.arrayContaining([expect.objectContaining({ partition: 1, sourceOffset: 2, targetOffset: 3, expectedTargetOffset: 2, ok: false })]),
    }),
  ]);
  expect(report.mismatches).toContain(`group ${group} ${topic}:1: target offset 3 but source offset 2 translates to 2`);
  expect(report.mismatches).toContain(`${uncopied}: topic does not exist on the target`);
  expect(report.mismatches).toHaveLength(10);
});
