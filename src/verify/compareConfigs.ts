/**
 * Topic configs after the profile filter: every topic-level override on either side (minus the keys the target
 * profile does not accept) must have the same effective value on both sides. Broker-level defaults are not
 * compared: the clusters are different products with different defaults.
 */
import { ConfigResourceTypes, ConfigSource, type Admin, type ConfigEntries } from 'kafkajs';
import { isUnsupportedApi } from '../kafka/optionalApis';
import type { TopicConfigVerification } from '../types/verify';

export type TopicConfigs = Map<string, ConfigEntries>;

/** All config entries of each topic (missing topics are absent from the result). */
export async function describeTopicConfigs(admin: Admin, topics: string[]): Promise<Map<string, TopicConfigs>> {
  const out = new Map<string, TopicConfigs>();
  if (topics.length === 0) return out;
  let res;
  try {
    res = await admin.describeConfigs({ includeSynonyms: false, resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })) });
  } catch (e) {
    if (!isUnsupportedApi(e)) throw e;
    // A source before 0.11 has no DescribeConfigs: no override is known there (the copy set none on the target).
    for (const t of topics) out.set(t, new Map());
    return out;
  }
  for (const r of res.resources) {
    if (r.errorCode !== 0) continue;
    out.set(r.resourceName, new Map(r.configEntries.map((e) => [e.configName, e])));
  }
  return out;
}

const isOverride = (e: ConfigEntries | undefined): boolean => !!e && e.configSource === ConfigSource.TOPIC_CONFIG;

export function compareTopicConfigs(topic: string, source: TopicConfigs, target: TopicConfigs, unsupported: string[]): TopicConfigVerification {
  const dropped = new Set(unsupported);
  const keys = new Set<string>();
  for (const [k, e] of source) if (isOverride(e)) keys.add(k);
  for (const [k, e] of target) if (isOverride(e)) keys.add(k);
  const filtered = [...keys].filter((k) => dropped.has(k) && isOverride(source.get(k))).sort();
  const compared = [...keys].filter((k) => !dropped.has(k)).sort();
  const differences = compared
    .map((key) => ({ key, source: source.get(key)?.configValue ?? null, target: target.get(key)?.configValue ?? null }))
    .filter((d) => d.source !== d.target);
  return { topic, ok: differences.length === 0, compared, filtered, differences };
}

/** The timestamp type a topic's records carry ("CreateTime" unless the topic says LogAppendTime). */
export function timestampType(configs: TopicConfigs | undefined): 'CreateTime' | 'LogAppendTime' {
  return configs?.get('message.timestamp.type')?.configValue === 'LogAppendTime' ? 'LogAppendTime' : 'CreateTime';
}
