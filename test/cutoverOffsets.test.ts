/**
 * translateAndCommitOffsets at batch scale against the real stack: 20 groups over 10 topics x 4 partitions,
 * copied by the real copy engine (log-start raised on one partition so offsets differ). Checks the exact
 * report and target offsets, the time the write pause allows, and the guarantees the concurrent version
 * must keep: refusal before any commit, nothing committed when one partition is not copied yet, a consumer
 * joining during the commit turns into a non-retryable GroupActiveOnTarget. A consumer that starts on the
 * target after its offsets were committed (an attempt that failed later) does not refuse the retry.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { Admin, Consumer } from 'kafkajs';
import { translateAndCommitOffsets, translateOffsetsAndReport } from '../src/activities/cutover';
import { copyPartitionsUntil } from '../src/copy/copyPartitions';
import { loadOffsetStore } from '../src/copy/loadOffsetMap';
import { translateOffset } from '../src/copy/translateOffset';
import type { MigrationSpec } from '../src/config/spec';
import { commitGroupOffsets, type GroupOffset } from '../src/cutover/commitGroupOffsets';
import { offsetMapLoader } from '../src/cutover/offsetMaps';
import { translateGroupOffsets } from '../src/cutover/translateGroupOffsets';
import { createKafka } from '../src/kafka/clients';
import { createTopicsReady } from '../src/kafka/topicsReady';
import type { PartitionOffsetTranslation } from '../src/types/cutover';
import { sourceAdminKafka, stackSpec, targetKafka, uniqueSuffix } from './helpers/stack';

const TOPICS = 10;
const PARTITIONS = 4;
const RECORDS_PER_PARTITION = 20;
const RAISED_LOG_START = 5; // on topic 0, partition 0

const source = sourceAdminKafka();
const target = targetKafka();
const suffix = uniqueSuffix();
const topics = Array.from({ length: TOPICS }, (_, t) => `co-${suffix}-t${t}`);
const groupsCreated: string[] = [];
let spec: MigrationSpec;
let sourceAdmin: Admin;
let targetAdmin: Admin;

const key = (topic: string, partition: number) => `${topic}:${partition}`;
const allPartitions = topics.flatMap((topic) => Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })));

/** Commits on the source and remembers the group for clean-up. */
async function commitOnSource(group: string, offsets: GroupOffset[]): Promise<void> {
  groupsCreated.push(group);
  await commitGroupOffsets(source, group, offsets);
}

/** "topic:partition" -> committed offset (-1 when none) of a group on all test topics. */
async function committedOn(admin: Admin, group: string): Promise<Record<string, number>> {
  const fetched = await admin.fetchOffsets({ groupId: group, topics });
  return Object.fromEntries(fetched.flatMap((t) => t.partitions.map((p) => [key(t.topic, p.partition), Number(p.offset)])));
}

const sourceEnds = async (topic: string) => (await sourceAdmin.fetchTopicOffsets(topic)).map((o) => [key(topic, o.partition), Number(o.high)] as const);

const nothingCommitted = () => Object.fromEntries(allPartitions.map((p) => [key(p.topic, p.partition), -1]));

beforeAll(async () => {
  spec = stackSpec({ name: `co-${suffix}`, reports: { dir: mkdtempSync(join(tmpdir(), 'km-co-')) } });
  sourceAdmin = source.admin();
  targetAdmin = target.admin();
  await Promise.all([sourceAdmin.connect(), targetAdmin.connect()]);
  const specs = topics.map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 }));
  await Promise.all([createTopicsReady(sourceAdmin, specs), createTopicsReady(targetAdmin, specs)]);
  // Idempotent: a retried send must not duplicate records (the ends are read back anyway).
  const producer = source.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.sendBatch({
    acks: -1,
    topicMessages: topics.map((topic) => ({
      topic,
      messages: Array.from({ length: PARTITIONS * RECORDS_PER_PARTITION }, (_, i) => ({
        partition: i % PARTITIONS,
        key: `k${i}`,
        value: `${topic} record ${i}`,
      })),
    })),
  });
  await producer.disconnect();
  // The copy starts at the log start: target offset = source offset - RAISED_LOG_START on this partition.
  await sourceAdmin.fetchTopicOffsets(topics[0]);
  await sourceAdmin.deleteTopicRecords({ topic: topics[0], partitions: [{ partition: 0, offset: String(RAISED_LOG_START) }] });
  const stopAt = Object.fromEntries((await Promise.all(topics.map((t) => sourceEnds(t)))).flat());
  await copyPartitionsUntil({ source: spec.source, target: spec.target, migration: spec.name, partitions: allPartitions, stopAt });
});

