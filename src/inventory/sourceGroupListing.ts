/**
 * The consumer groups of a cluster of any release 0.9+, with what each has committed where ListGroups and OffsetFetch
 * cannot tell by themselves (see offsetsTopicScan.ts): brokers before 0.10.1 do not list groups without members,
 * brokers before 2.1 list groups only for a principal with Describe on the Cluster (which 0.10's kafka-acls can grant
 * only as `--operation All --cluster`), and OffsetFetch before v3 returns no offsets unless the topics are named.
 * The groups committed in `__consumer_offsets` are then added (the principal needs Read on that topic, which a
 * `--topic '*'` grant includes), and each one's committed topics are kept for the OffsetFetch.
 */
import type { Admin } from 'kafkajs';
import type { ClusterConnection } from '../config/spec';
import { createKafka, type ClusterRole } from '../kafka/clients';
import { isAuthorizationError } from '../kafka/errors';
import { apiKeys, createInternalCluster, type InternalCluster } from '../copy/kafkaInternals';
import { OFFSETS_TOPIC, scanCommittedOffsets } from './offsetsTopicScan';

/** kafkajs' JoinGroup key (11): v1 arrived in 0.10.1, together with groups that outlive their members (state Empty). */
const JOIN_GROUP = 11;

export interface GroupListing {
  groups: { groupId: string; protocolType: string }[];
  /**
   * Set when OffsetFetch must name the topics (a broker before 0.11): each group's topics with a committed offset,
   * from `__consumer_offsets`. Without it, `admin.fetchOffsets({ groupId })` returns every committed offset.
   */
  committedTopics?: Map<string, string[]>;
  /** Groups the broker did not list but that have committed offsets (members gone, on a broker before 0.10.1). */
  unlisted: string[];
  /** What the broker could not answer and how the listing made up for it, for the reports. */
  notes: string[];
}

function authorizationType(e: unknown): string | undefined {
  for (let cur = e as { type?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; cur && depth < 5; depth++) {
    if (isAuthorizationError(cur)) return cur.type;
    cur = (cur.cause ?? cur.originalError) as typeof cur;
  }
  return undefined;
}

async function brokerVersions(cluster: InternalCluster, admin: Admin): Promise<{ joinGroup: number; offsetFetch: number }> {
  const { brokers } = await admin.describeCluster();
  await cluster.refreshMetadata(); // findBroker fails (after refreshing) for a broker not in the metadata yet
  const broker = await cluster.findBroker({ nodeId: brokers[0].nodeId });
  return { joinGroup: broker.versions?.[JOIN_GROUP]?.maxVersion ?? 0, offsetFetch: broker.versions?.[apiKeys.OffsetFetch]?.maxVersion ?? 0 };
}

/** Every group of the cluster (the caller's admin, connected), old releases included. */
export async function listGroupsOfAnyRelease(conn: ClusterConnection, role: ClusterRole, admin: Admin): Promise<GroupListing> {
  const notes: string[] = [];
  let listed: { groupId: string; protocolType: string }[] = [];
  let denied: string | undefined;
  try {
    listed = (await admin.listGroups()).groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType }));
  } catch (e) {
    denied = authorizationType(e);
    if (!denied) throw e;
  }
  const cluster = createInternalCluster(createKafka(conn, role, { clientIdSuffix: 'groups' }));
  try {
    await cluster.connect();
    const versions = await brokerVersions(cluster, admin);
    const forgetsEmptyGroups = versions.joinGroup < 1;
    const namesTopics = versions.offsetFetch < 3;
    if (!denied && !forgetsEmptyGroups && !namesTopics) return { groups: listed, unlisted: [], notes };
    let committed;
    try {
      committed = await scanCommittedOffsets(cluster, admin, role);
    } catch (e) {
      if (denied) throw new Error(`${denied} for ListGroups, and ${OFFSETS_TOPIC} could not be read instead: ${(e as Error).message}`);
      throw e;
    }
    if (denied) {
      notes.push(
        `ListGroups refused (${denied}: before Kafka 2.1 it needs Describe on the Cluster resource; Kafka 0.10's kafka-acls grants that only as --operation All --cluster); the groups with committed offsets were read from ${OFFSETS_TOPIC} instead`,
      );
    }
    const known = new Set(listed.map((g) => g.groupId));
    const unlisted = [...committed.keys()].filter((g) => !known.has(g)).sort();
    if (unlisted.length && !denied)
      notes.push(`${unlisted.length} group(s) with committed offsets but no member are not listed by brokers before 0.10.1: found in ${OFFSETS_TOPIC}`);
    const groups = [...listed, ...unlisted.map((groupId) => ({ groupId, protocolType: '' }))];
    const committedTopics = namesTopics ? new Map([...committed].map(([g, byTopic]) => [g, [...byTopic.keys()].sort()])) : undefined;
    return { groups, committedTopics, unlisted, notes };
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}

/** A group's committed offsets: every topic, or the listing's topics of the group when the broker needs them named. */
export async function fetchGroupOffsets(
  admin: Admin,
  listing: Pick<GroupListing, 'committedTopics'>,
  groupId: string,
): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]> {
  if (!listing.committedTopics) return admin.fetchOffsets({ groupId });
  const topics = listing.committedTopics.get(groupId) ?? [];
  return topics.length ? admin.fetchOffsets({ groupId, topics }) : [];
}
