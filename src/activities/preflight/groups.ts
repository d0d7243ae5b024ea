/** Consumer groups of the source: state, members and the topics each group reads (assigned or committed). */
import { AssignerProtocol, type Admin, type GroupDescription } from 'kafkajs';
import type { ClusterConnection } from '../../config/spec';
import { isToolGroup } from '../../kafka/toolGroups';
import { fetchGroupOffsets, listGroupsOfAnyRelease, type GroupListing } from '../../inventory/sourceGroupListing';
import { errorText } from './common';

/** The last listing made through an admin: describeGroupsInDetail names the topics in OffsetFetch from it (old brokers). */
const listings = new WeakMap<Admin, GroupListing>();

export interface GroupMember {
  memberId: string;
  clientId: string;
  clientHost: string;
  /** Topics assigned to the member (consumer protocol only). */
  topics: string[];
}

export interface GroupInfo {
  groupId: string;
  protocolType: string;
  state: string;
  protocol: string;
  members: GroupMember[];
  /** Topics the group has committed offsets on. */
  committedTopics: string[];
  /** Assigned or committed: what the group reads. */
  topics: string[];
  /** Set when the group could not be described (e.g. not authorized). */
  error?: string;
}

function memberTopics(protocolType: string, assignment: Buffer): string[] {
  if (protocolType !== 'consumer' || !assignment?.length) return [];
  try {
    const decoded = AssignerProtocol.MemberAssignment.decode(assignment);
    return decoded ? Object.keys(decoded.assignment) : [];
  } catch {
    return []; // an assignor with its own format: the committed offsets still tell
  }
}

async function describeEach(admin: Admin, groupIds: string[]): Promise<Map<string, GroupDescription | Error>> {
  const out = new Map<string, GroupDescription | Error>();
  try {
    for (const g of (await admin.describeGroups(groupIds)).groups) out.set(g.groupId, g);
  } catch {
    // One group's error fails the whole batch: ask one by one to know which.
    await Promise.all(
      groupIds.map(async (id) => {
        try {
          out.set(id, (await admin.describeGroups([id])).groups[0]);
        } catch (e) {
          out.set(id, e as Error);
        }
      }),
    );
  }
  return out;
}

/**
 * The cluster's groups, without the tool's own (src/kafka/toolGroups.ts): those are never clients to migrate. On old
 * releases also the groups only __consumer_offsets knows (src/inventory/sourceGroupListing.ts); protocolType comes
 * from ListGroups ('' for those).
 */
export async function listGroups(admin: Admin, conn: ClusterConnection): Promise<{ groupId: string; protocolType: string }[]> {
  const listing = await listGroupsOfAnyRelease(conn, 'source', admin);
  listings.set(admin, listing);
  return listing.groups.filter((g) => !isToolGroup(g.groupId, conn.clientId)).sort((a, b) => a.groupId.localeCompare(b.groupId));
}

/** What the last listGroups through this admin could not ask the broker, and what it did instead. */
export function listingNotes(admin: Admin): string[] {
  return listings.get(admin)?.notes ?? [];
}

/** Describes groups (members, assignments) and their committed topics; per-group errors are kept, not thrown. */
export async function describeGroupsInDetail(admin: Admin, groups: { groupId: string; protocolType: string }[]): Promise<GroupInfo[]> {
  if (groups.length === 0) return [];
  const described = await describeEach(
    admin,
    groups.map((g) => g.groupId),
  );
  return Promise.all(
    groups.map(async ({ groupId, protocolType }): Promise<GroupInfo> => {
      const d = described.get(groupId);
      const base: GroupInfo = { groupId, protocolType, state: 'Unknown', protocol: '', members: [], committedTopics: [], topics: [] };
      if (!d || d instanceof Error) return { ...base, error: d ? errorText(d) : 'not described' };
      const members = d.members.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        topics: memberTopics(d.protocolType, m.memberAssignment),
      }));
      let committedTopics: string[] = [];
      let error: string | undefined;
      if (d.protocolType === 'consumer' || d.protocolType === '') {
        try {
          const offsets = await fetchGroupOffsets(admin, listings.get(admin) ?? {}, groupId);
          committedTopics = offsets.filter((t) => t.partitions.some((p) => Number(p.offset) >= 0)).map((t) => t.topic);
        } catch (e) {
          error = `cannot fetch committed offsets: ${errorText(e)}`;
        }
      }
      const topics = [...new Set([...members.flatMap((m) => m.topics), ...committedTopics])].sort();
      return {
        ...base,
        protocolType: d.protocolType || protocolType,
        state: d.state,
        protocol: d.protocol,
        members,
        committedTopics: committedTopics.sort(),
        topics,
        ...(error ? { error } : {}),
      };
    }),
  );
}