afterAll(async () => {
  await sourceAdmin.deleteGroups(groupsCreated).catch(() => undefined);
  await targetAdmin.deleteGroups(groupsCreated).catch(() => undefined);
  await sourceAdmin.deleteTopics({ topics }).catch(() => undefined);
  await targetAdmin.deleteTopics({ topics }).catch(() => undefined);
  await Promise.all([sourceAdmin.disconnect(), targetAdmin.disconnect()]);
});

test('20 groups over 40 partitions: exact offsets in sorted order, and a retry changes nothing', async () => {
  const groups = Array.from({ length: 20 }, (_, g) => `co-${suffix}-g${String(g).padStart(2, '0')}`);
  /** Group g reads topics g % 10 and (g + 3) % 10, at offsets spread over 0..20 (20 = the end). */
  const sourceCommits = new Map<string, Map<string, number>>();
  for (const [g, group] of groups.entries()) {
    if (g === 19) continue; // a group without any committed offset
    const offsets = [g % TOPICS, (g + 3) % TOPICS].flatMap((t) =>
      Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: topics[t], partition, offset: (g + 3 * partition) % (RECORDS_PER_PARTITION + 1) })),
    );
    sourceCommits.set(group, new Map(offsets.map((o) => [key(o.topic, o.partition), o.offset])));
  }
  // Below the copied range on the raised partition (group 0 reads topic 0), and well inside it (group 10).
  sourceCommits.get(groups[0])!.set(key(topics[0], 0), 2);
  sourceCommits.get(groups[10])!.set(key(topics[0], 0), 12);
  await Promise.all(
    [...sourceCommits].map(([group, offsets]) =>
      commitOnSource(
        group,
        [...offsets].map(([k, offset]) => ({ topic: k.slice(0, k.lastIndexOf(':')), partition: Number(k.slice(k.lastIndexOf(':') + 1)), offset })),
      ),
    ),
  );
  groupsCreated.push(groups[19]);
  // A consumer of group 1 once ran on the target where the source has no offset: reported, not touched.
  const stale = { topic: topics[5], partition: 3, offset: 7 };
  await commitGroupOffsets(target, groups[1], [stale]);

  // The expectation, independently of the implementation: every partition of every topic, sorted.
  const store = await loadOffsetStore(spec.target, spec.name);
  const expectedPartitions = (group: string): PartitionOffsetTranslation[] =>
    allPartitions.map(({ topic, partition }) => {
      const sourceOffset = sourceCommits.get(group)?.get(key(topic, partition));
      if (sourceOffset === undefined) {
        const warning = group === groups[1] && topic === stale.topic && partition === stale.partition;
        return {
          topic,
          partition,
          sourceOffset: null,
          targetOffset: null,
          identical: true,
          note: warning ? expect.stringContaining('WARNING: the target already has offset 7 committed') : expect.not.stringContaining('WARNING'),
        };
      }
      if (topic === topics[0] && partition === 0 && sourceOffset < RAISED_LOG_START) {
        return {
          topic,
          partition,
          sourceOffset,
          targetOffset: null,
          identical: false,
          note: expect.stringContaining(`below the first copied source offset ${RAISED_LOG_START}`),
        };
      }
      const targetOffset = translateOffset(store.get(topic, partition), sourceOffset);
      return { topic, partition, sourceOffset, targetOffset, identical: sourceOffset === targetOffset };
    });
  expect(translateOffset(store.get(topics[0], 0), 12)).toBe(12 - RAISED_LOG_START);

  const started = Date.now();
  const report = await translateAndCommitOffsets({ spec, migration: spec.name, groups: [...groups].reverse(), topics: [...topics].reverse() });
  const elapsed = Date.now() - started;
  // Speed is the benchmark's business (npm run bench: the cutover write pause); printed here for reference.
  console.log(`translateAndCommitOffsets: ${groups.length} groups over ${TOPICS} topics x ${PARTITIONS} partitions in ${elapsed} ms`);

  expect(report.topics).toEqual(topics);
  expect(report.groups.map((g) => g.group)).toEqual(groups);
  for (const g of report.groups) {
    // Listed: every partition with a committed offset on the source, or a leftover one on the target (the stale
    // offset of group 1); every other partition of every topic is counted.
    const all = expectedPartitions(g.group);
    const expected = all.filter((p) => p.sourceOffset !== null || (g.group === groups[1] && p.topic === stale.topic && p.partition === stale.partition));
    expect(g.partitions).toEqual(expected);
    expect(g.uncommitted).toBe(all.length - expected.length);
    expect(g.committed).toBe(expected.filter((p) => p.targetOffset !== null).length);
    expect(g.withoutOffset).toEqual(expected.filter((p) => p.targetOffset === null).map((p) => key(p.topic, p.partition)));
    expect(g).toMatchObject({ sourceState: sourceCommits.has(g.group) ? 'Empty' : 'Dead', targetState: g.group === groups[1] ? 'Empty' : 'Dead' });
  }
  expect(report.groups[10].partitions[0]).toEqual({ topic: topics[0], partition: 0, sourceOffset: 12, targetOffset: 12 - RAISED_LOG_START, identical: false });
  expect(report.notes).toEqual([
    expect.stringContaining(
      `${report.groups.reduce((n, g) => n + g.withoutOffset.length + g.uncommitted, 0)} group partition(s) have no translatable committed offset`,
    ),
  ]);

  const onTarget = async () => Object.fromEntries(await Promise.all(groups.map(async (group) => [group, await committedOn(targetAdmin, group)] as const)));
  const expectedOnTarget = Object.fromEntries(
    groups.map((group) => [
      group,
      Object.fromEntries(
        expectedPartitions(group).map((p) => [
          key(p.topic, p.partition),
          p.targetOffset ?? (group === groups[1] && p.topic === stale.topic && p.partition === stale.partition ? stale.offset : -1),
        ]),
      ),
    ]),
  );
  expect(await onTarget()).toEqual(expectedOnTarget);

  // Idempotent: a retry translates and commits the same offsets.
  const again = await translateAndCommitOffsets({ spec, migration: spec.name, groups, topics });
  expect(again.groups.map((g) => g.partitions)).toEqual(report.groups.map((g) => g.partitions));
  expect(await onTarget()).toEqual(expectedOnTarget);
});

