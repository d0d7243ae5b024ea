/**
 * Verification of a batch of many small topics (20 topics x 4 partitions x 50 records), the shape of a cutover:
 * - the copy engine's copy verifies (every partition, the group's translated offsets), and the time it takes
 *   is printed (it used to be dominated by consumer start-up per topic);
 * - one partition among the 80 copied with one changed value is reported exactly as before: the digest line
 *   and the record line, and nothing about any other partition;
 * - a read that fails stops the whole verification with that error, tagged with its cluster, without hanging.
 */
import type { Admin } from 'kafkajs';
import { translateAndCommitOffsets } from '../src/activities/cutover';
import { verifyBatch } from '../src/activities/verify';
import { copyPartitionsUntil } from '../src/copy/copyPartitions';
import { offsetMapRecords, OFFSET_STORE_TOPIC } from '../src/copy/offsetMapStore';
import { appendMapping } from '../src/copy/offsetRuns';
import { openClusterClients } from '../src/copy/clusterClients';
import type { InternalCluster } from '../src/copy/kafkaInternals';
import { createTopicsOnTarget } from '../src/copy/targetTopics';
import { offsetMapLoader } from '../src/cutover/offsetMaps';
import { verifyTopics } from '../src/verify/verifyTopics';
import { commitGroupOffsets } from '../src/cutover/commitGroupOffsets';
import { createTopicsReady } from '../src/kafka/topicsReady';
import type { OffsetRun } from '../src/types/copy';
import { readPartition } from './helpers/copyFixtures';
import { sourceAdminKafka, stackSpec, targetKafka, uniqueSuffix } from './helpers/stack';

const TOPICS = 20;
const PARTITIONS = 4;
const RECORDS = 50;
const suffix = uniqueSuffix();
const topics = Array.from({ length: TOPICS }, (_, i) => `ver-many-${suffix}-t${String(i).padStart(2, '0')}`);
const group = `ver-many-g-${suffix}`;
const spec = stackSpec({ name: `ver-many-${suffix}` });
/** Copied by the test copier below with one value changed; every other partition by the copy engine. */
const tampered = { topic: topics[13], partition: 2, index: 17 };

const source = sourceAdminKafka();
const target = targetKafka();
let sourceAdmin: Admin;
let targetAdmin: Admin;

/** Copies one partition record by record through kafkajs, changing one value, and stores its offset map. */
async function copyWithOneChangedValue(): Promise<void> {
  const { topic, partition, index } = tampered;
  const records = await readPartition('source', topic, partition);
  const producer = target.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const runs: OffsetRun[] = [];
    const [meta] = await producer.send({
      topic,
      acks: -1,
      messages: records.map((r, i) => ({
        partition,
        key: r.key,
        value: i === index ? Buffer.from('changed on the target') : r.value,
        headers: Object.fromEntries(r.headers.map((h) => [h.key.toString('utf8'), h.value ?? undefined])),
        timestamp: String(r.timestamp),
      })),
    });
    records.forEach((r, i) => appendMapping(runs, r.offset, Number(meta.baseOffset) + i));
    const map = {
      migration: spec.name,
      topic,
      partition,
      runs,
      checkpoint: {
        sourceStart: 0,
        sourceNext: records.length,
        targetNext: records.length,
        recordsCopied: records.length,
        bytesCopied: 0,
        updatedAt: new Date().toISOString(),
      },
    };
    await producer.send({ topic: OFFSET_STORE_TOPIC, acks: -1, messages: offsetMapRecords(map, 0).map((r) => ({ key: r.key, value: r.value })) });
  } finally {
    await producer.disconnect();
  }
}

beforeAll(async () => {
  sourceAdmin = source.admin();
  targetAdmin = target.admin();
  await Promise.all([sourceAdmin.connect(), targetAdmin.connect()]);
  await createTopicsReady(
    sourceAdmin,
    topics.map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })),
  );
  // Idempotent: a retried send must not duplicate records (the counts below are exact).
  const producer = source.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (const topic of topics) {
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: PARTITIONS * RECORDS }, (_, i) => ({
          partition: i % PARTITIONS,
          key: `k${i}`,
          value: `record ${i} of ${topic}`,
          headers: { seq: String(i) },
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
  // The group reads every other topic, committed half-way.
  await commitGroupOffsets(
    source,
    group,
    topics.filter((_, i) => i % 2 === 0).flatMap((topic) => Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: RECORDS / 2 }))),
  );
  await createTopicsOnTarget(spec, spec.name, topics);
  const all = topics.flatMap((topic) => Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })));
  const engineCopied = all.filter((p) => p.topic !== tampered.topic || p.partition !== tampered.partition);
  await copyPartitionsUntil({
    source: spec.source,
    target: spec.target,
    migration: spec.name,
    partitions: engineCopied,
    stopAt: Object.fromEntries(engineCopied.map((p) => [`${p.topic}:${p.partition}`, RECORDS])),
  });
  await copyWithOneChangedValue();
  await translateAndCommitOffsets({ spec, migration: spec.name, groups: [group], topics });
});

