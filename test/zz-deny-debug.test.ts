import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes, type AclEntry } from 'kafkajs';
import { sampleRecords } from '../src/activities/preflight/sampleRecords';
import { sourceAdminKafka, stackSpec, uniqueSuffix } from './helpers/stack';
test('x', async () => {
  const t = `dbg-${uniqueSuffix()}`;
  const admin = sourceAdminKafka().admin(); await admin.connect();
  const producer = sourceAdminKafka().producer(); await producer.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: t, numPartitions: 1 }] });
  await new Promise((r) => setTimeout(r, 1000)); await producer.send({ topic: t, messages: [{ value: 'x' }] });
  const deny: AclEntry = { resourceType: AclResourceTypes.TOPIC, resourceName: t, resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:migrator', host: '*', operation: AclOperationTypes.READ, permissionType: AclPermissionTypes.DENY };
  await admin.createAcls({ acl: [deny] });
  await new Promise((r) => setTimeout(r, 500));
  const spec = stackSpec({ name: 'x' });
  const started = Date.now();
  try {
  const out = await sampleRecords(spec.source, 'source', [{ topic: t, partition: 0, from: 0, to: 1 }], { groupId: 'kafka-migrate-dbg', maxPerPartition: 1, timeoutMs: 8000 });
  console.log(JSON.stringify(out), Date.now() - started);
  } finally {
  await admin.deleteAcls({ filters: [deny] }); await admin.deleteTopics({ topics: [t] });
  await admin.disconnect(); await producer.disconnect();
  }
});
