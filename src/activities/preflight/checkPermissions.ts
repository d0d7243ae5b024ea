/**
 * Permissions: the migration user can describe every in-scope topic, its configs and every in-scope group,
 * and can really read every in-scope topic (one record per partition through a throwaway consumer).
 * Each missing permission names the resource and the kafka-acls command that grants it; a DENY binding in
 * the way is named too, since no ALLOW overrides it.
 */
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ConfigResourceTypes, ResourcePatternTypes, type Admin } from 'kafkajs';
import { unlessUnsupported } from '../../kafka/optionalApis';
import type { ClusterConnection } from '../../config/spec';
import { scopeMatcher } from '../../plan/scope';
import type { CheckResult, MissingPermission } from '../../types/preflight';
import {
  enumName,
  errorText,
  grantCommand,
  inScopeTopics,
  isAuthorizationFailure,
  onCluster,
  principalOf,
  removeDenyCommand,
  result,
  type CheckInput,
} from './common';
import { listGroups } from './groups';
import { sampleRecords, type SamplePartition } from './sampleRecords';

const ID = 'permissions';
const TITLE = 'Permissions of the migration user';
const READ_TIMEOUT_MS = 15000;

/** Runs fn on all items; on an authorization error, item by item to name the ones refused. */
async function probeEach<T>(items: T[], all: (items: T[]) => Promise<unknown>, one: (item: T) => Promise<unknown>): Promise<{ item: T; error: unknown }[]> {
  if (items.length === 0) return [];
  try {
    await all(items);
    return [];
  } catch (e) {
    if (!isAuthorizationFailure(e)) throw e;
  }
  const refused: { item: T; error: unknown }[] = [];
  for (const item of items) {
    try {
      await one(item);
    } catch (e) {
      if (!isAuthorizationFailure(e)) throw e;
      refused.push({ item, error: e });
    }
  }
  return refused;
}

/** DENY bindings for the principal that match a topic (literal or prefixed), when the user may list ACLs. */
async function denyBindings(
  admin: Admin,
  principal: string,
  topic: string,
  operation: AclOperationTypes,
): Promise<{ name: string; patternType: string; operation: string }[]> {
  try {
    const res = await admin.describeAcls({
      resourceType: AclResourceTypes.TOPIC,
      resourceName: topic,
      resourcePatternType: ResourcePatternTypes.MATCH,
      principal,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.DENY,
    });
    return res.resources.flatMap((r) =>
      r.acls
        .filter((a) => a.operation === operation || a.operation === AclOperationTypes.ALL)
        .map((a) => ({
          name: r.resourceName,
          patternType: enumName(ResourcePatternTypes, r.resourcePatternType),
          operation: enumName(AclOperationTypes, a.operation),
        })),
    );
  } catch {
    return []; // may not describe ACLs: the ALLOW hint stands alone
  }
}

async function readFix(admin: Admin, conn: ClusterConnection, principal: string, topic: string): Promise<string> {
  const denies = await denyBindings(admin, principal, topic, AclOperationTypes.READ);
  const grant = grantCommand(conn, principal, 'Read', 'topic', topic);
  if (denies.length === 0) return grant;
  const removals = denies.map((d) => removeDenyCommand(conn, principal, d.operation === 'ALL' ? 'All' : 'Read', 'topic', d.name, d.patternType));
  return `a DENY binding refuses it (an ALLOW cannot override a DENY): ${removals.join(' ; ')}`;
}