afterAll(async () => {
  await sourceAdmin.deleteTopics({ topics }).catch(() => undefined);
  await targetAdmin.deleteTopics({ topics }).catch(() => undefined);
  await sourceAdmin.deleteGroups([group]).catch(() => undefined);
  await targetAdmin.deleteGroups([group]).catch(() => undefined);
  await Promise.all([sourceAdmin.disconnect(), targetAdmin.disconnect()]);
});

test(`a batch of ${TOPICS} topics x ${PARTITIONS} partitions verifies, and one changed record among them is named exactly`, async () => {
  const started = Date.now();
  const report = await verifyBatch({
    spec,
    migration: spec.name,
    batch: { number: 1, name: 'many', topics: topics.map((name) => ({ name })), groups: [group] },
  });
  const elapsed = Date.now() - started;
  console.log(`verifyBatch of ${TOPICS} topics x ${PARTITIONS} partitions x ${RECORDS} records: ${elapsed} ms (report durationMs ${report.durationMs})`);

  const where = `${tampered.topic}:${tampered.partition}`;
  expect(report.mismatches).toEqual([
    expect.stringMatching(new RegExp(`^${where}: digest differs over ${RECORDS} records \\(source [0-9a-f]{16}…, target [0-9a-f]{16}…\\)$`)),
    `${where}: source offset ${tampered.index} -> target offset ${tampered.index}: record differs (value)`,
  ]);
  expect(report.ok).toBe(false);
  // Every partition is in the report, in topic then partition order, each with all its records read.
  expect(report.partitions.map((p) => `${p.topic}:${p.partition}`)).toEqual(topics.flatMap((t) => Array.from({ length: PARTITIONS }, (_, p) => `${t}:${p}`)));
  for (const p of report.partitions) {
    const isTampered = p.topic === tampered.topic && p.partition === tampered.partition;
    expect({ p: `${p.topic}:${p.partition}`, s: p.source.records, t: p.target.records, equal: p.contentEqual, map: p.mapConsistent }).toEqual({
      p: `${p.topic}:${p.partition}`,
      s: RECORDS,
      t: RECORDS,
      equal: !isTampered,
      map: !isTampered,
    });
    if (!isTampered) expect(p.source.digest).toBe(p.target.digest);
  }
  // The group's offsets point at the copies of the records they pointed at on the source.
  expect(report.groups).toEqual([expect.objectContaining({ group, ok: true })]);
  const details = report.groups[0].partitions.map((r) => r.detail);
  expect(details).toHaveLength(TOPICS * PARTITIONS);
  expect(details.filter((d) => d === `points at the copy of source record ${RECORDS / 2} (target ${RECORDS / 2})`)).toHaveLength((TOPICS / 2) * PARTITIONS);
  expect(details.filter((d) => d === 'no committed offset on either side (auto.offset.reset applies)')).toHaveLength((TOPICS / 2) * PARTITIONS);
});

test('a read failure on one side ends the verification with that error, tagged with the cluster', async () => {
  const source = await openClusterClients(spec.source, 'source', 'verify-test');
  const target = await openClusterClients(spec.target, 'target', 'verify-test');
  try {
    // The source's leaders cannot be reached: every source fetch fails (not a retriable error).
    const broken: InternalCluster = Object.create(source.cluster);
    let refusals = 0;
    broken.findBroker = async ({ nodeId }) => {
      refusals++;
      throw new Error(`test: broker ${nodeId} refused`);
    };
    const started = Date.now();
    const failure = await verifyTopics({
      migration: spec.name,
      batch: { topics: topics.map((name) => ({ name })), groups: [group] },
      unsupportedTopicConfigs: [],
      clients: { source: { admin: source.admin, cluster: broken }, target, loadMap: offsetMapLoader(spec.target, spec.name) },
    }).catch((e) => e);
    expect(failure).toBeInstanceOf(Error);
    expect(failure.message).toMatch(/^test: broker \d+ refused$/);
    expect(failure.clusterRole).toBe('source');
    console.log(`verification ended ${Date.now() - started} ms after start, after ${refusals} refused broker look-ups`); // speed is the benchmark's job
    expect(refusals).toBeGreaterThan(0);
  } finally {
    await Promise.all([source.close(), target.close()]);
  }
});
