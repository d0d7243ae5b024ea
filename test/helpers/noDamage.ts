/**
 * "No damage" evidence for the bad-input suite: what a refused run must leave exactly as it was on the
 * source (end offsets, partition counts, topic configs, ACLs, the groups' committed offsets), and what it
 * must not leave behind (target topics, entries of the migration in `__kafka_migrate_offsets`, a running
 * workflow of the migration).
 */
import type { Client } from '@temporalio/client';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ConfigResourceTypes, ResourcePatternTypes } from 'kafkajs';
import { createInternalCluster } from '../../src/copy/kafkaInternals';
import { readOffsetStore } from '../../src/copy/offsetMapStore';
import { sourceAdminKafka, targetKafka } from './stack';

export interface SourceSnapshot {
  topics: Record<string, { partitions: { partition: number; low: string; high: string }[]; configs: Record<string, string | null>; acls: number }>;
  groups: Record<string, { topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

/** Reads the source's state of the given topics and groups through the super-user listener. */
export async function snapshotSource(topics: string[], groups: string[] = []): Promise<SourceSnapshot> {
  const admin = sourceAdminKafka().admin();
  await admin.connect();
  try {
    const snap: SourceSnapshot = { topics: {}, groups: {} };
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })) });
    for (const t of topics) {
      const offsets = await admin.fetchTopicOffsets(t);
      const entries = described.resources.find((r) => r.resourceName === t)?.configEntries ?? [];
      const acls = await admin.describeAcls({
        resourceType: AclResourceTypes.TOPIC,
        resourceName: t,
        resourcePatternType: ResourcePatternTypes.LITERAL,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      });
      snap.topics[t] = {
        partitions: offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high })).sort((a, b) => a.partition - b.partition),
        configs: Object.fromEntries(entries.filter((e) => !e.isDefault).map((e) => [e.configName, e.configValue])),
        acls: acls.resources.reduce((n, r) => n + r.acls.length, 0),
      };
    }
    for (const g of groups) {
      const offsets = await admin.fetchOffsets({ groupId: g, topics });
      snap.groups[g] = offsets.map((o) => ({ topic: o.topic, partitions: o.partitions.map((p) => ({ partition: p.partition, offset: p.offset })) }));
    }
    return snap;
  } finally {
    await admin.disconnect();
  }
}

/** Creates a source topic with a few keyed records and a group with committed offsets on it (set-up only). */
export async function seedSource(topic: string, group: string, partitions = 1, records = 4): Promise<void> {
  const kafka = sourceAdminKafka();
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '86400000' }] }],
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: records }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % partitions })) });
    await producer.disconnect();
    await admin.setOffsets({ groupId: group, topic, partitions: Array.from({ length: partitions }, (_, partition) => ({ partition, offset: '1' })) });
  } finally {
    await admin.disconnect();
  }
}

/** Target topics among `topics` that exist, with their partition counts. */
export async function targetTopicsPresent(topics: string[]): Promise<Record<string, number>> {
  const admin = targetKafka().admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    const names = topics.filter((t) => present.has(t));
    if (names.length === 0) return {};
    const meta = await admin.fetchTopicMetadata({ topics: names });
    return Object.fromEntries(meta.topics.map((t) => [t.name, t.partitions.length]));
  } finally {
    await admin.disconnect();
  }
}

/** What `__kafka_migrate_offsets` holds for the migration: owned topics and partition maps. */
export async function offsetStoreEntries(migration: string, topics: string[]): Promise<{ owners: string[]; partitions: string[] }> {
  const kafka = targetKafka();
  const admin = kafka.admin();
  const cluster = createInternalCluster(kafka);
  await Promise.all([admin.connect(), cluster.connect()]);
  try {
    const store = await readOffsetStore(cluster, admin, migration);
    return { owners: topics.filter((t) => store.owner(t)), partitions: store.partitions().map((p) => `${p.topic}:${p.partition}`) };
  } finally {
    await Promise.allSettled([admin.disconnect(), cluster.disconnect()]);
  }
}

/** Workflows of the migration (the migration and its batches) that still run, by id. */
export async function runningWorkflows(client: Client, migration: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of client.workflow.list({ query: `KmMigration = '${migration}' AND ExecutionStatus = 'Running'` })) ids.push(w.workflowId);
  return ids;
}

/** Polls until no workflow of the migration runs (visibility lags a little behind the workflow's end). */
export async function expectNoRunningWorkflow(client: Client, migration: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let running = await runningWorkflows(client, migration);
  while (running.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 300));
    running = await runningWorkflows(client, migration);
  }
  if (running.length) throw new Error(`workflows of migration ${migration} still running: ${running.join(', ')}`);
}

/** Deletes what a test created on the source (topics, groups) and on the target (topics); missing ones are fine. */
export async function deleteCreated(created: { sourceTopics?: string[]; groups?: string[]; targetTopics?: string[] }): Promise<void> {
  const drop = async (admin: ReturnType<ReturnType<typeof sourceAdminKafka>['admin']>, topics: string[], groups: string[]) => {
    await admin.connect();
    try {
      const present = new Set(await admin.listTopics());
      const existing = topics.filter((t) => present.has(t));
      if (existing.length) await admin.deleteTopics({ topics: existing });
      if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
    } finally {
      await admin.disconnect();
    }
  };
  await drop(sourceAdminKafka().admin(), created.sourceTopics ?? [], created.groups ?? []);
  await drop(targetKafka().admin(), created.targetTopics ?? [], []);
}
