/** The DENY WRITE binding that fences one source topic, and its kafkajs forms. */
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes, type AclEntry, type AclFilter } from 'kafkajs';
import type { FenceAcl } from '../types/cutover';

/** Everyone (User:*, from any host) is denied WRITE on exactly this topic (LITERAL pattern). */
export function fenceAclFor(topic: string): FenceAcl {
  return { topic, principal: 'User:*', host: '*', operation: 'WRITE', permission: 'DENY', patternType: 'LITERAL' };
}

export function toAclEntry(acl: FenceAcl): AclEntry {
  return {
    resourceType: AclResourceTypes.TOPIC,
    resourceName: acl.topic,
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: acl.principal,
    host: acl.host,
    operation: AclOperationTypes.WRITE,
    permissionType: AclPermissionTypes.DENY,
  };
}

/** A filter matching exactly this one binding (no wildcard matching beyond its own fields). */
export function toExactFilter(acl: FenceAcl): AclFilter {
  return toAclEntry(acl);
}

/** The kafka-acls command an operator would run to add or remove the binding by hand. */
export function kafkaAclsCommand(acl: FenceAcl, action: 'add' | 'remove', bootstrap: string): string {
  return `kafka-acls --bootstrap-server ${bootstrap} --${action} --deny-principal ${acl.principal} --deny-host '${acl.host}' --operation Write --topic ${acl.topic} --resource-pattern-type literal`;
}
