/**
 * The failures that stop offset translation because consumers are running: `GroupActive` (not Empty on the
 * source: it could still commit there) and `GroupActiveOnTarget` (members on the target and offsets there that
 * the translation would have to overwrite). Both name every such group with its members in the message and
 * carry them in details[0] (`{ groups: [{ group, state, members }] }`) for the operator's decision.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { GroupState } from '../types/cutover';
import { GROUP_ACTIVE, GROUP_ACTIVE_ON_TARGET, type ActiveGroupsDetails } from '../types/failureTypes';

function detailsOf(groups: GroupState[]): ActiveGroupsDetails {
  return {
    groups: groups.map((g) => ({
      group: g.group,
      state: g.state,
      members: g.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, host: m.host })),
    })),
  };
}

const who = (g: GroupState) => g.members.map((m) => `${m.clientId}@${m.host}`).join(', ');

/** Groups not Empty on the source: stop their consumers there (consumersStopped) before translating. */
export function groupsActiveOnSource(groups: GroupState[]): ApplicationFailure {
  const lines = groups.map((g) => `group "${g.group}" is ${g.state} on the source with ${g.members.length} member(s)${g.members.length ? ` (${who(g)})` : ''}`);
  return ApplicationFailure.create({
    nonRetryable: true,
    type: GROUP_ACTIVE,
    message: `${lines.join('; ')}: stop its consumers (signal consumersStopped once they are) before its offsets are translated`,
    details: [detailsOf(groups)],
  });
}

/**
 * Groups with members on the target whose offsets there are not (all) the translated ones; `reason` says what
 * was seen (offsets differ, or a commit refused because members joined).
 */
export function groupsActiveOnTarget(groups: GroupState[], reason: string): ApplicationFailure {
  const lines = groups.map((g) =>
    g.members.length
      ? `group "${g.group}" has ${g.members.length} member(s) on the target (${g.state}: ${who(g)})`
      : `group "${g.group}" is ${g.state} on the target`,
  );
  return ApplicationFailure.create({
    nonRetryable: true,
    type: GROUP_ACTIVE_ON_TARGET,
    message: `${lines.join('; ')} and ${reason}: stop those consumers before translating its offsets, or they would consume from the wrong position`,
    details: [detailsOf(groups)],
  });
}
