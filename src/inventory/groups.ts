/**
 * Reads every consumer group: state, protocol, members (client ids, hosts, subscriptions and assignments
 * decoded from the consumer protocol) and committed offsets (one OffsetFetch per group for all its topics).
 */
import { AssignerProtocol, type Admin, type GroupDescription } from 'kafkajs';
import type { ClusterConnection } from '../config/spec';
import { withAdmin } from '../kafka/clients';
import type { GroupMemberInventory } from '../types/inventory';
import type { RawGroup } from './assemble';
import { chunk, mapLimit, retryRetriable } from './concurrency';
import type { ProgressFn } from './progress';
import { compareNames } from '../plan/compare';
import { fetchGroupOffsets, listGroupsOfAnyRelease, type GroupListing } from './sourceGroupListing';

const GROUPS_PER_DESCRIBE = 50;
const OFFSET_FETCHES_IN_PARALLEL = 8;

export async function collectGroups(conn: ClusterConnection, skip: (groupId: string) => boolean, progress: ProgressFn): Promise<RawGroup[]> {
  return withAdmin(
    conn,
    'source',
    async (admin) => {
      // Old releases: groups without members and the topics to name in OffsetFetch come from __consumer_offsets.
      const listing = await retryRetriable(() => listGroupsOfAnyRelease(conn, 'source', admin));
      for (const note of listing.notes) progress('groups-note', { note });
      const unlisted = new Set(listing.unlisted);
      const ids = listing.groups
        .map((g) => g.groupId)
        .filter((id) => !skip(id))
        .sort();
      progress('groups-listed', { groups: ids.length });
      const described = (await mapLimit(chunk(ids, GROUPS_PER_DESCRIBE), 2, (batch) => retryRetriable(() => admin.describeGroups(batch)))).flatMap(
        (r) => r.groups,
      );
      // Dead: deleted since the listing; or, for a group found in __consumer_offsets, forgotten by a pre-0.10.1 broker
      // once its members left (its offsets stay): that is what newer brokers call Empty.
      const live = described
        .filter((g) => g.state !== 'Dead' || unlisted.has(g.groupId))
        .map((g) => (g.state === 'Dead' ? { ...g, state: 'Empty' as const } : g));
      let done = 0;
      return mapLimit(live, OFFSET_FETCHES_IN_PARALLEL, async (g) => {
        const committed = await fetchCommitted(admin, listing, g.groupId);
        if (++done % 100 === 0) progress('group-offsets', { groups: done, of: live.length });
        return {
          groupId: g.groupId,
          state: g.state,
          protocolType: g.protocolType,
          protocol: g.protocol,
          members: g.members.map((m) => decodeMember(g, m)).sort((a, b) => compareNames(a.memberId, b.memberId)),
          committed,
        };
      });
    },
    { clientIdSuffix: 'inventory' },
  );
}

async function fetchCommitted(admin: Admin, listing: GroupListing, groupId: string): Promise<RawGroup['committed']> {
  const topics = await retryRetriable(() => fetchGroupOffsets(admin, listing, groupId));
  return topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: Number(p.offset) })));
}

/** Subscriptions and assignments are only readable for the `consumer` protocol; other groups keep ids and hosts. */
function decodeMember(group: GroupDescription, m: GroupDescription['members'][number]): GroupMemberInventory {
  const member: GroupMemberInventory = { memberId: m.memberId, clientId: m.clientId, host: m.clientHost.replace(/^\//, ''), subscription: [], assignment: [] };
  if (group.protocolType !== 'consumer') return member;
  try {
    const metadata = m.memberMetadata?.length ? AssignerProtocol.MemberMetadata.decode(m.memberMetadata) : null;
    member.subscription = [...(metadata?.topics ?? [])].sort();
  } catch {
    // A subscription in a newer format than kafkajs knows: ids and hosts are still useful.
  }
  try {
    const assignment = m.memberAssignment?.length ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
    member.assignment = Object.entries(assignment?.assignment ?? {})
      .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }))
      .sort((a, b) => compareNames(a.topic, b.topic));
  } catch {
    // Same as above.
  }
  return member;
}