/** Activity: the migration user's rights on every in-scope topic, config and group, with a real read. */
export async function checkPermissions(input: CheckInput): Promise<CheckResult> {
  const { spec } = input;
  const conn = spec.source;
  const principal = principalOf(conn);
  const scope = scopeMatcher(spec);

  return onCluster(spec, 'source', 'checkPermissions', async (admin) => {
    const missing: MissingPermission[] = [];
    const add = (resource: string, operation: string, error: unknown, fix: string) => missing.push({ resource, operation, error: errorText(error), fix });

    const topics = await inScopeTopics(spec, admin);

    // Describe + DescribeConfigs on topics (a source before 0.11 has no DescribeConfigs: nothing to grant there).
    const configsRefused = await unlessUnsupported(
      () =>
        probeEach(
          topics,
          (ts) => admin.describeConfigs({ resources: ts.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })), includeSynonyms: false }),
          (t) => admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: t }], includeSynonyms: false }),
        ),
      [],
    );
    for (const { item, error } of configsRefused) {
      add(`topic ${item}`, 'DescribeConfigs', error, grantCommand(conn, principal, 'DescribeConfigs', 'topic', item));
    }

    // Describe on topics: partition offsets (ListOffsets), needed to copy and to measure lag.
    const ends = new Map<string, { partition: number; low: number; high: number }[]>();
    for (const t of topics) {
      try {
        ends.set(
          t,
          (await admin.fetchTopicOffsets(t)).map((p) => ({ partition: p.partition, low: Number(p.low), high: Number(p.high) })),
        );
      } catch (e) {
        if (!isAuthorizationFailure(e)) throw e;
        add(`topic ${t}`, 'Describe', e, grantCommand(conn, principal, 'Describe', 'topic', t));
      }
    }

    // Describe on groups: their state, members and committed offsets are what cutover translates.
    const groups = (await listGroups(admin, conn)).filter((g) => scope.group(g.groupId) && (g.protocolType === 'consumer' || g.protocolType === ''));
    for (const { item, error } of await probeEach(
      groups.map((g) => g.groupId),
      (ids) => admin.describeGroups(ids),
      (id) => admin.describeGroups([id]),
    )) {
      add(`group ${item}`, 'Describe', error, grantCommand(conn, principal, 'Describe', 'group', item));
    }
    for (const g of groups) {
      try {
        await admin.fetchOffsets({ groupId: g.groupId });
      } catch (e) {
        if (!isAuthorizationFailure(e)) throw e;
        if (!missing.some((m) => m.resource === `group ${g.groupId}`))
          add(`group ${g.groupId}`, 'Describe', e, grantCommand(conn, principal, 'Describe', 'group', g.groupId));
      }
    }

    // The real read: the last record of every non-empty partition.
    const readable = topics.filter((t) => ends.has(t));
    const parts: SamplePartition[] = readable.flatMap((t) =>
      ends.get(t)!.map((p) => ({ topic: t, partition: p.partition, from: Math.max(p.low, p.high - 1), to: p.high })),
    );
    const groupId = `${conn.clientId}-preflight-${spec.name}`;
    const sample = readable.length ? await sampleRecords(conn, 'source', parts, { groupId, maxPerPartition: 1, timeoutMs: READ_TIMEOUT_MS }) : undefined;
    if (sample?.deniedGroup) {
      add(`group ${groupId}-*`, 'Read', 'GROUP_AUTHORIZATION_FAILED', grantCommand(conn, principal, 'Read', 'group', `${conn.clientId}-`, true));
    }
    for (const t of sample?.deniedTopics ?? []) add(`topic ${t}`, 'Read', 'TOPIC_AUTHORIZATION_FAILED', await readFix(admin, conn, principal, t));

    const readTopics = [
      ...new Set(
        Object.entries(sample?.read ?? {})
          .filter(([, s]) => s.records > 0)
          .map(([k]) => k.slice(0, k.lastIndexOf(':'))),
      ),
    ].sort();
    // Read proven by a record, or by a clean fetch (empty partitions); denied topics are already listed as missing.
    const proven = new Set([...readTopics, ...(sample?.verifiedTopics ?? [])]);
    const unverified = readable.filter((t) => !proven.has(t) && !sample?.deniedTopics.includes(t));
    const unread = sample?.unread ?? [];
    const evidence = {
      principal,
      topicsInScope: topics.length,
      groupsInScope: groups.length,
      checked: {
        topics: 'Describe (ListOffsets), DescribeConfigs, Read (a fetch of the last record of each partition)',
        groups: 'Describe (DescribeGroups, OffsetFetch)',
      },
      recordsRead: Object.values(sample?.read ?? {}).reduce((n, s) => n + s.records, 0),
      topicsRead: readTopics,
      topicsReadVerified: [...proven].sort(),
      missing,
      ...(unverified.length ? { readNotVerified: unverified, notReadInTime: unread } : {}),
      ...(sample?.errors.length ? { readErrors: sample.errors } : {}),
      note: 'topics and groups the user may not Describe are invisible to it: compare topicsInScope with the cluster as an admin sees it',
    };
    if (missing.length) {
      const names = missing.map((m) => `${m.operation} on ${m.resource}`);
      return result(
        ID,
        TITLE,
        'fail',
        `${principal} lacks ${missing.length} permission(s): ${names.join(', ')}`,
        evidence,
        `As a cluster admin, grant what is missing: ${missing.map((m) => `${m.resource} (${m.operation}): ${m.fix}`).join(' ; ')}`,
      );
    }
    const undeleted = sample?.undeletedGroups ?? [];
    if (undeleted.length && !unverified.length) {
      return result(
        ID,
        TITLE,
        'warn',
        `${principal} can describe and read every in-scope topic, but could not delete its own throwaway group(s) ${undeleted.map((g) => g.group).join(', ')} after reading (${undeleted[0].error}): they stay listed on the source until the broker expires them`,
        { ...evidence, toolGroupsNotDeleted: undeleted },
        `Let the migration user delete the groups it makes: ${grantCommand(conn, principal, 'Delete', 'group', `${conn.clientId}-`, true)}`,
      );
    }
    if (unverified.length) {
      return result(
        ID,
        TITLE,
        'warn',
        `${principal} can describe every in-scope topic and group, but reading ${unverified.length} topic(s) could not be verified within ${READ_TIMEOUT_MS / 1000} s: ${unverified.join(', ')}${sample?.errors.length ? ` (${sample.errors[0]})` : ''}`,
        evidence,
        'Run the preflight again; if partitions still return nothing, check the partition leaders and the broker logs for fetch errors.',
      );
    }
    return result(
      ID,
      TITLE,
      'pass',
      `${principal} can describe and read all ${topics.length} in-scope topic(s) and describe all ${groups.length} in-scope group(s)`,
      evidence,
    );
  });
}
