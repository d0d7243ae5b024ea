/**
 * Reads every topic of a cluster: partitions and replicas (one Metadata request), non-default configs
 * (DescribeConfigs for many topics per request) and earliest/latest offsets (ListOffsets).
 */
import { ConfigResourceTypes, type Admin, type ConfigEntries, type DescribeConfigResponse } from 'kafkajs';
import { isUnsupportedApi } from '../kafka/optionalApis';
import type { ClusterConnection } from '../config/spec';
import { withAdmin } from '../kafka/clients';
import type { ConfigSourceName, InventoryCluster, TopicConfigEntry } from '../types/inventory';
import type { RawPartition, RawTopic } from './assemble';
import { chunk, isUnknownTopic, mapLimit, retryRetriable } from './concurrency';
import type { ProgressFn } from './progress';
import { compareNames } from '../plan/compare';
import { retry } from '../retry/backoff';

/** Topics per DescribeConfigs request. */
const CONFIGS_PER_REQUEST = 100;
/**
 * Topics per admin client for offsets: kafkajs refreshes the metadata of every topic a client has touched
 * each time it touches a new one, so one client over N topics costs O(N^2); small clients keep it linear.
 */
const TOPICS_PER_OFFSETS_CLIENT = 100;
const OFFSETS_CLIENTS_IN_PARALLEL = 4;
const OFFSETS_REQUESTS_PER_CLIENT = 8;

const CONFIG_SOURCES: Record<number, ConfigSourceName> = {
  0: 'unknown',
  1: 'topic',
  2: 'dynamic-broker',
  3: 'dynamic-default-broker',
  4: 'static-broker',
  5: 'default',
  6: 'broker-logger',
};

interface TopicLayout {
  name: string;
  partitions: Omit<RawPartition, 'earliestOffset' | 'latestOffset'>[];
}

export interface CollectedTopics {
  cluster: InventoryCluster;
  topics: RawTopic[];
  warnings: string[];
}

export async function collectTopics(conn: ClusterConnection, progress: ProgressFn): Promise<CollectedTopics> {
  const warnings: string[] = [];
  const { cluster, layouts, configs } = await withAdmin(
    conn,
    'source',
    async (admin) => {
      const described = await admin.describeCluster();
      const layouts = await listLayouts(admin);
      progress('topics-listed', { topics: layouts.length });
      const configs = await describeTopicConfigs(
        admin,
        layouts.map((l) => l.name),
      );
      progress('configs-described', { topics: layouts.length });
      return {
        cluster: {
          clusterId: described.clusterId,
          controllerId: described.controller ?? null,
          brokers: described.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })),
        },
        layouts,
        configs,
      };
    },
    { clientIdSuffix: 'inventory' },
  );

  const offsets = await fetchOffsets(
    conn,
    layouts.map((l) => l.name),
    progress,
  );
  const topics: RawTopic[] = [];
  for (const l of layouts) {
    const o = offsets.get(l.name);
    if (!o) {
      warnings.push(`topic ${l.name} disappeared during the inventory (deleted?): left out`);
      continue;
    }
    const entries = configs.get(l.name) ?? { nonDefault: [], timestampType: null, cleanupPolicy: null };
    topics.push({
      name: l.name,
      partitions: l.partitions.map((p) => ({ ...p, earliestOffset: o.get(p.partition)?.low ?? 0, latestOffset: o.get(p.partition)?.high ?? 0 })),
      configs: entries.nonDefault,
      timestampType: entries.timestampType,
      cleanupPolicy: entries.cleanupPolicy,
    });
  }
  return { cluster, topics, warnings };
}

interface TopicConfigs {
  nonDefault: TopicConfigEntry[];
  timestampType: 'CreateTime' | 'LogAppendTime' | null;
  cleanupPolicy: string | null;
}

