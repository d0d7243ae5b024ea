/**
 * The write fence of a rollback window: while a batch's clients are on the target, nobody but the migrator (whose
 * reverse sync appends to the source) may write the batch's source topics. The cutover fence (DENY WRITE User:*,
 * writeFence.ts) cannot serve here: a DENY wins over every ALLOW, the migrator's too. So the window denies WRITE
 * per principal: every principal holding an ALLOW WRITE (or ALL) that matches the topic (LITERAL, PREFIXED or the
 * wildcard), except the migrator, gets a LITERAL DENY WRITE on the topic. A topic no binding matched at all was
 * open through `allow.everyone.if.no.acl.found`: an ALLOW WRITE/READ/DESCRIBE for the migrator ends that (only the
 * migrator and super users can use it then). Super users are never fenced (Kafka skips ACLs for them). A topic
 * that a wildcard principal (User:*) may write cannot be fenced per principal: it is reported, and the reverse sync
 * still detects a foreign write there. Every binding is recorded on the target before it is created
 * (fenceStore.ts, `<migration>/window/<topic>`), so a retry knows its own and only those are ever removed.
 */
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ResourcePatternTypes,
  type Admin,
  type AclEntry,
  type DescribeAclResponse,
  type Kafka,
} from 'kafkajs';
import type { MigrationSpec } from '../config/spec';
import { principalOf } from '../kafka/principal';
import { onCluster } from '../kafka/clusterRole';
import { isUnsupportedApi } from '../kafka/optionalApis';
import type { WindowFenceBinding, WindowFenceReport } from '../types/cutover';
import { fenceAclFor } from './fenceAcl';
import { ensureFenceTopic, fenceStoreExists, loadOwnedFences, loadOwnedWindowFences, recordWindowFences } from './fenceStore';
import { aclFault } from './writeFence';

/** A binding as DescribeAcls returns it for one topic (any pattern that matches the topic). */
export interface MatchingAcl {
  principal: string;
  host: string;
  operation: string;
  permission: 'ALLOW' | 'DENY' | string;
  patternType: string;
  resourceName: string;
}

export interface TopicFencePlan {
  topic: string;
  /** Principals denied WRITE (they may write now). */
  writers: string[];
  bindings: WindowFenceBinding[];
  unfenceable?: string;
  /** Why the migrator gets its own ALLOW bindings (the topic had none at all). */
  note?: string;
}

const binding = (
  topic: string,
  principal: string,
  operation: WindowFenceBinding['operation'],
  permission: WindowFenceBinding['permission'],
): WindowFenceBinding => ({
  topic,
  principal,
  host: '*',
  operation,
  permission,
  patternType: 'LITERAL',
});

export const bindingKey = (b: WindowFenceBinding) => `${b.topic}|${b.principal}|${b.host}|${b.operation}|${b.permission}`;

/**
 * What fences one topic, from the bindings that match it other than this migration's own (pure).
 * `migrator` is the principal the source's authorizer gives the migrator.
 */
export function planTopicFence(topic: string, migrator: string, matching: MatchingAcl[]): TopicFencePlan {
  const writes = matching.filter((a) => a.permission === 'ALLOW' && (a.operation === 'WRITE' || a.operation === 'ALL'));
  const wildcard = writes.find((a) => a.principal === 'User:*');
  if (wildcard) {
    return {
      topic,
      writers: [],
      bindings: [],
      unfenceable: `User:* may write it (ALLOW ${wildcard.operation} on ${wildcard.patternType} '${wildcard.resourceName}'): a DENY for everyone would deny the migrator too; grant Write per principal to let a window fence this topic`,
    };
  }
  const writers = [...new Set(writes.map((a) => a.principal))].filter((p) => p !== migrator).sort();
  const deny = writers.map((p) => binding(topic, p, 'WRITE', 'DENY'));
  if (matching.length > 0) return { topic, writers, bindings: deny };
  return {
    topic,
    writers,
    bindings: [binding(topic, migrator, 'WRITE', 'ALLOW'), binding(topic, migrator, 'READ', 'ALLOW'), binding(topic, migrator, 'DESCRIBE', 'ALLOW')],
    note: `no ACL matched ${topic}: it was open through allow.everyone.if.no.acl.found (if set); while the window is open only the migrator and super users may use it on the source`,
  };
}

export function toEntry(b: WindowFenceBinding): AclEntry {
  return {
    resourceType: AclResourceTypes.TOPIC,
    resourceName: b.topic,
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: b.principal,
    host: b.host,
    operation: AclOperationTypes[b.operation],
    permissionType: AclPermissionTypes[b.permission],
  };
}

