/**
 * collectInventory against the real source cluster, read as `migrator` over SASL. Set-up (super-user,
 * PLAINTEXT) creates topics in two business systems plus an unassigned one, an inactive topic (its last
 * record is 30 days old, nobody consumes it), a group with lag, a group spanning both systems, a live
 * consumer, an empty group, and a group whose only topic is deleted.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { collectInventory } from '../src/activities/inventory';
import type { Inventory, InventorySummary } from '../src/types';
import { MIGRATOR_PASSWORD_FILE, sourceAdminKafka, stackSpec, uniqueSuffix } from './helpers/stack';

const s = uniqueSuffix();
const ord = `ord${s}`;
const pay = `pay${s}`;
const T = {
  created: `${ord}.created`,
  shipped: `${ord}.shipped`,
  payIn: `${pay}.in`,
  legacy: `${pay}-legacy`,
  misc: `misc${s}.log`,
  gone: `gone${s}.tmp`,
};
const G = { lag: `${ord}-lag`, span: `span${s}`, live: `${pay}-live`, empty: `misc${s}-empty`, gone: `${ord}-gone` };
const DAY = 86_400_000;
const oldTimestamp = Date.now() - 30 * DAY;

let kafka: Kafka;
let admin: Admin;
let live: Consumer;
let summary: InventorySummary;
/** When the records of T.created were written (their CreateTime lies in between). */
const seeded = { from: 0, to: 0 };
let inventory: Inventory;
const reportsDir = mkdtempSync(join(tmpdir(), 'km-inv-'));
const spec = stackSpec({
  name: `inv-${s}`,
  reports: { dir: reportsDir },
  thresholds: { inactiveDays: 7 },
  businessSystems: [
    { name: ord, priority: 'core', topics: { prefix: [`${ord}.`] }, groups: { prefix: [`${ord}-`] } },
    { name: pay, topics: { regex: [`${pay}\\.(in|out)`], names: [T.legacy] } },
  ],
});

/** Every record: key "k" (1 B), a 10-byte value, header h=v (2 B): 13 payload bytes. */
const record = (partition: number, timestamp?: number) => ({
  key: 'k',
  value: '0123456789',
  headers: { h: 'v' },
  partition,
  ...(timestamp ? { timestamp: String(timestamp) } : {}),
});

async function untilGroup(groupId: string, ok: (state: string) => boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const { groups } = await admin.describeGroups([groupId]);
    if (ok(groups[0]?.state ?? 'Dead')) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`group ${groupId} never reached the expected state`);
}

/** Commits offsets for a group the way an application does (admin.setOffsets takes seconds per call). */
async function commitAsMember(groupId: string, offsets: { topic: string; partition: number; offset: number }[]): Promise<void> {
  const c = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await c.connect();
  await c.subscribe({ topics: [...new Set(offsets.map((o) => o.topic))] });
  await c.run({ autoCommit: false, eachBatch: async () => undefined });
  await c.commitOffsets(offsets.map((o) => ({ ...o, offset: String(o.offset) })));
  await c.disconnect(); // leaves the group Empty, with its offsets
}

beforeAll(async () => {
  kafka = sourceAdminKafka();
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: T.created, numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '86400000' }] },
      { topic: T.shipped, numPartitions: 2 },
      { topic: T.payIn, numPartitions: 1 },
      // retention -1: the 30-day-old record must not be deleted by time retention during the test
      { topic: T.legacy, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] },
      { topic: T.misc, numPartitions: 1 },
      { topic: T.gone, numPartitions: 1 },
    ],
  });
  const producer = kafka.producer();
  await producer.connect();
  seeded.from = Date.now();
  await producer.send({ topic: T.created, messages: [record(0), record(0), record(0), record(0), record(1), record(1)] });
  seeded.to = Date.now();
  await producer.send({ topic: T.shipped, messages: [record(0)] });
  await producer.send({ topic: T.payIn, messages: [record(0), record(0), record(0)] });
  await producer.send({ topic: T.legacy, messages: [record(0, oldTimestamp)] });
  await producer.send({ topic: T.misc, messages: [record(0)] });
  await producer.send({ topic: T.gone, messages: [record(0)] });
  await producer.disconnect();

  await commitAsMember(G.lag, [
    { topic: T.created, partition: 0, offset: 1 },
    { topic: T.created, partition: 1, offset: 2 },
  ]);
  await commitAsMember(G.span, [
    { topic: T.shipped, partition: 0, offset: 0 },
    { topic: T.payIn, partition: 0, offset: 3 },
  ]);
  // Kafka (3.x) drops the offsets of a deleted topic, and with them a group left with none.
  await commitAsMember(G.gone, [{ topic: T.gone, partition: 0, offset: 1 }]);
  await admin.deleteTopics({ topics: [T.gone] });
  await untilGroup(G.gone, (state) => state === 'Dead');

  live = kafka.consumer({ groupId: G.live, maxWaitTimeInMs: 100 });
  await live.connect();
  await live.subscribe({ topics: [T.payIn], fromBeginning: true });
  let consumed = 0;
  await live.run({ eachMessage: async () => void consumed++ });
  const empty = kafka.consumer({ groupId: G.empty, maxWaitTimeInMs: 100 });
  await empty.connect();
  await empty.subscribe({ topics: [T.misc] });
  await empty.run({ autoCommit: false, eachMessage: async () => undefined });
  await untilGroup(G.empty, (state) => state === 'Stable');
  await empty.disconnect(); // joined and left without committing: Empty, no offsets
  await untilGroup(G.live, (state) => state === 'Stable');
  for (let i = 0; consumed < 3 && i < 100; i++) await new Promise((r) => setTimeout(r, 100));
  await live.commitOffsets([{ topic: T.payIn, partition: 0, offset: '3' }]);

  summary = await collectInventory({ spec });
  inventory = JSON.parse(readFileSync(summary.reportFiles.jsonPath, 'utf8')) as Inventory;
});

