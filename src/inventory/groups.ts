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

const GROUPS_PER_DESCRIBE = 50;
const OFFSET_FETCHES_IN_PARALLEL = 8;

export async function collectGroups(conn: ClusterConnection, skip: (groupId: string) => boolean, progress: ProgressFn): Promise<RawGroup[]> {
  return withAdmin(
    conn,
    'source',
    async (admin) => {
      const { groups } = await retryRetriable(() => admin.listGroups());
      const ids = groups
        .map((g) => g.groupId)
        .filter((id) => !skip(id))
        .sort();
      progress('groups-listed', { groups: ids.length });
      const described = (await mapLimit(chunk(ids, GROUPS_PER_DESCRIBE), 2, (batch) => retryRetriable(() => admin.describeGroups(batch)))).flatMap(
        (r) => r.groups,
      );
      const live = described.filter((g) => g.state !== 'Dead'); // deleted since the listing
      let done = 0;
      return mapLimit(live, OFFSET_FETCHES_IN_PARALLEL, async (g) => {
        const committed = await fetchCommitted(admin, g.groupId);
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

async function fetchCommitted(admin: Admin, groupId: string): Promise<RawGroup['committed']> {
  const topics = await retryRetriable(() => admin.fetchOffsets({ groupId }));
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
