/**
 * Topics on the target: same partition count as the source, the source's non-default topic configs minus
 * what the target profile refuses, the spec's replication factor (or the target default), and the
 * existingTopicPolicy for topics that are already there. Creation/adoption is recorded in the offset
 * store *before* it happens, so an activity retry recognises the migration's own topics.
 */
import { ConfigResourceTypes, type Admin, type Kafka } from 'kafkajs';
import type { MigrationSpec } from '../config/spec';
import { effectiveProfile } from '../config/profiles';
import { createKafka } from '../kafka/clients';
import type { PartitionCountChange, TopicCreationReport, TopicCreationResult } from '../types/copy';
import { NonRetryableCopyError } from './copyErrors';
import { ensureOffsetStoreTopic, OFFSET_STORE_TOPIC, ownershipRecord, readOffsetStore, targetIdOf, type TopicOwnership } from './offsetMapStore';
import { createInternalCluster } from './kafkaInternals';

/** ConfigSource of a config set on the topic itself (DescribeConfigs). */
const TOPIC_CONFIG_SOURCE = 1;

interface SourceTopic {
  name: string;
  partitions: number;
  /** Configs set on the topic (not defaults). */
  configs: Record<string, string>;
  timestampType: 'CreateTime' | 'LogAppendTime';
}

async function describeSourceTopics(admin: Admin, topics: string[]): Promise<Map<string, SourceTopic>> {
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
  });
  const out = new Map<string, SourceTopic>();
  for (const m of metadata) out.set(m.name, { name: m.name, partitions: m.partitions.length, configs: {}, timestampType: 'CreateTime' });
  for (const r of described.resources) {
    const t = out.get(r.resourceName);
    if (!t) continue;
    for (const e of r.configEntries) {
      if (e.configName === 'message.timestamp.type' && e.configValue === 'LogAppendTime') t.timestampType = 'LogAppendTime';
      const source = (e as unknown as { configSource?: number }).configSource;
      if (source === TOPIC_CONFIG_SOURCE && !e.isSensitive && e.configValue !== null) t.configs[e.configName] = e.configValue;
    }
  }
  return out;
}

async function isEmpty(admin: Admin, topic: string): Promise<{ empty: boolean; records: number }> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const records = offsets.reduce((n, o) => n + (Number(o.high) - Number(o.low)), 0);
  return { empty: records === 0, records };
}

/** Throws unless an existing, foreign target topic may be adopted under target.existingTopicPolicy. */
async function refuseUnlessAdoptable(spec: MigrationSpec, admin: Admin, name: string, partitions: number, sourcePartitions: number): Promise<void> {
  if (spec.target.existingTopicPolicy === 'fail') {
    throw new NonRetryableCopyError(
      'TargetTopicExists',
      `target topic ${name} already exists (${partitions} partitions) and target.existingTopicPolicy is 'fail': delete it on the target, or set existingTopicPolicy: adopt-if-empty if it is an empty topic prepared for this migration`,
    );
  }
  if (partitions !== sourcePartitions) {
    throw new NonRetryableCopyError(
      'TargetTopicExists',
      `target topic ${name} already exists with ${partitions} partitions, the source has ${sourcePartitions}: it cannot be adopted (offsets and keys must map partition for partition); delete it on the target or fix its partition count`,
    );
  }
  const { empty, records } = await isEmpty(admin, name);
  if (!empty) {
    throw new NonRetryableCopyError(
      'TargetTopicExists',
      `target topic ${name} already exists and holds ${records} records: adopt-if-empty only adopts empty topics; delete it on the target (or delete its records) first`,
    );
  }
}

async function writeOwnership(kafka: Kafka, migration: string, topic: string, ownership: TopicOwnership): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true });
  await producer.connect();
  try {
    const rec = ownershipRecord(migration, topic, ownership);
    await producer.send({ topic: OFFSET_STORE_TOPIC, acks: -1, messages: [{ key: rec.key, value: rec.value, partition: 0 }] });
  } finally {
    await producer.disconnect();
  }
}

