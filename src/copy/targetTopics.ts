/**
 * Topics on the target: same partition count as the source, the source's non-default topic configs minus
 * what the target profile refuses, the spec's replication factor (or the target default), and the
 * existingTopicPolicy for topics that are already there. Creation/adoption is recorded in the offset
 * store *before* it happens, so an activity retry recognises the migration's own topics.
 */
import { ConfigResourceTypes, type Admin, type Kafka } from 'kafkajs';
import { unlessUnsupported } from '../kafka/optionalApis';
import type { ClusterConnection, MigrationSpec } from '../config/spec';
import { effectiveProfile } from '../config/profiles';
import { createKafka } from '../kafka/clients';
import { onCluster } from '../kafka/clusterRole';
import type { PartitionCountChange, TopicCreationReport, TopicCreationResult } from '../types/copy';
import { retry } from '../retry/backoff';
import { NonRetryableCopyError } from './copyErrors';
import { ensureOffsetStoreTopic, OFFSET_STORE_TOPIC, ownershipRecord, readOffsetStore, targetIdOf, type TopicOwnership } from './offsetMapStore';
import { createInternalCluster } from './kafkaInternals';
import { growTargetPartitions } from './growPartitions';
import { partitionCounts, topicsMissingFailure } from './sourceTopicMissing';

/** ConfigSource of a config set on the topic itself (DescribeConfigs). */
const TOPIC_CONFIG_SOURCE = 1;

interface SourceTopic {
  name: string;
  partitions: number;
  /** Configs set on the topic (not defaults). */
  configs: Record<string, string>;
  timestampType: 'CreateTime' | 'LogAppendTime';
}