test('one group with a member on the target refuses the whole batch before any group is committed', async () => {
  const groups = Array.from({ length: 8 }, (_, g) => `co-${suffix}-busy${g}`);
  for (const group of groups) await commitOnSource(group, [{ topic: topics[1], partition: 0, offset: 3 }]);
  const consumer: Consumer = target.consumer({ groupId: groups[7], allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topics[1]], fromBeginning: true });
    const joined = new Promise<void>((r) => consumer.on(consumer.events.GROUP_JOIN, () => r()));
    await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
    await joined;
    const refused = await translateAndCommitOffsets({ spec, migration: spec.name, groups, topics }).catch((e) => e);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ type: 'GroupActiveOnTarget', nonRetryable: true });
    expect(refused.message).toContain(`group "${groups[7]}" has 1 member(s) on the target`);
    expect(refused.details).toEqual([
      { groups: [{ group: groups[7], state: 'Stable', members: [{ memberId: expect.any(String), clientId: 'km-test', host: expect.any(String) }] }] },
    ]);
  } finally {
    await consumer.disconnect();
  }
  for (const group of groups.slice(0, 7)) expect(await committedOn(targetAdmin, group)).toEqual(nothingCommitted());
});

test('a consumer joining on the target after the check makes the commit fail as non-retryable GroupActiveOnTarget', async () => {
  const group = `co-${suffix}-race`;
  await commitOnSource(group, [{ topic: topics[2], partition: 1, offset: 4 }]);
  const consumer: Consumer = target.consumer({ groupId: group, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  const sourceSasl = createKafka(spec.source, 'source').admin();
  const targetAdminSeen = createKafka(spec.target, 'target').admin();
  await Promise.all([sourceSasl.connect(), targetAdminSeen.connect()]);
  try {
    await consumer.subscribe({ topics: [topics[2]], fromBeginning: true });
    const joined = new Promise<void>((r) => consumer.on(consumer.events.GROUP_JOIN, () => r()));
    await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
    await joined;
    // The state check sees the group as it was a moment before the consumer joined: no member.
    const beforeTheJoin = new Proxy(targetAdminSeen, {
      get: (admin, prop) =>
        prop === 'describeGroups'
          ? async (ids: string[]) => ({
              groups: ids.map((groupId) => ({ groupId, state: 'Empty', members: [], protocol: '', protocolType: '', errorCode: 0 })),
            })
          : Reflect.get(admin, prop),
    });
    const failed = await translateGroupOffsets({
      migration: spec.name,
      groups: [group],
      topics,
      source: sourceSasl,
      target: beforeTheJoin,
      sourceKafka: createKafka(spec.source, 'source', { clientIdSuffix: 'offsets' }),
      targetKafka: createKafka(spec.target, 'target', { clientIdSuffix: 'offsets' }),
      loadMap: offsetMapLoader(spec.target, spec.name),
    }).catch((e) => e);
    expect(failed).toBeInstanceOf(ApplicationFailure);
    expect(failed).toMatchObject({ type: 'GroupActiveOnTarget', nonRetryable: true });
    expect(failed.message).toMatch(
      new RegExp(
        `group "${group}" is Empty on the target and a consumer joined it while its offsets were being committed \\((UNKNOWN_MEMBER_ID|ILLEGAL_GENERATION|REBALANCE_IN_PROGRESS)\\)`,
      ),
    );
  } finally {
    await Promise.all([consumer.disconnect(), sourceSasl.disconnect(), targetAdminSeen.disconnect()]);
  }
});

/** A consumer of the group running on `kafka` (joined, committing nothing unless told to); disconnect it. */
async function joinedConsumer(kafka: typeof target, group: string, topic: string): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId: group, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: false });
  const joined = new Promise<void>((r) => consumer.on(consumer.events.GROUP_JOIN, () => r()));
  await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
  await joined;
  return consumer;
}