/** Every topic and its partitions. A topic deleted between the listing and the Metadata request fails it: list again. */
async function listLayouts(admin: Admin): Promise<TopicLayout[]> {
  return retry(
    () =>
      retryRetriable(async () => {
        const names = await admin.listTopics();
        const { topics } = await admin.fetchTopicMetadata({ topics: names });
        return topics.map((t): TopicLayout => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr })),
        }));
      }),
    { initialMs: 50, maxMs: 500, maxAttempts: 5, retryIf: isUnknownTopic },
  );
}

async function describeTopicConfigs(admin: Admin, names: string[]): Promise<Map<string, TopicConfigs>> {
  const out = new Map<string, TopicConfigs>();
  const describe = (topics: string[]) =>
    retryRetriable(() => admin.describeConfigs({ includeSynonyms: false, resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })) }));
  await mapLimit(chunk(names, CONFIGS_PER_REQUEST), 4, async (batch) => {
    let resources: DescribeConfigResponse['resources'];
    try {
      resources = (await describe(batch)).resources;
    } catch (e) {
      if (isUnsupportedApi(e)) return; // a source before 0.11 has no DescribeConfigs: its topic configs are unknown
      if (!isUnknownTopic(e)) throw e;
      // kafkajs fails the whole request for one deleted topic: describe them one by one, skipping the deleted.
      const single = await mapLimit(batch, 8, (name) =>
        describe([name]).then(
          (r) => r.resources,
          (err) => (isUnknownTopic(err) ? [] : Promise.reject(err)),
        ),
      );
      resources = single.flat();
    }
    for (const r of resources) out.set(r.resourceName, topicConfigs(r.configEntries));
  });
  return out;
}

function topicConfigs(entries: ConfigEntries[]): TopicConfigs {
  const find = (key: string) => entries.find((e) => e.configName === key)?.configValue ?? null;
  const ts = find('message.timestamp.type');
  return {
    nonDefault: entries
      .filter((e) => !e.isDefault && Number(e.configSource) !== 5 /* DEFAULT_CONFIG */)
      .map((e) => ({
        name: e.configName,
        value: e.isSensitive ? null : e.configValue,
        source: CONFIG_SOURCES[Number(e.configSource)] ?? 'unknown',
        readOnly: e.readOnly,
        sensitive: e.isSensitive,
      }))
      .sort((a, b) => compareNames(a.name, b.name)),
    timestampType: ts === 'CreateTime' || ts === 'LogAppendTime' ? ts : null,
    cleanupPolicy: find('cleanup.policy'),
  };
}

type PartitionOffsets = Map<number, { low: number; high: number }>;

/**
 * Earliest and latest offsets of every topic; a topic deleted meanwhile is missing from the result.
 * A deleted topic also breaks the kafkajs client that knew it (its metadata refreshes fail from then on), so
 * the topics that failed are retried on fresh clients, minus those no longer listed.
 */
async function fetchOffsets(conn: ClusterConnection, names: string[], progress: ProgressFn): Promise<Map<string, PartitionOffsets>> {
  const out = new Map<string, PartitionOffsets>();
  let pending = names;
  for (let pass = 1; pending.length > 0; pass++) {
    const failed: string[] = [];
    await mapLimit(chunk(pending, TOPICS_PER_OFFSETS_CLIENT), OFFSETS_CLIENTS_IN_PARALLEL, (batch) =>
      withAdmin(
        conn,
        'source',
        (admin) =>
          mapLimit(batch, OFFSETS_REQUESTS_PER_CLIENT, async (topic) => {
            try {
              const offsets = await retryRetriable(() => admin.fetchTopicOffsets(topic));
              out.set(topic, new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }])));
              if (out.size % 100 === 0) progress('offsets', { topics: out.size, of: names.length });
            } catch (e) {
              if (!isUnknownTopic(e)) throw e;
              failed.push(topic);
            }
          }),
        // our own retries (above): kafkajs would retry a deleted topic for seconds
        { clientIdSuffix: 'inventory', retries: 0 },
      ),
    );
    if (failed.length === 0 || pass >= 3) break;
    const listed = new Set(await withAdmin(conn, 'source', (admin) => admin.listTopics(), { clientIdSuffix: 'inventory' }));
    pending = failed.filter((t) => listed.has(t));
  }
  return out;
}
