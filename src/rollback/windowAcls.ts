/**
 * The grants a rollback window needs on the source, as kafkajs ACL entries (the demo and the tests apply them;
 * preflight names the same): Write on each batch topic (the reverse sync appends to it), All on the reverse
 * offset store `__kafka_migrate_offsets` (created, written and read by the migrator), and Alter on the cluster
 * (the window's fence creates and removes ACLs; Describe on the cluster, to read them, is in the base grants).
 */
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes, type AclEntry } from 'kafkajs';
import { OFFSET_STORE_TOPIC } from '../copy/offsetMapStore';

export function rollbackWindowAcls(principal: string, topics: string[]): AclEntry[] {
  const entry = (resourceName: string, operation: AclOperationTypes): AclEntry => ({
    resourceType: AclResourceTypes.TOPIC,
    resourceName,
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal,
    host: '*',
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  });
  const alterCluster: AclEntry = {
    resourceType: AclResourceTypes.CLUSTER,
    resourceName: 'kafka-cluster',
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal,
    host: '*',
    operation: AclOperationTypes.ALTER,
    permissionType: AclPermissionTypes.ALLOW,
  };
  return [...topics.map((topic) => entry(topic, AclOperationTypes.WRITE)), entry(OFFSET_STORE_TOPIC, AclOperationTypes.ALL), alterCluster];
}