/** The kafka-acls command that removes one binding by hand. */
export function removeCommand(b: WindowFenceBinding, bootstrap: string): string {
  const who = b.permission === 'DENY' ? `--deny-principal ${b.principal} --deny-host '*'` : `--allow-principal ${b.principal} --allow-host '*'`;
  const op = b.operation.charAt(0) + b.operation.slice(1).toLowerCase();
  return `kafka-acls --bootstrap-server ${bootstrap} --remove --force ${who} --operation ${op} --topic ${b.topic} --resource-pattern-type literal`;
}

/** kafkajs' ACL enums are plain objects (no reverse mapping): the name of a value. */
const enumName = (e: object, v: number) => Object.entries(e).find(([, n]) => n === v)?.[0] ?? String(v);

/** DescribeAcls' answer (kafkajs shape) as bindings with names. */
export function matchingAclsOf(res: DescribeAclResponse): MatchingAcl[] {
  return res.resources.flatMap((r) =>
    r.acls.map((a) => ({
      principal: a.principal,
      host: a.host,
      operation: enumName(AclOperationTypes, a.operation),
      permission: enumName(AclPermissionTypes, a.permissionType),
      patternType: enumName(ResourcePatternTypes, r.resourcePatternType),
      resourceName: r.resourceName,
    })),
  );
}

async function matchingAcls(source: Admin, topic: string): Promise<MatchingAcl[]> {
  return matchingAclsOf(
    await source.describeAcls({
      resourceType: AclResourceTypes.TOPIC,
      resourceName: topic,
      resourcePatternType: ResourcePatternTypes.MATCH,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    }),
  );
}

/** The principal the source names the migrator by, or undefined when only the broker knows it (a client certificate). */
export function migratorPrincipal(spec: MigrationSpec): string | undefined {
  const p = spec.cutover.migratorPrincipal ?? principalOf(spec.source);
  return p.includes('<') ? undefined : p;
}

function emptyReport(migration: string, action: WindowFenceReport['action'], topics: string[]): WindowFenceReport {
  return { migration, action, applied: true, topics, denied: [], changed: [], owned: [], unfenceable: [], removeCommands: [], at: new Date().toISOString() };
}

function notApplied(spec: MigrationSpec, fault: { kind: string; message: string }): string {
  const bootstrap = spec.source.bootstrapServers.join(',');
  if (fault.kind === 'no-authorizer') return `the source (${bootstrap}) has no authorizer, so its writes cannot be fenced with ACLs (${fault.message})`;
  const who = migratorPrincipal(spec) ?? 'the migrator';
  return (
    `${who} may not read or change ACLs on the source ${bootstrap} (${fault.message}); grant Describe and Alter on the cluster: ` +
    `kafka-acls --bootstrap-server ${bootstrap} --add --allow-principal ${who} --operation Describe --operation Alter --cluster (run as an admin)`
  );
}

