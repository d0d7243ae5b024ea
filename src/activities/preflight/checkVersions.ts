/**
 * Versions: the release of every broker of both clusters, inferred from its ApiVersions answer.
 * The source must be in the profile's supported range (compared on major.minor). The target is judged
 * on what the migration needs from it (the APIs it calls and its consumers will call), its release
 * being reported: AutoMQ speaks the Kafka protocol under its own release numbers.
 */
import { effectiveProfile, compareVersions, type TargetProfile } from '../../config/profiles';
import type { ApiVersionTable } from '../../kafka/apiVersions';
import type { ClusterRole } from '../../kafka/clients';
import { apiName, API, inferKafkaVersion, KAFKA_0_9_GUESS, majorMinor, PRE_API_VERSIONS_GUESS, type KafkaVersionGuess } from '../../kafka/kafkaVersion';
import type { CheckResult, Verdict } from '../../types/preflight';
import { advertisedBrokers, endpointName, probeEndpoints } from './brokers';
import { connectionOf, inScopeTopics, onCluster, result, worstVerdict, type CheckInput } from './common';
import { sampleRecordFormats, type TopicRecordFormats } from './recordFormats';

const ID = 'versions';
const TITLE = 'Kafka versions';

/**
 * APIs (and the lowest version) the migration calls on the source: metadata, reads, offsets, groups. Kafka 0.9 has
 * them all (Fetch v0-v3 and message formats v0/v1 are read as well as v4+ and v2 batches).
 */
export const SOURCE_REQUIRED_APIS: [number, number][] = [
  [API.Metadata, 0],
  [API.Fetch, 0],
  [API.ListOffsets, 0],
  [API.OffsetFetch, 1],
  [API.FindCoordinator, 0],
  [API.DescribeGroups, 0],
  [API.ListGroups, 0],
];

/** Source APIs whose absence (before Kafka 0.11) only narrows what the migration can know: reported, never failed. */
export const SOURCE_OPTIONAL_APIS: { api: [number, number]; without: string }[] = [
  { api: [API.DescribeConfigs, 0], without: 'topic configs cannot be read: target topics get the profile defaults, no copied overrides' },
  { api: [API.DescribeAcls, 0], without: 'ACLs cannot be listed (they live in ZooKeeper only)' },
];

/**
 * APIs the target must offer: record batches v2 (Produce v3+, keeps headers and timestamps), topic
 * creation and partition growth, configs, offset commits, and the group APIs of the migrated consumers.
 */
export const TARGET_REQUIRED_APIS: [number, number][] = [
  [API.Metadata, 1],
  [API.Produce, 3],
  [API.Fetch, 4],
  [API.ListOffsets, 1],
  [API.CreateTopics, 0],
  [API.CreatePartitions, 0],
  [API.DescribeConfigs, 0],
  [API.OffsetCommit, 2],
  [API.OffsetFetch, 1],
  [API.FindCoordinator, 0],
  [API.JoinGroup, 0],
  [API.SyncGroup, 0],
  [API.Heartbeat, 0],
  [API.LeaveGroup, 0],
  [API.DescribeGroups, 0],
  [API.ListGroups, 0],
];

export function missingApis(apis: ApiVersionTable, required: [number, number][]): string[] {
  return required.filter(([key, version]) => (apis[key]?.[1] ?? -1) < version).map(([key, version]) => `${apiName(key)} v${version}+`);
}

/** pass: the whole inferred range is supported; fail: none of it; warn: the answer cannot tell. */
export function judgeRange(guess: KafkaVersionGuess, range: TargetProfile['supportedVersions']): Verdict {
  const lo = majorMinor(range.min);
  const hi = majorMinor(range.max);
  const from = majorMinor(guess.min);
  const to = majorMinor(guess.max);
  if (compareVersions(from, lo) >= 0 && compareVersions(to, hi) <= 0) return 'pass';
  if (compareVersions(from, hi) > 0 || compareVersions(to, lo) < 0) return 'fail';
  return 'warn';
}

interface BrokerVersion {
  broker: string;
  version?: string;
  min?: string;
  max?: string;
  basis?: string[];
  metadataVersion?: { supported: [number, number]; finalized?: [number, number] };
  missingApis?: string[];
  /** Optional APIs the source broker lacks, with what that means. */
  unavailableApis?: string[];
  /** The verdict of the release range alone: the range advice is given only when this is not a pass. */
  rangeVerdict?: Verdict;
  verdict: Verdict;
  problem?: string;
}

