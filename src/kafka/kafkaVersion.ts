/**
 * Infers the Kafka release of a broker from its ApiVersions answer. Pure data and functions.
 *
 * Each release is recognised by an API version it introduced on the client listener (present on ZooKeeper
 * and KRaft brokers alike): e.g. Fetch v13 arrived in 3.1, DescribeCluster (key 60) in 2.8. 3.3 and 3.4
 * expose identical client APIs; they differ in the `metadata.version` feature level a KRaft broker supports
 * (ApiVersions v3) or, on a ZooKeeper broker, in the inter-broker LeaderAndIsr version. A release newer
 * than the table shows up as an API version beyond the newest known release.
 */
import type { ApiVersionTable, FeatureTable } from './apiVersions';

export interface KafkaVersionGuess {
  /** Oldest and newest release consistent with the answer ("major.minor", "0.10.x" releases keep 3 parts). */
  min: string;
  max: string;
  /** "3.4", "3.3–3.4" when ambiguous, "4.1 or newer" beyond the table, "0.9 or older" without ApiVersions. */
  label: string;
  /** The API (or feature) versions the guess rests on. */
  basis: string[];
}

export const API = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  LeaderAndIsr: 4,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  DescribeGroups: 15,
  ListGroups: 16,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  AddPartitionsToTxn: 24,
  DescribeAcls: 29,
  DescribeConfigs: 32,
  CreatePartitions: 37,
} as const;

const API_NAMES: Record<number, string> = Object.fromEntries(Object.entries(API).map(([name, key]) => [key, name]));

export function apiName(key: number): string {
  return API_NAMES[key] ?? `ApiKey${key}`;
}

type Evidence = { apis: ApiVersionTable; features?: FeatureTable };
/** true: the release's marker is there; false: it is not; undefined: the answer cannot tell. */
type Marker = { describe: string; test: (e: Evidence) => boolean | undefined };

const maxOf = (apis: ApiVersionTable, key: number) => apis[key]?.[1] ?? -1;

function apiAtLeast(key: number, version: number): Marker {
  return { describe: `${apiName(key)} v${version}`, test: (e) => maxOf(e.apis, key) >= version };
}

/** 3.4: KRaft metadata.version 8 (3.4-IV0), or ZooKeeper-mode LeaderAndIsr v7; unknowable otherwise. */
const release34: Marker = {
  describe: 'metadata.version 8 (3.4-IV0) or LeaderAndIsr v7',
  test: (e) => {
    const mv = e.features?.['metadata.version'];
    if (mv) return mv[1] >= 8;
    if (e.apis[API.LeaderAndIsr]) return maxOf(e.apis, API.LeaderAndIsr) >= 7;
    return undefined;
  },
};

/** Releases in order, each with the marker that first appeared in it. */
export const KAFKA_RELEASES: { version: string; marker: Marker }[] = [
  { version: '0.10.0', marker: { describe: 'ApiVersions', test: (e) => e.apis[API.ApiVersions] !== undefined } },
  { version: '0.10.1', marker: apiAtLeast(API.Metadata, 2) },
  { version: '0.10.2', marker: apiAtLeast(API.CreateTopics, 1) },
  { version: '0.11', marker: apiAtLeast(API.Produce, 3) },
  { version: '1.0', marker: apiAtLeast(API.Metadata, 5) },
  { version: '1.1', marker: apiAtLeast(API.Fetch, 7) },
  { version: '2.0', marker: apiAtLeast(API.Fetch, 8) },
  { version: '2.1', marker: apiAtLeast(API.Fetch, 10) },
  { version: '2.2', marker: apiAtLeast(API.ListOffsets, 5) },
  { version: '2.3', marker: apiAtLeast(API.Fetch, 11) },
  { version: '2.4', marker: apiAtLeast(API.Produce, 8) },
  { version: '2.5', marker: apiAtLeast(API.JoinGroup, 7) },
  { version: '2.6', marker: apiAtLeast(API.ListGroups, 4) },
  { version: '2.7', marker: apiAtLeast(API.CreateTopics, 6) },
  { version: '2.8', marker: apiAtLeast(API.Produce, 9) },
  { version: '3.0', marker: apiAtLeast(API.ListOffsets, 7) },
  { version: '3.1', marker: apiAtLeast(API.Fetch, 13) },
  { version: '3.2', marker: apiAtLeast(API.JoinGroup, 9) },
  { version: '3.3', marker: apiAtLeast(API.DescribeAcls, 3) },
  { version: '3.4', marker: release34 },
  { version: '3.5', marker: apiAtLeast(API.Fetch, 15) },
  { version: '3.6', marker: apiAtLeast(API.AddPartitionsToTxn, 4) },
  { version: '3.7', marker: apiAtLeast(API.Fetch, 16) },
  { version: '3.8', marker: apiAtLeast(API.Produce, 11) },
  { version: '3.9', marker: apiAtLeast(API.Fetch, 17) },
  { version: '4.0', marker: apiAtLeast(API.Produce, 12) },
];