test('a consumer that starts on the target after the offsets were committed does not refuse the retry: the group counts as alreadyCommitted, nothing is written', async () => {
  const early = `co-${suffix}-early`;
  await commitOnSource(early, [{ topic: topics[4], partition: 1, offset: 9 }]);
  const first = await translateOffsetsAndReport({ spec, migration: spec.name, groups: [early], topics, fileStem: 'early-1' });
  expect(first).toMatchObject({ groups: 1, partitionsCommitted: 1, groupsAlreadyCommitted: 0 });
  const consumer = await joinedConsumer(target, early, topics[4]);
  try {
    // The attempt failed after committing (worker lost, report not written...): the retry meets the consumer.
    const retry = await translateAndCommitOffsets({ spec, migration: spec.name, groups: [early], topics });
    expect(retry.groups).toEqual([expect.objectContaining({ group: early, targetState: 'Stable', committed: 1, alreadyCommitted: true })]);
    expect(retry.notes).toEqual(expect.arrayContaining([expect.stringContaining(`already held exactly the translated offsets on the target`)]));
    const summary = await translateOffsetsAndReport({ spec, migration: spec.name, groups: [early], topics, fileStem: 'early-2' });
    expect(summary).toMatchObject({ groups: 1, partitionsCommitted: 1, groupsAlreadyCommitted: 1 });
  } finally {
    await consumer.disconnect();
  }
  expect((await committedOn(targetAdmin, early))[key(topics[4], 1)]).toBe(9);
});

