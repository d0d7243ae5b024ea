/**
 * Realistic demo data on the source: several business systems, active and idle topics, a compacted topic with
 * tombstones, transactional data with aborted transactions, a group with lag and a group whose topic is gone.
 * Topics are created through the super-user PLAINTEXT listener (set-up); data is written as the `app` user.
 * Every name carries a prefix (empty for the demo) so that tests can run the same world side by side.
 */
import type { Admin } from 'kafkajs';
import { createTopicsReady } from '../kafka/topicsReady';
import { demoKafka, DemoConsumer, DemoProducer, type ClusterAccess } from './workload';

export interface DemoTopic {
  name: string;
  partitions: number;
  configs?: Record<string, string>;
}

export interface DemoWorld {
  prefix: string;
  topics: DemoTopic[];
  /** The live applications: which producer writes which topics, which group reads which topics. */
  producers: { name: string; topics: string[] }[];
  consumers: { group: string; topics: string[] }[];
  /** Consumed once, then stopped: its lag grows while the clickstream keeps writing. */
  laggingGroup: { group: string; topics: string[] };
  /** A group whose only topic is deleted. */
  orphanGroup: { group: string; topic: string };
  /** Written 60 days ago, read by nobody: the inventory flags it inactive. */
  idleTopic: string;
  compactedTopic: string;
  transactionalTopic: string;
}

export function demoWorld(prefix = ''): DemoWorld {
  const n = (s: string) => `${prefix}${s}`;
  return {
    prefix,
    topics: [
      { name: n('analytics.clicks'), partitions: 6, configs: { 'retention.ms': '604800000' } },
      { name: n('analytics.sessions-archive'), partitions: 2 },
      { name: n('audit.events'), partitions: 1, configs: { 'max.message.bytes': '2097152' } },
      { name: n('orders.created'), partitions: 4 },
      { name: n('orders.state'), partitions: 2, configs: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0' } },
      { name: n('payments.transactions'), partitions: 3, configs: { 'min.insync.replicas': '1' } },
    ],
    producers: [
      { name: n('clickstream'), topics: [n('analytics.clicks')] },
      { name: n('auditor'), topics: [n('audit.events')] },
      { name: n('order-service'), topics: [n('orders.created')] },
      { name: n('payment-gateway'), topics: [n('payments.transactions')] },
    ],
    consumers: [
      { group: n('audit-archiver'), topics: [n('audit.events')] },
      { group: n('orders-fulfillment'), topics: [n('orders.created'), n('orders.state')] },
      { group: n('payments-ledger'), topics: [n('payments.transactions')] },
    ],
    laggingGroup: { group: n('analytics-aggregator'), topics: [n('analytics.clicks')] },
    orphanGroup: { group: n('legacy-exporter'), topic: n('analytics.legacy-export') },
    idleTopic: n('analytics.sessions-archive'),
    compactedTopic: n('orders.state'),
    transactionalTopic: n('payments.transactions'),
  };
}

export function topicPartitions(world: DemoWorld, names: string[]): { name: string; partitions: number }[] {
  return names.map((name) => {
    const t = world.topics.find((d) => d.name === name);
    if (!t) throw new Error(`demo topic ${name} is not defined`);
    return { name: t.name, partitions: t.partitions };
  });
}

/** Creates the world on the source and writes its history; returns the (connected) live producers. */
export async function seedDemo(
  world: DemoWorld,
  setupAdmin: Admin,
  app: ClusterAccess,
  log: (line: string) => void,
  recordsPerTopic = 2000,
): Promise<DemoProducer[]> {
  await createTopicsReady(
    setupAdmin,
    [...world.topics, { name: world.orphanGroup.topic, partitions: 1 }].map((t) => ({
      topic: t.name,
      numPartitions: t.partitions,
      configEntries: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
    })),
  );
  log(`created ${world.topics.length + 1} topics on the source`);

  const producers = world.producers.map((p) => new DemoProducer(p.name, topicPartitions(world, p.topics)));
  try {
    await writeHistory(world, producers, app, log, recordsPerTopic, setupAdmin);
  } catch (e) {
    for (const p of producers) await p.stop().catch(() => undefined);
    throw e;
  }
  return producers;
}

async function writeHistory(
  world: DemoWorld,
  producers: DemoProducer[],
  app: ClusterAccess,
  log: (line: string) => void,
  recordsPerTopic: number,
  setupAdmin: Admin,
): Promise<void> {
  for (const p of producers) {
    await p.connect(app);
    await p.write(recordsPerTopic);
  }
  log(`wrote ${producers.reduce((sum, p) => sum + p.sent, 0)} records as user "${app.sasl?.username}" over SASL`);

  const kafka = demoKafka(app, 'demo-seed');
  const plain = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await plain.connect();
  const old = Date.now() - 60 * 24 * 3600 * 1000;
  await plain.send({
    topic: world.idleTopic,
    messages: Array.from({ length: 200 }, (_, i) => ({ partition: i % 2, key: `s-${i}`, value: `session ${i}`, timestamp: String(old + i * 1000) })),
  });
  // A compacted table with updates and tombstones.
  const stateMessages = [];
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 60; i++) {
      const tombstone = round === 4 && i % 7 === 0;
      stateMessages.push({
        key: `order-${i}`,
        value: tombstone ? null : JSON.stringify({ order: i, state: ['new', 'paid', 'picked', 'shipped', 'delivered'][round] }),
      });
    }
  }
  await plain.send({ topic: world.compactedTopic, messages: stateMessages });
  await plain.send({ topic: world.orphanGroup.topic, messages: [{ value: 'export' }] });
  await plain.disconnect();

  // Committed and aborted transactions interleaved: aborted records must never reach the target.
  const tx = kafka.producer({ transactionalId: `${world.prefix}demo-payments-tx`, idempotent: true, maxInFlightRequests: 1 });
  await tx.connect();
  for (let i = 0; i < 6; i++) {
    const t = await tx.transaction();
    await t.send({
      topic: world.transactionalTopic,
      messages: Array.from({ length: 50 }, (_, j) => ({
        partition: j % 3,
        key: `tx-${i}-${j}`,
        value: JSON.stringify({ tx: i, line: j, aborted: i % 3 === 2 }),
      })),
    });
    if (i % 3 === 2) await t.abort();
    else await t.commit();
  }
  await tx.disconnect();
  log('wrote an idle topic (60-day-old records), a compacted topic with tombstones, and committed + aborted transactions');

  const lagging = new DemoConsumer(world.laggingGroup.group, world.laggingGroup.topics);
  await lagging.start(app);
  await waitFor(() => lagging.received >= 500, 30000, `${world.laggingGroup.group} to consume`);
  await lagging.stop();
  const orphan = new DemoConsumer(world.orphanGroup.group, [world.orphanGroup.topic]);
  await orphan.start(app);
  await waitFor(() => orphan.received >= 1, 30000, `${world.orphanGroup.group} to consume`);
  await orphan.stop();
  await setupAdmin.deleteTopics({ topics: [world.orphanGroup.topic] });
  log(`group ${world.laggingGroup.group} has lag; the topic of group ${world.orphanGroup.group} is deleted`);
}

export async function waitFor(predicate: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
