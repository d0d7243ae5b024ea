/**
 * Inventory at scale (opt-in: KM_BENCH=1). Target: 1,000 topics / 10,000 partitions / 500 groups in under
 * 30 s. KM_BENCH_TOPICS / KM_BENCH_GROUPS scale it down.
 *
 * DANGER on the shared local stack: each partition holds open files on the broker, and deleted partitions
 * keep them for file.delete.delay.ms (60 s). At full scale run it only against a dedicated source whose
 * `ulimit -n` is well above 3 x the partition count, and never twice within a minute: the local source
 * (ulimit 20000) dies with "Too many open files" otherwise.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { collectInventory } from '../src/activities/inventory';
import { mapLimit } from '../src/inventory/concurrency';
import { sourceAdminKafka, stackSpec, uniqueSuffix } from './helpers/stack';

const enabled = process.env.KM_BENCH === '1';
const TOPICS = Number(process.env.KM_BENCH_TOPICS ?? 1000);
const GROUPS = Number(process.env.KM_BENCH_GROUPS ?? 500);
const PARTITIONS = 10;
const s = uniqueSuffix();
const topics = Array.from({ length: TOPICS }, (_, i) => `bench${s}.t${i}`);
const groups = Array.from({ length: GROUPS }, (_, i) => `bench${s}-g${i}`);

let kafka: Kafka;
let admin: Admin;

(enabled ? describe : describe.skip)('inventory at scale', () => {
  beforeAll(async () => {
    kafka = sourceAdminKafka();
    admin = kafka.admin();
    await admin.connect();
    for (let i = 0; i < topics.length; i += 200) {
      await admin.createTopics({ waitForLeaders: false, topics: topics.slice(i, i + 200).map((topic) => ({ topic, numPartitions: PARTITIONS })) });
    }
    // wait until every partition has a leader that serves it
    for (let attempt = 0; ; attempt++) {
      const listed = new Set(await admin.listTopics());
      const ok = topics.every((t) => listed.has(t)) && (await admin.fetchTopicOffsets(topics[topics.length - 1]).then(() => true, () => false));
      if (ok || attempt > 120) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const producer = kafka.producer();
    await producer.connect();
    await mapLimit(topics, 8, (topic) =>
      producer.send({ topic, messages: Array.from({ length: PARTITIONS * 3 }, (_, i) => ({ partition: i % PARTITIONS, key: `k${i}`, value: 'x'.repeat(100) })) }),
    );
    await producer.disconnect();
    await mapLimit(groups, 4, async (groupId, i) => {
      const c = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
      await c.connect();
      await c.subscribe({ topics: [topics[i % topics.length]] });
      await c.run({ autoCommit: false, eachBatch: async () => undefined });
      await c.commitOffsets([{ topic: topics[i % topics.length], partition: 0, offset: '1' }]);
      await c.disconnect();
    });
  }, 900_000);

  afterAll(async () => {
    await admin?.deleteGroups(groups).catch(() => undefined);
    for (let i = 0; i < topics.length; i += 200) await admin?.deleteTopics({ topics: topics.slice(i, i + 200) }).catch(() => undefined);
    await admin?.disconnect();
  }, 300_000);

  test(`${TOPICS} topics x ${PARTITIONS} partitions and ${GROUPS} groups in under 30 s, summary under 1 MB`, async () => {
    const spec = stackSpec({ name: `bench-${s}`, reports: { dir: mkdtempSync(join(tmpdir(), 'km-bench-')) } });
    const started = Date.now();
    const summary = await collectInventory({ spec });
    const elapsed = Date.now() - started;
    console.log(`inventory of ${summary.totals.topics} topics / ${summary.totals.partitions} partitions / ${summary.totals.groups} groups: ${elapsed} ms, summary ${JSON.stringify(summary).length} bytes, warnings ${summary.warnings.length}`);
    const mine = summary.topics.filter((t) => t.name.startsWith(`bench${s}.`));
    expect(mine).toHaveLength(TOPICS);
    expect(mine.every((t) => t.records === PARTITIONS * 3 && t.lastRecordAt !== null && t.bytes > 0)).toBe(true);
    expect(summary.groups.filter((g) => g.groupId.startsWith(`bench${s}-`))).toHaveLength(GROUPS);
    expect(summary.warnings.filter((w) => w.includes(`bench${s}`))).toEqual([]);
    expect(elapsed).toBeLessThan(30_000);
    expect(JSON.stringify(summary).length).toBeLessThan(1_000_000);
  });
});
