/**
 * Target state: a target that is the source itself (same cluster id or shared broker addresses), in-scope
 * topics that already exist on the target (judged by existingTopicPolicy, unless this migration's offset store
 * records them as its own: a resumed migration meets its own copies), topic configs the target profile
 * rejects (they will be dropped), and the target's partition and replication limits.
 */
import { ConfigResourceTypes, type Admin } from 'kafkajs';
import { unlessUnsupported } from '../../kafka/optionalApis';
import { effectiveProfile } from '../../config/profiles';
import type { CheckResult, Verdict } from '../../types/preflight';
import { sameClusterFault, type ClusterIdentity } from '../../kafka/sameCluster';
import { ownedTopics } from '../../copy/ownedTopics';
import { toKafkaFailure } from '../../kafka/errors';
import { inScopeTopics, onCluster, result, worstVerdict, type CheckInput } from './common';

const ID = 'target-state';
const TITLE = 'State of the target cluster';

/** Topic configs set on the topic itself (not broker defaults), by topic. */
async function topicOverrides(admin: Admin, topics: string[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  for (let i = 0; i < topics.length; i += 100) {
    // A source before 0.11 has no DescribeConfigs: its overrides are unknown (none compared).
    const res = await unlessUnsupported(
      () => admin.describeConfigs({ resources: topics.slice(i, i + 100).map((name) => ({ type: ConfigResourceTypes.TOPIC, name })), includeSynonyms: false }),
      { resources: [], throttleTime: 0 },
    );
    for (const r of res.resources) {
      out.set(
        r.resourceName,
        Object.fromEntries(r.configEntries.filter((c) => !c.isDefault && c.configSource === 1).map((c) => [c.configName, c.configValue])),
      );
    }
  }
  return out;
}

/** The cluster id and advertised brokers of the cluster an admin client talks to. */
async function identityOf(admin: Admin, bootstrapServers: string[]): Promise<ClusterIdentity> {
  const cluster = await admin.describeCluster();
  return { clusterId: cluster.clusterId, bootstrapServers, brokers: cluster.brokers.map((b) => ({ host: b.host, port: b.port })) };
}

/** Activity: what on the target would collide with the migration, and what it will not accept. */
export async function checkTargetState(input: CheckInput): Promise<CheckResult> {
  const { spec } = input;
  const profile = effectiveProfile(spec.target);
  const policy = spec.target.existingTopicPolicy;

  const source = await onCluster(spec, 'source', 'checkTargetState', async (admin) => {
    const topics = await inScopeTopics(spec, admin);
    const meta = topics.length ? (await admin.fetchTopicMetadata({ topics })).topics : [];
    return {
      identity: await identityOf(admin, spec.source.bootstrapServers),
      topics,
      partitions: new Map(meta.map((t) => [t.name, t.partitions.length])),
      replication: new Map(meta.map((t) => [t.name, t.partitions[0]?.replicas.length ?? 0])),
      configs: await topicOverrides(admin, topics),
    };
  });

  const target = await onCluster(spec, 'target', 'checkTargetState', async (admin) => {
    const identity = await identityOf(admin, spec.target.bootstrapServers);
    const brokers = identity.brokers.length;
    const names = (await admin.listTopics()).filter((t) => !t.startsWith('__'));
    const meta = names.length ? (await admin.fetchTopicMetadata({ topics: names })).topics : [];
    const inScope = new Set(source.topics);
    const existing = [];
    for (const t of meta.filter((m) => inScope.has(m.name))) {
      const offsets = await admin.fetchTopicOffsets(t.name);
      const records = offsets.reduce((n, p) => n + (Number(p.high) - Number(p.low)), 0);
      existing.push({ topic: t.name, partitions: t.partitions.length, sourcePartitions: source.partitions.get(t.name) ?? 0, records });
    }
    return {
      identity,
      brokers,
      totalPartitions: meta.reduce((n, t) => n + t.partitions.length, 0),
      existing: existing.sort((a, b) => a.topic.localeCompare(b.topic)),
    };
  });

  // The source itself as the target: its topics would look "already there" (and be adopted), not copied.
  // Every other finding below would only echo that, so this one stands alone.
  const sameCluster = sameClusterFault(source.identity, target.identity);
  if (sameCluster) {
    const evidence = { clusterIds: { source: source.identity.clusterId, target: target.identity.clusterId }, source: source.identity, target: target.identity };
    return result(ID, TITLE, 'fail', sameCluster, evidence, 'set target.bootstrapServers to the brokers of the cluster to migrate to');
  }

  const problems: { verdict: Verdict; text: string; fix: string }[] = [];

  // Topics already on the target; those this migration created or adopted are its own (resume continues them).
  let owned: Awaited<ReturnType<typeof ownedTopics>>;
  try {
    owned = await ownedTopics(
      spec.target,
      spec.name,
      target.existing.map((e) => e.topic),
    );
  } catch (e) {
    throw toKafkaFailure(e, spec.target, 'target', 'checkTargetState');
  }
  const ownTopics = target.existing.filter((e) => owned.has(e.topic)).map((e) => ({ ...e, ownership: owned.get(e.topic)! }));
  for (const e of target.existing.filter((x) => !owned.has(x.topic))) {
    if (e.partitions > e.sourcePartitions) {
      problems.push({
        verdict: 'fail',
        text: `${e.topic} exists on the target with ${e.partitions} partitions, more than the source's ${e.sourcePartitions}`,
        fix: `delete ${e.topic} on the target (partitions map one to one and cannot be removed)`,
      });
    } else if (policy === 'fail') {
      problems.push({
        verdict: 'fail',
        text: `${e.topic} already exists on the target (${e.records} records)`,
        fix: `delete ${e.topic} on the target${e.records === 0 ? ', or set target.existingTopicPolicy: adopt-if-empty to reuse the empty topic' : ''}`,
      });
    } else if (e.partitions !== e.sourcePartitions) {
      // createTargetTopics refuses to adopt it: offsets and keys must map partition for partition.
      problems.push({
        verdict: 'fail',
        text: `${e.topic} exists on the target with ${e.partitions} partitions, the source has ${e.sourcePartitions}: it cannot be adopted`,
        fix: `delete ${e.topic} on the target, or give it ${e.sourcePartitions} partitions`,
      });
    } else if (e.records > 0) {
      problems.push({
        verdict: 'fail',
        text: `${e.topic} already exists on the target and holds ${e.records} records`,
        fix: `delete ${e.topic} on the target or empty it: only an empty topic can be adopted`,
      });
    } else {
      problems.push({
        verdict: 'warn',
        text: `${e.topic} already exists on the target, empty: it will be adopted`,
        fix: 'check that nothing writes to it before cutover',
      });
    }
  }

  // Topic configs the profile does not accept.
  const rejected = source.topics.flatMap((t) =>
    Object.entries(source.configs.get(t) ?? {})
      .filter(([k]) => profile.unsupportedTopicConfigs.includes(k))
      .map(([k, v]) => ({ topic: t, config: k, value: v })),
  );
  if (rejected.length) {
    problems.push({
      verdict: 'warn',
      text: `${rejected.length} topic config(s) the ${profile.name} target does not accept will be dropped: ${rejected.map((r) => `${r.topic}: ${r.config}=${r.value}`).join(', ')}`,
      fix: 'check that no application relies on them (they configure replication throttles, tiered storage or legacy formats that the target handles itself)',
    });
  }

  // Partition and replication limits.
  const newPartitions = source.topics.filter((t) => !target.existing.some((e) => e.topic === t)).reduce((n, t) => n + (source.partitions.get(t) ?? 0), 0);
  const after = target.totalPartitions + newPartitions;
  if (after > spec.target.capacity.maxPartitions) {
    problems.push({
      verdict: 'fail',
      text: `the target would hold ${after} partitions (${target.totalPartitions} now + ${newPartitions} new), over its limit of ${spec.target.capacity.maxPartitions}`,
      fix: "raise the target's partition limit (and target.capacity.maxPartitions) or narrow spec.scope",
    });
  }
  const rf = spec.target.replicationFactor;
  if (rf !== undefined && rf > target.brokers) {
    problems.push({
      verdict: 'fail',
      text: `target.replicationFactor ${rf} exceeds the target's ${target.brokers} broker(s)`,
      fix: `set target.replicationFactor to at most ${target.brokers}`,
    });
  }

  const verdict = worstVerdict(problems.map((p) => p.verdict));
  const evidence = {
    clusterIds: { source: source.identity.clusterId, target: target.identity.clusterId },
    existingTopicPolicy: policy,
    existingTopics: target.existing.filter((e) => !owned.has(e.topic)),
    ownTopics,
    rejectedConfigs: rejected,
    unsupportedTopicConfigs: profile.unsupportedTopicConfigs,
    partitions: { onTargetNow: target.totalPartitions, newFromScope: newPartitions, after, limit: spec.target.capacity.maxPartitions },
    targetBrokers: target.brokers,
    ...(rf !== undefined ? { replicationFactor: rf } : {}),
  };
  const own = ownTopics.length
    ? `; ${ownTopics.length} in-scope topic(s) on the target are this migration's own copies (${ownTopics.map((e) => `${e.topic}: ${e.ownership.action}`).join(', ')}) and will be continued`
    : '';
  const summary =
    problems.length === 0
      ? `no other in-scope topic exists on the target; no rejected configs; ${after} of ${spec.target.capacity.maxPartitions} partitions after the migration${own}`
      : problems.map((p) => p.text).join('; ') + own;
  return result(ID, TITLE, verdict, summary, evidence, problems.length ? problems.map((p) => p.fix).join('; ') : undefined);
}