/** The source topics (all present: the caller checked) with their partition counts and topic-level configs. */
async function describeSourceTopics(admin: Admin, counts: Map<string, number>): Promise<Map<string, SourceTopic>> {
  const out = new Map<string, SourceTopic>();
  for (const [name, partitions] of counts) out.set(name, { name, partitions, configs: {}, timestampType: 'CreateTime' });
  if (counts.size === 0) return out;
  // A source before 0.11 has no DescribeConfigs: the target topics get no copied overrides (CreateTime assumed).
  const described = await unlessUnsupported(
    () => admin.describeConfigs({ includeSynonyms: false, resources: [...counts.keys()].map((name) => ({ type: ConfigResourceTypes.TOPIC, name })) }),
    { resources: [], throttleTime: 0 },
  );
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
      [name],
    );
  }
  if (partitions !== sourcePartitions) {
    throw new NonRetryableCopyError(
      'TargetTopicExists',
      `target topic ${name} already exists with ${partitions} partitions, the source has ${sourcePartitions}: it cannot be adopted (offsets and keys must map partition for partition); delete it on the target or fix its partition count`,
      [name],
    );
  }
  const { empty, records } = await isEmpty(admin, name);
  if (!empty) {
    throw new NonRetryableCopyError(
      'TargetTopicExists',
      `target topic ${name} already exists and holds ${records} records: adopt-if-empty only adopts empty topics; delete it on the target (or delete its records) first`,
      [name],
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
/** Resolves once every partition of a just-created topic has a leader in the metadata (~10 s at most). */
async function waitForLeaders(admin: Admin, topic: string, partitions: number): Promise<void> {
  await retry(
    async () => {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      const led = meta.topics[0]?.partitions.filter((p) => p.leader >= 0).length ?? 0;
      if (led < partitions) throw new Error(`target topic ${topic}: ${led} of ${partitions} partitions have a leader`);
    },
    { initialMs: 200, maxMs: 2000, maxAttempts: 8 },
  );
}

export async function createTopicsOnTarget(spec: MigrationSpec, migration: string, topics: string[]): Promise<TopicCreationReport> {
  const sourceKafka = createKafka(spec.source, 'source', { clientIdSuffix: 'topics' });
  const targetKafka = createKafka(spec.target, 'target', { clientIdSuffix: 'topics' });
  const sourceAdmin = sourceKafka.admin();
  const targetAdmin = targetKafka.admin();
  const targetCluster = createInternalCluster(targetKafka);
  try {
    await Promise.all([
      onCluster('source', () => sourceAdmin.connect()),
      onCluster('target', () => targetAdmin.connect()),
      onCluster('target', () => targetCluster.connect()),
    ]);
    const profile = effectiveProfile(spec.target);
    const unsupported = new Set(profile.unsupportedTopicConfigs);
    const sourceCounts = await onCluster('source', () => partitionCounts(sourceAdmin, topics));
    const missingOnSource = topics.filter((t) => !sourceCounts.has(t));
    if (missingOnSource.length) throw topicsMissingFailure('source', missingOnSource, 'createTargetTopics');
    const sourceTopics = await onCluster('source', () => describeSourceTopics(sourceAdmin, sourceCounts));
    await onCluster('target', () => ensureOffsetStoreTopic(targetAdmin, spec.target.replicationFactor));
    const snapshot = await onCluster('target', () => readOffsetStore(targetCluster, targetAdmin, migration, targetIdOf(spec.target)));
    // One metadata request tells which topics exist on the target and their counts (a round's refresh is cheap).
    const existingMeta = await onCluster('target', () => partitionCounts(targetAdmin, topics));
    const existing = new Set(existingMeta.keys());
    // Refuse before writing anything: a batch with one conflicting topic must not leave others created.
    for (const name of topics) {
      if (existing.has(name) && !snapshot.owner(name)) {
        await onCluster('target', () => refuseUnlessAdoptable(spec, targetAdmin, name, existingMeta.get(name) ?? 0, sourceTopics.get(name)!.partitions));
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
        warnings.push(
          'the source topic uses message.timestamp.type=LogAppendTime: the target stamps copied records with its own append time, source timestamps are not kept',
        );
      }
      const owner = snapshot.owner(name);
      let action: TopicCreationResult['action'];
      if (existing.has(name) && owner) {
        action = 'owned';
      } else if (existing.has(name)) {
        const partitions = existingMeta.get(name) ?? 0;
        await onCluster('target', () =>
          writeOwnership(targetKafka, migration, name, { action: 'adopted', partitions: partitions, at: new Date().toISOString() }),
        );
        action = 'adopted';
        warnings.push('adopted an existing empty topic: its configs were left as they are on the target');
      } else {
        // Intent first: if this attempt dies after creating the topic, the retry knows the topic is ours.
        await onCluster('target', () =>
          writeOwnership(targetKafka, migration, name, { action: 'created', partitions: src.partitions, at: new Date().toISOString() }),
        );
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
          // Created, but its leaders are not in the metadata yet (UNKNOWN_TOPIC_OR_PARTITION and the like, seen
          // at hundreds of topics on a busy broker): wait for them here, a few seconds at most; failing the whole
          // activity instead made every attempt create two or three topics of a 200-topic batch, then back off.
          // Still missing: retryable, and the next attempt finds the topic, recorded as ours above.
          if ((e as { retriable?: boolean }).retriable === true) {
            await onCluster('target', () => waitForLeaders(targetAdmin, name, src.partitions)).catch(() => {
              throw e;
            });
          } else if (!/already exists/i.test(msg)) {
            throw new NonRetryableCopyError(
              'TargetTopicMissing',
              `creating target topic ${name} failed: ${msg}${(e as { errors?: unknown[] }).errors ? ` ${JSON.stringify((e as { errors?: unknown[] }).errors)}` : ''}`,
              [name],
            );
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
    // Partitions the source gained since the topic was created (or adopted) are added now.
    for (const r of results) {
      const want = sourceTopics.get(r.topic)!.partitions;
      const before = existingMeta.get(r.topic) ?? want;
      if (before >= want) continue;
      r.partitions = await growTargetPartitions(spec.target, r.topic, want);
      r.partitionsAdded = r.partitions - before;
    }
    return { migration, checkedAt: new Date().toISOString(), topics: results };
  } finally {
    await Promise.allSettled([sourceAdmin.disconnect(), targetAdmin.disconnect(), targetCluster.disconnect()]);
  }
}

/**
 * Adds partitions on the target where the source has more; returns the topics that changed. A topic missing
 * on either side is a non-retryable SourceTopicMissing / TargetTopicMissing naming it.
 */
async function syncCounts(
  target: ClusterConnection,
  sourceAdmin: Admin,
  targetAdmin: Admin,
  topics: string[],
  action: string,
): Promise<PartitionCountChange[]> {
  const [src, tgt] = await Promise.all([
    onCluster('source', () => partitionCounts(sourceAdmin, topics)),
    onCluster('target', () => partitionCounts(targetAdmin, topics)),
  ]);
  const missingOnSource = topics.filter((t) => !src.has(t));
  if (missingOnSource.length) throw topicsMissingFailure('source', missingOnSource, action);
  const missingOnTarget = topics.filter((t) => !tgt.has(t));
  if (missingOnTarget.length) throw topicsMissingFailure('target', missingOnTarget, action, 'run createTargetTopics before copying (or recreate it)');
  const changes: PartitionCountChange[] = [];
  for (const topic of [...new Set(topics)]) {
    const before = tgt.get(topic)!;
    const want = src.get(topic)!;
    if (before >= want) continue;
    const after = await growTargetPartitions(target, topic, want);
    changes.push({ topic, sourcePartitions: want, targetPartitionsBefore: before, targetPartitions: after });
  }
  return changes;
}

/** Partitions added on the source since the target topics were created are added on the target. */
export async function syncPartitionCountsOnTarget(
  spec: Pick<MigrationSpec, 'source' | 'target'>,
  topics: string[],
  action = 'syncPartitionCounts',
): Promise<PartitionCountChange[]> {
  const sourceAdmin = createKafka(spec.source, 'source', { clientIdSuffix: 'topics' }).admin();
  const targetAdmin = createKafka(spec.target, 'target', { clientIdSuffix: 'topics' }).admin();
  try {
    await Promise.all([onCluster('source', () => sourceAdmin.connect()), onCluster('target', () => targetAdmin.connect())]);
    return await syncCounts(spec.target, sourceAdmin, targetAdmin, topics, action);
  } finally {
    await Promise.allSettled([sourceAdmin.disconnect(), targetAdmin.disconnect()]);
  }
}