async function clusterVersions(
  input: CheckInput,
  role: ClusterRole,
  profile: TargetProfile,
): Promise<{ brokers: BrokerVersion[]; verdict: Verdict; clusterId: string }> {
  const conn = connectionOf(input.spec, role);
  const { clusterId, brokers } = await advertisedBrokers(input.spec, role, 'checkVersions');
  const probes = await probeEndpoints(conn, brokers);
  const out = probes.map((p): BrokerVersion => {
    const broker = endpointName(p.endpoint);
    if (!p.ok) {
      if (p.stage === 'closed') {
        // No answer to ApiVersions at all: a broker older than 0.10.
        const g = PRE_API_VERSIONS_GUESS;
        const verdict = role === 'source' ? judgeRange(g, profile.supportedVersions) : 'fail';
        return { broker, version: g.label, min: g.min, max: g.max, basis: g.basis, rangeVerdict: verdict, verdict, problem: p.error };
      }
      return { broker, verdict: 'warn', problem: `version unknown, the broker did not answer: ${p.error} (see the reachability check)` };
    }
    const guess = p.preApiVersions ? KAFKA_0_9_GUESS : inferKafkaVersion(p.apis, p.supportedFeatures);
    const missing = missingApis(p.apis, role === 'source' ? SOURCE_REQUIRED_APIS : TARGET_REQUIRED_APIS);
    const unavailable =
      role === 'source'
        ? SOURCE_OPTIONAL_APIS.filter((o) => missingApis(p.apis, [o.api]).length).map((o) => `${missingApis(p.apis, [o.api])[0]}: ${o.without}`)
        : [];
    const rangeVerdict: Verdict = role === 'source' ? judgeRange(guess, profile.supportedVersions) : 'pass';
    const mv = p.supportedFeatures?.['metadata.version'];
    return {
      broker,
      version: guess.label,
      min: guess.min,
      max: guess.max,
      basis: guess.basis,
      ...(mv ? { metadataVersion: { supported: mv, finalized: p.finalizedFeatures?.['metadata.version'] } } : {}),
      ...(missing.length ? { missingApis: missing } : {}),
      ...(unavailable.length ? { unavailableApis: unavailable } : {}),
      rangeVerdict,
      verdict: missing.length ? 'fail' : rangeVerdict,
    };
  });
  const labels = new Set(out.map((b) => b.version).filter(Boolean));
  // Brokers on different releases: a rolling upgrade in progress, or a forgotten broker.
  const mixed: Verdict = labels.size > 1 ? 'warn' : 'pass';
  return { brokers: out, verdict: worstVerdict([mixed, ...out.map((b) => b.verdict)]), clusterId };
}

/** Activity: broker versions of both clusters against the target profile. */
export async function checkVersions(input: CheckInput): Promise<CheckResult> {
  const profile = effectiveProfile(input.spec.target);
  const range = profile.supportedVersions;
  const [source, target] = await Promise.all([clusterVersions(input, 'source', profile), clusterVersions(input, 'target', profile)]);
  // Informational: old formats are copied like v2 (see src/activities/preflight/recordFormats.ts).
  const recordFormats: TopicRecordFormats[] | { error: string } = await onCluster(input.spec, 'source', 'checkVersions', async (admin) =>
    sampleRecordFormats(input.spec, admin, await inScopeTopics(input.spec, admin)),
  ).catch((e: Error) => ({ error: e.message }));
  const oldFormats = Array.isArray(recordFormats) ? recordFormats.filter((t) => t.formats.some((f) => f !== 'v2')) : [];
  const versions = (bs: BrokerVersion[]) => [...new Set(bs.map((b) => b.version ?? 'unknown'))].join(', ');
  const evidence = {
    profile: { name: profile.name, supportedVersions: range },
    source: { clusterId: source.clusterId, version: versions(source.brokers), brokers: source.brokers, recordFormats },
    target: {
      clusterId: target.clusterId,
      version: versions(target.brokers),
      brokers: target.brokers,
      judgedOn: 'the APIs the migration and the migrated clients use (the target reports its own release numbers)',
    },
  };
  const verdict = worstVerdict([source.verdict, target.verdict]);
  const problems: string[] = [];
  for (const [role, c] of [
    ['source', source],
    ['target', target],
  ] as const) {
    for (const b of c.brokers) {
      if (b.missingApis) problems.push(`${role} broker ${b.broker} lacks ${b.missingApis.join(', ')}`);
      else if (b.problem) problems.push(`${role} broker ${b.broker}: ${b.problem}`);
      else if (role === 'source' && b.verdict === 'fail') problems.push(`source broker ${b.broker} runs ${b.version}, outside ${range.min}–${range.max}`);
      else if (role === 'source' && b.verdict === 'warn')
        problems.push(`source broker ${b.broker} runs ${b.version}: cannot tell whether it is inside ${range.min}–${range.max}`);
    }
    if (new Set(c.brokers.map((b) => b.version).filter(Boolean)).size > 1) problems.push(`${role} brokers run different releases (${versions(c.brokers)})`);
  }
  const unavailable = [...new Set(source.brokers.flatMap((b) => b.unavailableApis ?? []))];
  const outOfRange = source.brokers.some((b) => b.rangeVerdict !== undefined && b.rangeVerdict !== 'pass');
  const summary =
    `source ${evidence.source.version}, target ${evidence.target.version}; profile ${profile.name} supports ${range.min}–${range.max}` +
    (problems.length ? `: ${problems.join('; ')}` : '') +
    (unavailable.length ? `; the source cannot answer ${unavailable.join('; ')}` : '') +
    (oldFormats.length
      ? `; record formats before v2 (copied as v2; v0 has no timestamps, v0/v1 no headers): ${oldFormats
          .slice(0, 20)
          .map((t) => `${t.topic} ${t.formats.join('+')}`)
          .join(', ')}${oldFormats.length > 20 ? ` and ${oldFormats.length - 20} more` : ''}`
      : '');
  const remediation =
    verdict === 'pass'
      ? undefined
      : [
          outOfRange
            ? `The ${profile.name} profile supports source clusters ${range.min}–${range.max}: upgrade or downgrade the source brokers into that range before migrating, or, if you have verified compatibility, set target.profileOverrides.supportedVersions.`
            : source.verdict !== 'pass'
              ? 'The source brokers lack APIs the migration needs (listed above): upgrade those brokers to a release that has them.'
              : '',
          target.verdict !== 'pass'
            ? 'Point target.bootstrapServers at a Kafka-compatible cluster that offers the listed APIs (record format v2 needs Produce v3+, i.e. Kafka 0.11 or later).'
            : '',
          problems.some((p) => p.includes('different releases')) ? 'Finish the rolling upgrade so that every broker runs the same release.' : '',
        ]
          .filter(Boolean)
          .join(' ');
  return result(ID, TITLE, verdict, summary, evidence, remediation);
}