test('a group active on the target with other offsets there refuses GroupActiveOnTarget naming it and its members; nothing is committed for the batch', async () => {
  const moved = `co-${suffix}-moved`;
  const fresh = `co-${suffix}-fresh`;
  await commitOnSource(moved, [{ topic: topics[6], partition: 0, offset: 9 }]);
  await commitOnSource(fresh, [{ topic: topics[6], partition: 1, offset: 4 }]);
  // A consumer ran on the target and committed a position of its own.
  await commitGroupOffsets(target, moved, [{ topic: topics[6], partition: 0, offset: 15 }]);
  const consumer = await joinedConsumer(target, moved, topics[6]);
  try {
    const refused = await translateAndCommitOffsets({ spec, migration: spec.name, groups: [fresh, moved], topics }).catch((e) => e);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ type: 'GroupActiveOnTarget', nonRetryable: true });
    expect(refused.message).toMatch(
      new RegExp(`^group "${moved}" has 1 member\\(s\\) on the target \\(Stable: km-test@.*\\) and its committed offsets there differ from the translation`),
    );
    expect(refused.details).toEqual([
      {
        groups: [{ group: moved, state: 'Stable', members: [{ memberId: expect.stringMatching(/^km-test-/), clientId: 'km-test', host: expect.any(String) }] }],
      },
    ]);
  } finally {
    await consumer.disconnect();
  }
  expect((await committedOn(targetAdmin, fresh))[key(topics[6], 1)]).toBe(-1);
  expect((await committedOn(targetAdmin, moved))[key(topics[6], 0)]).toBe(15);
});

test('a group still consuming on the source refuses GroupActive with the same details shape', async () => {
  const busy = `co-${suffix}-src-busy`;
  groupsCreated.push(busy);
  const consumer = await joinedConsumer(source, busy, topics[7]);
  try {
    const refused = await translateAndCommitOffsets({ spec, migration: spec.name, groups: [busy], topics }).catch((e) => e);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ type: 'GroupActive', nonRetryable: true });
    expect(refused.message).toContain(`group "${busy}" is Stable on the source with 1 member(s) (km-test-setup@`);
    expect(refused.details).toEqual([
      {
        groups: [
          {
            group: busy,
            state: 'Stable',
            members: [{ memberId: expect.stringMatching(/^km-test-setup-/), clientId: 'km-test-setup', host: expect.any(String) }],
          },
        ],
      },
    ]);
  } finally {
    await consumer.disconnect();
  }
});

test('an offset beyond the copy refuses (retryable) before any group is committed', async () => {
  const early = `co-${suffix}-a-early`;
  const ahead = `co-${suffix}-z-ahead`;
  await commitOnSource(early, [{ topic: topics[3], partition: 2, offset: 5 }]);
  // The source moved on after the drain: the group's offset points past what was copied.
  const producer = source.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({ topic: topics[9], acks: -1, messages: [{ partition: 3, value: 'after the drain' }] });
  await producer.disconnect();
  const end = Object.fromEntries(await sourceEnds(topics[9]))[key(topics[9], 3)];
  await commitOnSource(ahead, [{ topic: topics[9], partition: 3, offset: end }]);

  const refused = await translateAndCommitOffsets({ spec, migration: spec.name, groups: [early, ahead], topics }).catch((e) => e);
  expect(refused).toBeInstanceOf(ApplicationFailure);
  expect(refused).toMatchObject({ type: 'OffsetsNotCopiedYet', nonRetryable: false });
  expect(refused.message).toContain(
    `group "${ahead}": cannot translate offset ${end} of ${topics[9]}:3: only source offsets below ${end - 1} are copied so far`,
  );
  // The group sorted first was translatable, but nothing is committed while any group is not.
  expect(await committedOn(targetAdmin, early)).toEqual(nothingCommitted());
});
