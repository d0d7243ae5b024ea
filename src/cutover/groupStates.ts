/** DescribeGroups on either cluster, as GroupState (members with client id and host). */
import type { Admin } from 'kafkajs';
import type { GroupState } from '../types/cutover';

export async function describeGroupStates(admin: Admin, cluster: 'source' | 'target', groups: string[]): Promise<GroupState[]> {
  const unique = [...new Set(groups)];
  if (unique.length === 0) return [];
  const { groups: described } = await admin.describeGroups(unique);
  const byId = new Map(described.map((g) => [g.groupId, g]));
  return unique.map((group) => {
    const g = byId.get(group);
    return {
      group,
      cluster,
      // The coordinator answers Dead for a group it does not know.
      state: g?.state ?? 'Dead',
      protocolType: g?.protocolType ?? '',
      protocol: g?.protocol ?? '',
      members: (g?.members ?? []).map((m) => ({ memberId: m.memberId, clientId: m.clientId, host: m.clientHost })),
    };
  });
}

/** Empty or Dead: no member, nobody can commit. */
export const isInactive = (g: GroupState): boolean => (g.state === 'Empty' || g.state === 'Dead') && g.members.length === 0;