/** Fences the topics for a rollback window (idempotent: a retry after a crash owns what it created before). */
export async function fenceForWindow(spec: MigrationSpec, migration: string, topics: string[], source: Admin, target: Kafka): Promise<WindowFenceReport> {
  const wanted = [...new Set(topics)].sort();
  const out = emptyReport(migration, 'fence', wanted);
  const migrator = migratorPrincipal(spec);
  if (!migrator) {
    return {
      ...out,
      applied: false,
      reason:
        "the migrator's principal on the source is its client certificate's subject, which only the broker knows: set cutover.migratorPrincipal (e.g. User:CN=kafka-migrate) so that the window fence can except it",
    };
  }
  await onCluster('target', () => ensureFenceTopic(target, spec.target.replicationFactor));
  const ownedWindow = await onCluster('target', () => loadOwnedWindowFences(target, migration));
  const ownedCutover = await onCluster('target', async () => ((await fenceStoreExists(target)) ? loadOwnedFences(target, migration) : new Map()));
  const ours = new Set([...ownedWindow.values()].flat().map(bindingKey));
  for (const t of ownedCutover.keys()) ours.add(bindingKey({ ...fenceAclFor(t), operation: 'WRITE', permission: 'DENY' }));

  const plans: { plan: TopicFencePlan; existing: Set<string> }[] = [];
  try {
    for (const topic of wanted) {
      const matching = await matchingAcls(source, topic);
      const literalHere = matching.filter((a) => a.patternType === 'LITERAL' && a.resourceName === topic && a.host === '*');
      const existing = new Set(
        literalHere.map((a) =>
          bindingKey(binding(topic, a.principal, a.operation as WindowFenceBinding['operation'], a.permission as WindowFenceBinding['permission'])),
        ),
      );
      const others = matching.filter(
        (a) =>
          !(
            a.patternType === 'LITERAL' &&
            a.resourceName === topic &&
            a.host === '*' &&
            ours.has(bindingKey(binding(topic, a.principal, a.operation as WindowFenceBinding['operation'], a.permission as WindowFenceBinding['permission'])))
          ),
      );
      plans.push({ plan: planTopicFence(topic, migrator, others), existing });
    }
  } catch (e) {
    const fault = aclFault(e);
    if (fault) return { ...out, applied: false, reason: notApplied(spec, fault) };
    if (isUnsupportedApi(e) || /INVALID_REQUEST|UNSUPPORTED/.test((e as { type?: string }).type ?? '')) {
      return {
        ...out,
        applied: false,
        reason:
          'the source brokers cannot list the ACLs that match a topic (DescribeAcls with pattern MATCH needs Kafka 2.0+; before 0.11 there is no ACL API): the source is not fenced during the window, a foreign write there is detected and blocks it',
      };
    }
    throw e;
  }

  const toCreate: WindowFenceBinding[] = [];
  const ownedAfter = new Map<string, WindowFenceBinding[]>();
  for (const { plan, existing } of plans) {
    // Ours if we recorded it (a retry), or if we create it now; an identical binding someone else made stays theirs.
    const mine = plan.bindings.filter((b) => ours.has(bindingKey(b)) || !existing.has(bindingKey(b)));
    toCreate.push(...mine.filter((b) => !existing.has(bindingKey(b))));
    ownedAfter.set(plan.topic, mine);
    if (plan.unfenceable) out.unfenceable.push({ topic: plan.topic, reason: plan.unfenceable });
    if (plan.writers.length) out.denied.push({ topic: plan.topic, principals: plan.writers });
  }
  // Intent first: if we crash after creating a binding, the retry still knows it is ours.
  await onCluster('target', () =>
    recordWindowFences(
      target,
      migration,
      [...ownedAfter].map(([topic, bindings]) => ({ topic, bindings })),
    ),
  );
  if (toCreate.length) {
    try {
      await source.createAcls({ acl: toCreate.map(toEntry) });
    } catch (e) {
      const fault = aclFault(e);
      if (!fault) throw e;
      await onCluster('target', () =>
        recordWindowFences(
          target,
          migration,
          wanted.map((topic) => ({ topic, bindings: ownedWindow.get(topic) ?? null })),
        ),
      );
      return { ...out, applied: false, denied: [], unfenceable: out.unfenceable, reason: notApplied(spec, fault) };
    }
  }
  const owned = [...ownedAfter.values()].flat();
  const bootstrap = spec.source.bootstrapServers.join(',');
  return {
    ...out,
    applied: out.unfenceable.length === 0,
    ...(out.unfenceable.length ? { reason: `${out.unfenceable.length} topic(s) cannot be fenced per principal` } : {}),
    changed: toCreate,
    owned,
    removeCommands: owned.map((b) => removeCommand(b, bootstrap)),
  };
}

/** Removes every binding this migration's window fence owns on the topics (a no-op when there are none). */
export async function liftWindowFence(spec: MigrationSpec, migration: string, topics: string[], source: Admin, target: Kafka): Promise<WindowFenceReport> {
  const wanted = [...new Set(topics)].sort();
  const out = emptyReport(migration, 'lift', wanted);
  const owned = await onCluster('target', async () =>
    (await fenceStoreExists(target)) ? loadOwnedWindowFences(target, migration) : new Map<string, WindowFenceBinding[]>(),
  );
  const mine = wanted.flatMap((t) => owned.get(t) ?? []);
  const bootstrap = spec.source.bootstrapServers.join(',');
  if (mine.length) {
    try {
      await source.deleteAcls({ filters: mine.map(toEntry) });
    } catch (e) {
      const fault = aclFault(e);
      if (!fault) throw e;
      const removeCommands = mine.map((b) => removeCommand(b, bootstrap));
      return {
        ...out,
        applied: false,
        owned: mine,
        removeCommands,
        reason: `${notApplied(spec, fault)}. The window fence is STILL IN PLACE: remove it by hand: ${removeCommands.join('; ')}`,
      };
    }
  }
  await onCluster('target', () =>
    recordWindowFences(
      target,
      migration,
      wanted.filter((t) => owned.has(t)).map((topic) => ({ topic, bindings: null })),
    ),
  );
  return { ...out, changed: mine };
}