/** Creates (or adopts, or recognises as already ours) each topic on the target; adds missing partitions. */
export async function createTopicsOnTarget(spec: MigrationSpec, migration: string, topics: string[]): Promise<TopicCreationReport> {
  const sourceKafka = createKafka(spec.source, 'source', { clientIdSuffix: 'topics' });
  const targetKafka = createKafka(spec.target, 'target', { clientIdSuffix: 'topics' });
  const sourceAdmin = sourceKafka.admin();
  const targetAdmin = targetKafka.admin();
  const targetCluster = createInternalCluster(targetKafka);
  try {
    await Promise.all([sourceAdmin.connect(), targetAdmin.connect(), targetCluster.connect()]);
    const profile = effectiveProfile(spec.target);
    const unsupported = new Set(profile.unsupportedTopicConfigs);
    const sourceTopics = await describeSourceTopics(sourceAdmin, topics);
    const missingOnSource = topics.filter((t) => !sourceTopics.has(t));
    if (missingOnSource.length) throw new NonRetryableCopyError('TargetTopicMissing', `source topic(s) ${missingOnSource.join(', ')} do not exist`);
    await ensureOffsetStoreTopic(targetAdmin, spec.target.replicationFactor);
    const snapshot = await readOffsetStore(targetCluster, targetAdmin, migration, targetIdOf(spec.target));
    const existing = new Set(await targetAdmin.listTopics());
    const existingMeta = new Map(
      existing.size ? (await targetAdmin.fetchTopicMetadata({ topics: topics.filter((t) => existing.has(t)) })).topics.map((t) => [t.name, t.partitions.length]) : [],
    );
    // Refuse before writing anything: a batch with one conflicting topic must not leave others created.
    for (const name of topics) {
      if (existing.has(name) && !snapshot.owner(name)) {
        await refuseUnlessAdoptable(spec, targetAdmin, name, existingMeta.get(name) ?? 0, sourceTopics.get(name)!.partitions);
      }
    }
    const results: TopicCreationResult[] = [];
    for (const name of topics) {
      const src = sourceTopics.get(name)!;
      const configs: Record<string, string> = {};
      const droppedConfigs: { name: string; value: string }[] = [];
      for (const [k, v] of Object.entries(src.configs)) {
        if (unsupported.has(k)) droppedConfigs.push({ name: k, value: v });
        else configs[k] = v;
      }
      const warnings: string[] = [];
      if (src.timestampType === 'LogAppendTime') {
        warnings.push('the source topic uses message.timestamp.type=LogAppendTime: the target stamps copied records with its own append time, source timestamps are not kept');
      }
      const owner = snapshot.owner(name);
      let action: TopicCreationResult['action'];
      if (existing.has(name) && owner) {
        action = 'owned';
      } else if (existing.has(name)) {
        const partitions = existingMeta.get(name) ?? 0;
        await writeOwnership(targetKafka, migration, name, { action: 'adopted', partitions: partitions, at: new Date().toISOString() });
        action = 'adopted';
        warnings.push('adopted an existing empty topic: its configs were left as they are on the target');
      } else {
        // Intent first: if this attempt dies after creating the topic, the retry knows the topic is ours.
        await writeOwnership(targetKafka, migration, name, { action: 'created', partitions: src.partitions, at: new Date().toISOString() });
        try {
          await targetAdmin.createTopics({
            waitForLeaders: true,
            topics: [
              {
                topic: name,
                numPartitions: src.partitions,
                replicationFactor: spec.target.replicationFactor ?? -1,
                configEntries: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })),
              },
            ],
          });
        } catch (e) {
          const msg = (e as Error).message;
          if (!/already exists/i.test(msg)) {
            throw new NonRetryableCopyError('TargetTopicMissing', `creating target topic ${name} failed: ${msg}${(e as { errors?: unknown[] }).errors ? ` ${JSON.stringify((e as { errors?: unknown[] }).errors)}` : ''}`);
          }
        }
        action = 'created';
      }
      results.push({
        topic: name,
        action,
        partitions: src.partitions,
        partitionsAdded: 0,
        replicationFactor: spec.target.replicationFactor ?? null,
        configs: action === 'adopted' ? {} : configs,
        droppedConfigs,
        timestampType: src.timestampType,
        warnings,
      });
    }
    const changes = await syncCounts(sourceAdmin, targetAdmin, topics);
    for (const c of changes) {
      const r = results.find((x) => x.topic === c.topic)!;
      r.partitionsAdded = c.targetPartitions - c.targetPartitionsBefore;
      r.partitions = c.targetPartitions;
    }
    return { migration, checkedAt: new Date().toISOString(), topics: results };
  } finally {
    await Promise.allSettled([sourceAdmin.disconnect(), targetAdmin.disconnect(), targetCluster.disconnect()]);
  }
}

/** Adds partitions on the target where the source has more; returns the topics that changed. */
async function syncCounts(sourceAdmin: Admin, targetAdmin: Admin, topics: string[]): Promise<PartitionCountChange[]> {
  const [onSource, onTarget] = await Promise.all([sourceAdmin.listTopics(), targetAdmin.listTopics()]);
  const missingOnSource = topics.filter((t) => !onSource.includes(t));
  if (missingOnSource.length) throw new NonRetryableCopyError('TargetTopicMissing', `source topic(s) ${missingOnSource.join(', ')} do not exist (deleted since the plan was made?)`);
  const missingOnTarget = topics.filter((t) => !onTarget.includes(t));
  if (missingOnTarget.length) throw new NonRetryableCopyError('TargetTopicMissing', `target topic(s) ${missingOnTarget.join(', ')} do not exist: run createTargetTopics before copying`);
  const [src, tgt] = await Promise.all([sourceAdmin.fetchTopicMetadata({ topics }), targetAdmin.fetchTopicMetadata({ topics })]);
  const targetCounts = new Map(tgt.topics.map((t) => [t.name, t.partitions.length]));
  const changes: PartitionCountChange[] = [];
  for (const t of src.topics) {
    const before = targetCounts.get(t.name) ?? 0;
    const want = t.partitions.length;
    if (before >= want) continue;
    try {
      await targetAdmin.createPartitions({ validateOnly: false, timeout: 30000, topicPartitions: [{ topic: t.name, count: want }] });
    } catch (e) {
      // Another copy activity may have added them concurrently: fine if the count is now right.
      const now = (await targetAdmin.fetchTopicMetadata({ topics: [t.name] })).topics[0]?.partitions.length ?? 0;
      if (now < want) throw e;
    }
    changes.push({ topic: t.name, sourcePartitions: want, targetPartitionsBefore: before, targetPartitions: want });
  }
  return changes;
}

/** Partitions added on the source since the target topics were created are added on the target. */
export async function syncPartitionCountsOnTarget(spec: MigrationSpec, topics: string[]): Promise<PartitionCountChange[]> {
  const sourceAdmin = createKafka(spec.source, 'source', { clientIdSuffix: 'topics' }).admin();
  const targetAdmin = createKafka(spec.target, 'target', { clientIdSuffix: 'topics' }).admin();
  try {
    await Promise.all([sourceAdmin.connect(), targetAdmin.connect()]);
    return await syncCounts(sourceAdmin, targetAdmin, topics);
  } finally {
    await Promise.allSettled([sourceAdmin.disconnect(), targetAdmin.disconnect()]);
  }
}