afterAll(async () => {
  await live?.disconnect().catch(() => undefined);
  await admin?.deleteGroups([G.lag, G.span, G.live, G.empty]).catch(() => undefined);
  await admin?.deleteTopics({ topics: [T.created, T.shipped, T.payIn, T.legacy, T.misc] }).catch(() => undefined);
  await admin?.disconnect();
});

const topic = (name: string) => inventory.topics.find((t) => t.name === name)!;
const group = (id: string) => inventory.groups.find((g) => g.groupId === id)!;

test('topics: partitions, replication, offsets, records, estimated bytes and the last record time', () => {
  const created = topic(T.created);
  expect(created).toMatchObject({
    internal: false,
    partitions: 3,
    replicationFactor: 1,
    records: 6,
    bytes: 6 * 13,
    avgRecordBytes: 13,
    system: ord,
    timestampType: 'CreateTime',
    cleanupPolicy: 'delete',
    flags: [],
  });
  expect(created.partitionDetails.map((p) => [p.partition, p.earliestOffset, p.latestOffset, p.records, p.sampledRecords, p.sampledBytes])).toEqual([
    [0, 0, 4, 4, 4, 52],
    [1, 0, 2, 2, 2, 26],
    [2, 0, 0, 0, 0, 0],
  ]);
  expect(created.partitionDetails[0]).toMatchObject({ leader: 1, replicas: [1], isr: [1] });
  expect(created.partitionDetails[2].lastRecordTimestamp).toBeNull();
  // The time of the records just written (not of an older record, not the time of the inventory).
  expect(created.lastRecordTimestamp).toBeGreaterThanOrEqual(seeded.from);
  expect(created.lastRecordTimestamp).toBeLessThanOrEqual(seeded.to);
  expect(created.lastRecordAt).toBe(new Date(created.lastRecordTimestamp!).toISOString());
  expect(created.configs).toContainEqual({ name: 'retention.ms', value: '86400000', source: 'topic', readOnly: false, sensitive: false });
  expect(created.configs.every((c) => c.source !== 'default')).toBe(true);
  expect(created.groups).toEqual([G.lag]);

  expect(topic(T.shipped)).toMatchObject({ partitions: 2, records: 1, bytes: 13, system: ord, groups: [G.span], flags: [] });
  expect(topic(T.payIn)).toMatchObject({ partitions: 1, records: 3, system: pay, groups: [G.live, G.span], flags: [] });
  expect(topic(T.misc)).toMatchObject({ records: 1, system: null, groups: [], flags: [] });
  expect(inventory.topics.find((t) => t.name === T.gone)).toBeUndefined();
});

test('a topic whose last record is 30 days old and that nobody consumes is inactive', () => {
  const legacy = topic(T.legacy);
  expect(legacy).toMatchObject({ system: pay, records: 1, lastRecordTimestamp: oldTimestamp, flags: ['inactive'] });
  expect(legacy.configs).toContainEqual(expect.objectContaining({ name: 'retention.ms', value: '-1', source: 'topic' }));
  expect(legacy.flagReasons.inactive).toMatch(/^last record written .* \(30\.0 days ago, threshold 7 days\) and no group consumes it$/);
});

test('internal topics are marked internal and belong to no system', () => {
  const offsets = topic('__consumer_offsets');
  expect(offsets).toMatchObject({ internal: true, system: null, flags: [] });
  expect(inventory.unassigned.topics).not.toContain('__consumer_offsets');
});

