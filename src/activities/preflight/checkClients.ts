/**
 * Clients: for every in-scope consumer group, its members' client ids and hosts, so that the owning teams
 * can check their client libraries against the versions the target supports. A group with no member
 * online gives nothing to go on: it is a warning, since its owners still have to be found before cutover.
 */
import { effectiveProfile } from '../../config/profiles';
import { scopeMatcher } from '../../plan/scope';
import type { CheckResult } from '../../types/preflight';
import { grantCommand, onCluster, principalOf, result, type CheckInput } from './common';
import { describeGroupsInDetail, listGroups, listingNotes } from './groups';

const ID = 'clients';
const TITLE = 'Consumer clients';

/** A hint at the client library from its default client id, when the application kept the default. */
export function clientLibraryHint(clientId: string): string | undefined {
  if (/^consumer-.+-\d+$/.test(clientId) || /^consumer-\d+$/.test(clientId)) return 'Java client (default client.id)';
  if (/^rdkafka$/.test(clientId)) return 'librdkafka-based client (confluent-kafka-*, node-rdkafka; default client.id)';
  if (/^kafkajs$/.test(clientId)) return 'kafkajs (default clientId)';
  if (/^sarama$/.test(clientId)) return 'Sarama (Go; default ClientID)';
  if (/^kafka-python-/.test(clientId)) return 'kafka-python (default client_id)';
  if (/StreamThread-\d+-consumer$/.test(clientId)) return 'Kafka Streams (Java)';
  return undefined;
}

/** Activity: who consumes in-scope groups, from where. */
export async function checkClients(input: CheckInput): Promise<CheckResult> {
  const { spec } = input;
  const profile = effectiveProfile(spec.target);
  const scope = scopeMatcher(spec);
  return onCluster(spec, 'source', 'checkClients', async (admin) => {
    const groups = (await listGroups(admin, spec.source)).filter((g) => scope.group(g.groupId) && (g.protocolType === 'consumer' || g.protocolType === ''));
    const details = await describeGroupsInDetail(admin, groups);
    // An old broker that refused ListGroups (or forgets groups without members): the groups came from __consumer_offsets.
    const notes = listingNotes(admin);
    const inScopeTopics = (ts: string[]) => ts.filter((t) => scope.topic(t));
    // A group matters to the migration when it reads an in-scope topic (or has nothing yet to tell).
    const relevant = details.filter((g) => g.topics.length === 0 || inScopeTopics(g.topics).length > 0);
    const rows = relevant.map((g) => ({
      groupId: g.groupId,
      state: g.state,
      topics: inScopeTopics(g.topics),
      members: g.members.map((m) => ({ clientId: m.clientId, host: m.clientHost.replace(/^\//, ''), library: clientLibraryHint(m.clientId) })),
      ...(g.error ? { error: g.error } : {}),
    }));
    const silent = rows.filter((g) => g.members.length === 0);
    const clients = [...new Set(rows.flatMap((g) => g.members.map((m) => `${m.clientId}@${m.host}`)))].sort();
    const evidence = {
      supportedClientVersions: profile.supportedVersions,
      groups: rows,
      distinctClients: clients,
      groupsWithoutMembers: silent.map((g) => g.groupId),
      ...(notes.length ? { listing: notes } : {}),
    };
    const range = `${profile.supportedVersions.min}–${profile.supportedVersions.max}`;
    const ask = `Ask the owners of these clients to confirm their Kafka client library speaks a protocol version in ${range} (the ${profile.name} profile's range).`;
    const grant = notes.some((n) => n.startsWith('ListGroups refused'))
      ? ` To let the broker list them itself, grant ListGroups: ${grantCommand(spec.source, principalOf(spec.source), 'Describe', 'cluster')} (on Kafka 0.10, whose kafka-acls has no Describe on the Cluster: --operation All --cluster).`
      : '';
    if (notes.length) {
      return result(ID, TITLE, 'warn', `${rows.length} group(s), ${clients.length} distinct client(s) online; ${notes.join('; ')}`, evidence, `${ask}${grant}`);
    }
    if (rows.length === 0) {
      return result(ID, TITLE, 'pass', 'no consumer group reads an in-scope topic', evidence);
    }
    if (silent.length) {
      return result(
        ID,
        TITLE,
        'warn',
        `${rows.length} group(s), ${clients.length} distinct client(s) online; ${silent.length} group(s) have no member online, so their clients cannot be identified: ${silent.map((g) => g.groupId).join(', ')}`,
        evidence,
        `${ask} For groups without members, find their owners from the group names, deployment inventories or the broker request logs before cutover.`,
      );
    }
    return result(
      ID,
      TITLE,
      'pass',
      `${rows.length} group(s), ${clients.length} distinct client(s): ${clients.slice(0, 10).join(', ')}${clients.length > 10 ? ', …' : ''}`,
      evidence,
      ask,
    );
  });
}