/** Highest versions of the newest release in the table: anything above means a newer release. */
const NEWEST_KNOWN_MAX: Partial<Record<number, number>> = {
  [API.Produce]: 12,
  [API.Fetch]: 17,
  [API.ListOffsets]: 10,
  [API.Metadata]: 13,
  [API.OffsetCommit]: 9,
  [API.OffsetFetch]: 9,
  [API.DescribeGroups]: 6,
};

/**
 * Kafka 0.9.0's client APIs [min, max] (librdkafka's table for broker.version.fallback=0.9.0): what clients use with
 * a broker that answers no ApiVersions (src/copy/kafkaInternals.ts) and what preflight judges it by.
 */
export const KAFKA_0_9_APIS: Readonly<ApiVersionTable> = Object.freeze({
  [API.Produce]: [0, 1],
  [API.Fetch]: [0, 1],
  [API.ListOffsets]: [0, 0],
  [API.Metadata]: [0, 0],
  [API.OffsetCommit]: [0, 2],
  [API.OffsetFetch]: [0, 1],
  [API.FindCoordinator]: [0, 0],
  [API.JoinGroup]: [0, 0],
  [API.Heartbeat]: [0, 0],
  [API.LeaveGroup]: [0, 0],
  [API.SyncGroup]: [0, 0],
  [API.DescribeGroups]: [0, 0],
  [API.ListGroups]: [0, 0],
} satisfies ApiVersionTable);

/** A broker that answers ListGroups v0 (0.9.0+) but no ApiVersions (0.10.0+). */
export const KAFKA_0_9_GUESS: KafkaVersionGuess = {
  min: '0.9',
  max: '0.9',
  label: '0.9',
  basis: ['no ApiVersions (added in 0.10.0)', 'answers ListGroups v0 (added in 0.9.0)'],
};

/** What to say about a broker that closed the connection instead of answering ApiVersions. */
export const PRE_API_VERSIONS_GUESS: KafkaVersionGuess = {
  min: '0.8',
  max: '0.9',
  label: '0.9 or older',
  basis: ['no ApiVersions support (added in 0.10.0)'],
};

function nextRelease(version: string): string {
  const [major, minor] = version.split('.').map(Number);
  return `${major}.${minor + 1}`;
}

/** Maps an ApiVersions answer (and, when known, supported feature levels) to the Kafka release(s) it fits. */
export function inferKafkaVersion(apis: ApiVersionTable, supportedFeatures?: FeatureTable): KafkaVersionGuess {
  const evidence: Evidence = { apis, features: supportedFeatures && Object.keys(supportedFeatures).length ? supportedFeatures : undefined };
  let minIndex = -1;
  KAFKA_RELEASES.forEach((r, i) => {
    if (r.marker.test(evidence) === true) minIndex = i;
  });
  if (minIndex < 0) return { ...PRE_API_VERSIONS_GUESS, basis: ['no ApiVersions entry in the answer'] };
  const basis = [KAFKA_RELEASES[minIndex].marker.describe];
  let maxIndex = minIndex;
  while (maxIndex + 1 < KAFKA_RELEASES.length && KAFKA_RELEASES[maxIndex + 1].marker.test(evidence) === undefined) {
    maxIndex++;
    basis.push(`cannot tell ${KAFKA_RELEASES[maxIndex].version} (${KAFKA_RELEASES[maxIndex].marker.describe}) from the answer`);
  }
  const min = KAFKA_RELEASES[minIndex].version;
  const max = KAFKA_RELEASES[maxIndex].version;
  if (maxIndex === KAFKA_RELEASES.length - 1) {
    const beyond = Object.entries(NEWEST_KNOWN_MAX).filter(([key, v]) => maxOf(apis, Number(key)) > (v as number));
    if (beyond.length) {
      const newer = nextRelease(max);
      return {
        min: newer,
        max: newer,
        label: `${newer} or newer`,
        basis: beyond.map(([key, v]) => `${apiName(Number(key))} v${maxOf(apis, Number(key))} (newest known release ${max} has v${v})`),
      };
    }
  }
  return { min, max, label: min === max ? min : `${min}–${max}`, basis };
}

/** "0.10.2" -> "0.10", "3.4.1" -> "3.4": versions are compared on major.minor. */
export function majorMinor(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}