test('groups: state, members, topics, committed offsets and lag; systems from the topics they consume', () => {
  expect(group(G.lag)).toMatchObject({
    state: 'Empty',
    members: [],
    topics: [T.created],
    missingTopics: [],
    totalLag: 3,
    systems: [ord],
    flags: [],
    offsets: [
      { topic: T.created, partition: 0, committedOffset: 1, latestOffset: 4, lag: 3 },
      { topic: T.created, partition: 1, committedOffset: 2, latestOffset: 2, lag: 0 },
    ],
  });
  expect(group(G.span)).toMatchObject({ topics: [T.shipped, T.payIn], systems: [ord, pay], totalLag: 1, flags: [] });

  const liveGroup = group(G.live);
  expect(liveGroup).toMatchObject({
    state: 'Stable',
    protocolType: 'consumer',
    protocol: 'RoundRobinAssigner',
    topics: [T.payIn],
    systems: [pay],
    totalLag: 0,
    flags: [],
  });
  expect(liveGroup.members).toEqual([
    expect.objectContaining({ clientId: 'km-test-setup', host: '127.0.0.1', subscription: [T.payIn], assignment: [{ topic: T.payIn, partitions: [0] }] }),
  ]);
  expect(liveGroup.offsets).toEqual([{ topic: T.payIn, partition: 0, committedOffset: 3, latestOffset: 3, lag: 0 }]);
});

test('an empty group without offsets is unclaimed; a group whose only topic was deleted is gone', () => {
  expect(group(G.empty)).toMatchObject({
    state: 'Empty',
    members: [],
    offsets: [],
    systems: [],
    flags: ['unclaimed'],
    flagReasons: { unclaimed: 'Empty with no committed offsets' },
  });
  expect(inventory.unassigned.groups).toContain(G.empty);
  expect(inventory.groups.find((g) => g.groupId === G.gone)).toBeUndefined();
  expect(inventory.groups.some((g) => g.groupId.startsWith('kafka-migrate-inventory-'))).toBe(false);
});

test('business systems and unassigned entries', () => {
  expect(inventory.systems).toEqual([
    { name: ord, priority: 'core', topics: [T.created, T.shipped], groups: [G.lag, G.span], partitions: 5, records: 7, bytes: 7 * 13 },
    { name: pay, priority: 'non-core', topics: [T.legacy, T.payIn], groups: [G.live, G.span], partitions: 2, records: 4, bytes: 4 * 13 },
  ]);
  expect(inventory.unassigned.topics).toContain(T.misc);
  expect(inventory.unassigned.groups).not.toContain(G.span);
});

test('the summary is compact and agrees with the full inventory; both reports are written', () => {
  expect(summary.migration).toBe(spec.name);
  expect(summary.warnings).toEqual(inventory.warnings);
  expect(inventory.warnings.filter((w) => w.includes(s))).toEqual([]);
  console.log(`inventory of the shared cluster: ${summary.durationMs} ms`); // speed is the benchmark's job
  expect(summary.topics.find((t) => t.name === T.legacy)).toEqual({
    name: T.legacy,
    internal: false,
    partitions: 1,
    replicationFactor: 1,
    records: 1,
    bytes: 13,
    lastRecordAt: new Date(oldTimestamp).toISOString(),
    system: pay,
    flags: ['inactive'],
    flagReasons: topic(T.legacy).flagReasons,
  });
  expect(summary.groups.find((g) => g.groupId === G.span)).toEqual({
    groupId: G.span,
    state: 'Empty',
    protocolType: 'consumer',
    members: 0,
    topics: [T.shipped, T.payIn],
    missingTopics: [],
    totalLag: 1,
    systems: [ord, pay],
    flags: [],
    flagReasons: {},
  });
  expect(JSON.stringify(summary)).not.toContain('"offsets"');
  expect(summary.totals.inactiveTopics).toBeGreaterThanOrEqual(1);
  expect(summary.totals.unclaimedGroups).toBeGreaterThanOrEqual(1);
  expect(summary.reportFiles.jsonPath).toBe(join(reportsDir, spec.name, 'inventory.json'));
  expect(existsSync(summary.reportFiles.markdownPath)).toBe(true);
  const md = readFileSync(summary.reportFiles.markdownPath, 'utf8');
  expect(md).toContain(`# Inventory of migration ${spec.name}`);
  expect(md).toContain(`- topic \`${T.legacy}\` inactive: last record written`);
  expect(md).toContain(`- group \`${G.empty}\` unclaimed: Empty with no committed offsets`);
  const password = readFileSync(MIGRATOR_PASSWORD_FILE, 'utf8').trim();
  expect(readFileSync(summary.reportFiles.jsonPath, 'utf8')).not.toContain(password);
  expect(md).not.toContain(password);
});
