/**
 * ACLs: lists the source's ACL bindings. A target without ACLs (the automq profile) will not enforce them:
 * the warning names every principal and resource concerned, i.e. what stops being enforced.
 */
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } from 'kafkajs';
import { isUnsupportedApi } from '../../kafka/optionalApis';
import { effectiveProfile } from '../../config/profiles';
import { scopeMatcher } from '../../plan/scope';
import type { CheckResult } from '../../types/preflight';
import { withRollbackWindowAdvice } from './rollbackWindowAcls';
import { enumName, errorText, grantCommand, isAuthorizationFailure, limitList, onCluster, principalOf, result, type CheckInput } from './common';

const ID = 'acls';
const TITLE = 'Access control lists';

export interface AclBinding {
  principal: string;
  host: string;
  operation: string;
  permission: string;
  resourceType: string;
  resourceName: string;
  patternType: string;
}

function describeBinding(b: AclBinding): string {
  const resource =
    b.resourceType === 'CLUSTER'
      ? 'the cluster'
      : `${b.resourceType.toLowerCase()} ${b.patternType === 'PREFIXED' ? `prefix "${b.resourceName}"` : b.resourceName === '*' ? '*' : `"${b.resourceName}"`}`;
  return `${b.permission} ${b.principal} ${b.operation} on ${resource}${b.host !== '*' ? ` from ${b.host}` : ''}`;
}

/** Whether a binding's resource pattern covers an in-scope topic (or any topic, for wildcards). */
function touchesScope(b: AclBinding, topics: string[]): boolean {
  if (b.resourceType !== 'TOPIC') return false;
  if (b.resourceName === '*') return true;
  return b.patternType === 'PREFIXED' ? topics.some((t) => t.startsWith(b.resourceName)) : topics.includes(b.resourceName);
}

/** Activity: the source's ACLs, and what a target without ACLs would stop enforcing (and what a rollback window needs). */
export async function checkAcls(input: CheckInput): Promise<CheckResult> {
  return withRollbackWindowAdvice(input.spec, await sourceAcls(input));
}

async function sourceAcls(input: CheckInput): Promise<CheckResult> {
  const { spec } = input;
  const profile = effectiveProfile(spec.target);
  const principal = principalOf(spec.source);
  return onCluster(spec, 'source', 'checkAcls', async (admin) => {
    let bindings: AclBinding[];
    try {
      const res = await admin.describeAcls({
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      });
      bindings = res.resources.flatMap((r) =>
        r.acls.map((a) => ({
          principal: a.principal,
          host: a.host,
          operation: enumName(AclOperationTypes, a.operation),
          permission: enumName(AclPermissionTypes, a.permissionType),
          resourceType: enumName(AclResourceTypes, r.resourceType),
          resourceName: r.resourceName,
          patternType: enumName(ResourcePatternTypes, r.resourcePatternType),
        })),
      );
    } catch (e) {
      const type = (e as { type?: string }).type;
      if (type === 'SECURITY_DISABLED') {
        return result(ID, TITLE, 'pass', 'the source has no authorizer: there are no ACLs to lose', { authorizer: false });
      }
      if (isUnsupportedApi(e)) {
        // Before 0.11 ACLs live in ZooKeeper only (kafka-acls --authorizer-properties): no API lists them.
        return result(
          ID,
          TITLE,
          'warn',
          `the source (before Kafka 0.11) has no DescribeAcls API: its ACLs cannot be read over the Kafka protocol, so what a target ${profile.supportsAcls ? 'needs recreated' : 'without ACLs stops enforcing'} is unknown`,
          { describeAcls: 'unsupported by the source brokers' },
          "List them with the source release's kafka-acls --authorizer-properties zookeeper.connect=... --list and recreate what the target needs by hand.",
        );
      }
      if (isAuthorizationFailure(e)) {
        return result(
          ID,
          TITLE,
          'warn',
          `${principal} may not list the source's ACLs, so what a target ${profile.supportsAcls ? 'needs recreated' : 'without ACLs stops enforcing'} is unknown`,
          { principal, error: errorText(e) },
          `Grant Describe on the cluster to list ACLs: ${grantCommand(spec.source, principal, 'Describe', 'cluster')} — or review them yourself with kafka-acls.sh --list.`,
        );
      }
      throw e;
    }

    const topics = (await admin.listTopics()).filter((t) => scopeMatcher(spec).topic(t));
    const principals = [...new Set(bindings.map((b) => b.principal))].sort();
    const resources = [...new Set(bindings.map((b) => `${b.resourceType}:${b.patternType}:${b.resourceName}`))].sort();
    const inScope = bindings.filter((b) => touchesScope(b, topics));
    const evidence = {
      targetSupportsAcls: profile.supportsAcls,
      bindingCount: bindings.length,
      principals,
      resources: limitList(resources),
      bindings: limitList(bindings.map((b) => ({ ...b, text: describeBinding(b) }))),
      inScopeTopicBindings: limitList(inScope.map(describeBinding)),
    };
    if (bindings.length === 0) {
      return result(ID, TITLE, 'pass', 'the source has an authorizer but no ACL bindings', evidence);
    }
    if (!profile.supportsAcls) {
      const denies = bindings.filter((b) => b.permission === 'DENY');
      return result(
        ID,
        TITLE,
        'warn',
        `the target (${profile.name}) has no ACLs: ${bindings.length} binding(s) for ${principals.length} principal(s) (${principals.join(', ')}) stop being enforced, ` +
          `${inScope.length} of them on in-scope topics${denies.length ? `, including ${denies.length} DENY rule(s)` : ''}: on the target any client that can connect may read, write and alter every topic and group`,
        evidence,
        'Before moving clients, restrict who can reach the target (network policies, security groups, private listeners), since the broker will not. ' +
          'Keep this list: it documents which application may do what, for your network rules and for a later move to a target with ACLs.',
      );
    }
    return result(
      ID,
      TITLE,
      'pass',
      `${bindings.length} ACL binding(s) for ${principals.length} principal(s); the target supports ACLs`,
      evidence,
      'kafka-migrate does not copy ACLs: recreate these bindings on the target (kafka-acls.sh --add ...) before clients move to it.',
    );
  });
}
