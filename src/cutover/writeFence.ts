/**
 * Fencing source writes during cutover with DENY WRITE ACLs (User:*, host *, one LITERAL binding per topic).
 * Changing ACLs needs ALTER on the CLUSTER resource: without it (or on a source without an authorizer) the
 * fence is reported as not applied, with the exact grant to add, and the workflow relies on the quiet check.
 * Only the bindings this migration created (recorded durably on the target) are ever removed.
 */
import type { Admin, Kafka } from 'kafkajs';
import type { MigrationSpec } from '../config/spec';
import type { FenceAcl, FenceReport } from '../types/cutover';
import { fenceAclFor, kafkaAclsCommand, toAclEntry, toExactFilter } from './fenceAcl';
import { onCluster } from '../kafka/clusterRole';
import { ensureFenceTopic, fenceStoreExists, loadOwnedFences, recordFences } from './fenceStore';

type AclFault = { kind: 'unauthorized' | 'no-authorizer'; message: string };

/** The ACL-permission or missing-authorizer fault behind an error (kafkajs may wrap it), if that is what it is. */
export function aclFault(e: unknown): AclFault | undefined {
  for (let err = e as { type?: string; message?: string; cause?: unknown } | undefined; err; err = err.cause as typeof err) {
    if (err.type === 'SECURITY_DISABLED') return { kind: 'no-authorizer', message: err.message ?? 'security disabled' };
    if (typeof err.type === 'string' && /AUTHORIZATION_FAILED$/.test(err.type)) return { kind: 'unauthorized', message: err.message ?? err.type };
  }
  return undefined;
}

function notAppliedReason(spec: MigrationSpec, fault: AclFault): string {
  const bootstrap = spec.source.bootstrapServers.join(',');
  if (fault.kind === 'no-authorizer') {
    return `the source (${bootstrap}) has no authorizer, so writes cannot be fenced with ACLs (${fault.message})`;
  }
  const user = spec.source.sasl?.username ?? 'ANONYMOUS';
  return (
    `User:${user} may not change ACLs on the source ${bootstrap} (ALTER on CLUSTER is missing: ${fault.message}); ` +
    `grant: kafka-acls --add --allow-principal User:${user} --operation Alter --cluster --bootstrap-server ${bootstrap} (run as an admin)`
  );
}

/** Topics (of those given) that already carry an identical DENY WRITE binding. */
async function fencedNow(admin: Admin, topics: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const topic of topics) {
    const res = await admin.describeAcls(toExactFilter(fenceAclFor(topic)));
    if (res.resources.some((r) => r.resourceName === topic && r.acls.length > 0)) found.add(topic);
  }
  return found;
}

function report(migration: string, action: FenceReport['action'], topics: string[], parts: Partial<FenceReport>): FenceReport {
  return { migration, action, applied: true, topics, changed: [], owned: [], foreign: [], at: new Date().toISOString(), ...parts };
}

export async function fenceTopics(spec: MigrationSpec, migration: string, topics: string[], source: Admin, target: Kafka): Promise<FenceReport> {
  const wanted = [...new Set(topics)].sort();
  let existing: Set<string>;
  try {
    existing = await fencedNow(source, wanted);
  } catch (e) {
    const fault = aclFault(e);
    if (fault) return report(migration, 'fence', wanted, { applied: false, reason: notAppliedReason(spec, fault) });
    throw e;
  }
  await onCluster('target', () => ensureFenceTopic(target, spec.target.replicationFactor));
  const owned = await onCluster('target', () => loadOwnedFences(target, migration));
  const foreign = wanted.filter((t) => existing.has(t) && !owned.has(t)).map(fenceAclFor);
  const toCreate = wanted.filter((t) => !existing.has(t)).map(fenceAclFor);
  const newlyOwned = toCreate.filter((a) => !owned.has(a.topic));
  // Intent first: if we crash after creating the binding, the retry still knows it is ours.
  await onCluster('target', () =>
    recordFences(
      target,
      migration,
      newlyOwned.map((acl) => ({ topic: acl.topic, acl })),
    ),
  );
  if (toCreate.length) {
    try {
      await source.createAcls({ acl: toCreate.map(toAclEntry) });
    } catch (e) {
      const fault = aclFault(e);
      if (!fault) throw e;
      await onCluster('target', () =>
        recordFences(
          target,
          migration,
          newlyOwned.map((acl) => ({ topic: acl.topic, acl: null })),
        ),
      );
      return report(migration, 'fence', wanted, { applied: false, reason: notAppliedReason(spec, fault), foreign });
    }
  }
  const ownedNow = wanted.filter((t) => owned.has(t) || toCreate.some((a) => a.topic === t)).map(fenceAclFor);
  return report(migration, 'fence', wanted, { changed: toCreate, owned: ownedNow, foreign });
}

export async function unfenceTopics(spec: MigrationSpec, migration: string, topics: string[], source: Admin, target: Kafka): Promise<FenceReport> {
  const wanted = [...new Set(topics)].sort();
  const owned = await onCluster('target', async () => ((await fenceStoreExists(target)) ? loadOwnedFences(target, migration) : new Map<string, FenceAcl>()));
  const mine = wanted.filter((t) => owned.has(t)).map(fenceAclFor);
  if (mine.length === 0) {
    return report(migration, 'unfence', wanted, { reason: 'nothing to remove: this migration holds no write fence on these topics' });
  }
  try {
    await source.deleteAcls({ filters: mine.map(toExactFilter) });
  } catch (e) {
    const fault = aclFault(e);
    if (!fault) throw e;
    const bootstrap = spec.source.bootstrapServers.join(',');
    const commands = mine.map((a) => kafkaAclsCommand(a, 'remove', bootstrap)).join('; ');
    return report(migration, 'unfence', wanted, {
      applied: false,
      owned: mine,
      reason: `${notAppliedReason(spec, fault)}. The fence is STILL IN PLACE: remove it by hand: ${commands}`,
    });
  }
  await onCluster('target', () =>
    recordFences(
      target,
      migration,
      mine.map((acl) => ({ topic: acl.topic, acl: null })),
    ),
  );
  const stillOwned = [...owned.keys()]
    .filter((t) => !wanted.includes(t))
    .sort()
    .map(fenceAclFor);
  return report(migration, 'unfence', wanted, { changed: mine, owned: stillOwned });
}
