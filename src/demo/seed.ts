/**
 * Realistic demo data on the source: several business systems, active and idle topics, a compacted topic with
 * tombstones, transactional data with aborted transactions, a group with lag and a group whose topic is gone.
 * Topics are created through the super-user PLAINTEXT listener (set-up); data is written as the `app` user.
 */
import type { Admin } from 'kafkajs';
import { demoKafka, DemoConsumer, DemoProducer, type ClusterAccess } from './workload';

export interface DemoTopic {
  name: string;
  partitions: number;
  configs?: Record<string, string>;
}

export const DEMO_TOPICS: DemoTopic[] = [
  { name: 'analytics.clicks', partitions: 6, configs: { 'retention.ms': '604800000' } },
  { name: 'analytics.sessions-archive', partitions: 2 },
  { name: 'audit.events', partitions: 1, configs: { 'max.message.bytes': '2097152' } },
  { name: 'orders.created', partitions: 4 },
  { name: 'orders.state', partitions: 2, configs: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0' } },
  { name: 'payments.transactions', partitions: 3, configs: { 'min.insync.replicas': '1' } },
];

/** The live applications: which producer writes which topics, which group reads which topics. */
export const DEMO_PRODUCERS: { name: string; topics: string[] }[] = [
  { name: 'clickstream', topics: ['analytics.clicks'] },
  { name: 'auditor', topics: ['audit.events'] },
  { name: 'order-service', topics: ['orders.created'] },
  { name: 'payment-gateway', topics: ['payments.transactions'] },
];
export const DEMO_CONSUMERS: { group: string; topics: string[] }[] = [
  { group: 'audit-archiver', topics: ['audit.events'] },
  { group: 'orders-fulfillment', topics: ['orders.created', 'orders.state'] },
  { group: 'payments-ledger', topics: ['payments.transactions'] },
];
/** Consumed once, then stopped: its lag grows while the clickstream keeps writing. */
export const LAGGING_GROUP = { group: 'analytics-aggregator', topics: ['analytics.clicks'] };
/** A group whose only topic is deleted: flagged unclaimed by the inventory. */
export const UNCLAIMED_GROUP = { group: 'legacy-exporter', topic: 'analytics.legacy-export' };

export function topicPartitions(names: string[]): { name: string; partitions: number }[] {
  return names.map((n) => {
    const t = DEMO_TOPICS.find((d) => d.name === n);
    if (!t) throw new Error(`demo topic ${n} is not defined`);
    return { name: t.name, partitions: t.partitions };
  });
}

export async function seedDemo(setupAdmin: Admin, app: ClusterAccess, log: (line: string) => void): Promise<DemoProducer[]> {
  await setupAdmin.createTopics({
    waitForLeaders: true,
    topics: [...DEMO_TOPICS, { name: UNCLAIMED_GROUP.topic, partitions: 1 }].map((t) => ({
      topic: t.name,
      numPartitions: t.partitions,
      configEntries: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
    })),
  });
  log(`created ${DEMO_TOPICS.length + 1} topics on the source`);

  const producers = DEMO_PRODUCERS.map((p) => new DemoProducer(p.name, topicPartitions(p.topics)));
  for (const p of producers) {
    await p.connect(app);
    await p.write(2000);
  }
  log(`wrote ${producers.reduce((n, p) => n + p.sent, 0)} records as user "${app.sasl?.username}" over SASL`);

  const kafka = demoKafka(app, 'demo-seed');
  const plain = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await plain.connect();
  // Idle topic: its last write is 60 days old and nobody reads it (the inventory flags it inactive).
  const old = Date.now() - 60 * 24 * 3600 * 1000;
  await plain.send({
    topic: 'analytics.sessions-archive',
    messages: Array.from({ length: 200 }, (_, i) => ({ partition: i % 2, key: `s-${i}`, value: `session ${i}`, timestamp: String(old + i * 1000) })),
  });
  // Compacted table with updates and tombstones.
  const stateMessages = [];
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 60; i++) {
      const tombstone = round === 4 && i % 7 === 0;
      stateMessages.push({ key: `order-${i}`, value: tombstone ? null : JSON.stringify({ order: i, state: ['new', 'paid', 'picked', 'shipped', 'delivered'][round] }) });
    }
  }
  await plain.send({ topic: 'orders.state', messages: stateMessages });
  await plain.send({ topic: UNCLAIMED_GROUP.topic, messages: [{ value: 'export' }] });
  await plain.disconnect();

  // Transactions: committed and aborted batches interleaved (aborted records must never reach the target).
  const tx = kafka.producer({ transactionalId: `demo-payments-tx`, idempotent: true, maxInFlightRequests: 1 });
  await tx.connect();
  for (let i = 0; i < 6; i++) {
    const t = await tx.transaction();
    await t.send({ topic: 'payments.transactions', messages: Array.from({ length: 50 }, (_, j) => ({ partition: j % 3, key: `tx-${i}-${j}`, value: JSON.stringify({ tx: i, line: j, aborted: i % 3 === 2 }) })) });
    if (i % 3 === 2) await t.abort();
    else await t.commit();
  }
  await tx.disconnect();
  log('wrote an idle topic (60-day-old records), a compacted topic with tombstones, and committed + aborted transactions');

  // A group that consumed part of analytics.clicks and stopped: it has lag.
  const lagging = new DemoConsumer(LAGGING_GROUP.group, LAGGING_GROUP.topics);
  await lagging.start(app);
  await waitFor(() => lagging.received >= 500, 30000);
  await lagging.stop();
  // A group whose topic is then deleted: unclaimed.
  const legacy = new DemoConsumer(UNCLAIMED_GROUP.group, [UNCLAIMED_GROUP.topic]);
  await legacy.start(app);
  await waitFor(() => legacy.received >= 1, 30000);
  await legacy.stop();
  await setupAdmin.deleteTopics({ topics: [UNCLAIMED_GROUP.topic] });
  log(`group ${LAGGING_GROUP.group} has lag; group ${UNCLAIMED_GROUP.group} only has offsets on a deleted topic`);
  return producers;
}

export async function waitFor(predicate: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
