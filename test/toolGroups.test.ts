/**
 * The consumer groups kafka-migrate makes for its own reads are deleted when the read ends, and are never listed
 * as clients (or inventoried): the preflight's sample reads (`kafka-migrate-preflight-*`), the inventory's tail
 * reader (`kafka-migrate-inventory-*`) and the target-side ledger/fence readers (`kafka-migrate-ledger-*`). A
 * migration user without DELETE on its groups gets a warning naming the ACL to add, not a silent leftover.
 * Against the real source (migrator over SASL, ACLs enforced) and target.
 */
import type { Admin, Consumer } from 'kafkajs';
import { checkCapacity, checkClients, checkPermissions } from '../src/activities/preflight';
import { takeInventory } from '../src/activities/inventory';
import { isToolGroup, toolGroupPrefixes } from '../src/kafka/toolGroups';
import { TopicRangeReader } from '../src/verify/topicRangeReader';
import { createSourceTopic } from './helpers/operator';
import { sourceAdminKafka, stackSpec, targetKafka, uniqueSuffix } from './helpers/stack';

const name = `tg-${uniqueSuffix()}`;
const topic = `${name}.orders`;
const spec = stackSpec({ name, scope: { topics: [`${name}\\..*`] }, thresholds: { capacitySampleSeconds: 1 } });
let admin: Admin;
let lookAlike: Consumer | undefined;

/** The groups of this test's migration name that kafka-migrate made (any prefix). */
async function toolGroupsOf(a: Admin, clientId = 'kafka-migrate'): Promise<string[]> {
  return (await a.listGroups()).groups.map((g) => g.groupId).filter((g) => isToolGroup(g, clientId) && g.includes(name));
}

beforeAll(async () => {
  await createSourceTopic(topic, 20);
  admin = sourceAdminKafka().admin();
  await admin.connect();
});

afterAll(async () => {
  await lookAlike?.disconnect().catch(() => undefined);
  const leftovers = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.includes(name));
  if (leftovers.length) await admin.deleteGroups(leftovers).catch(() => undefined);
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

test('the prefixes cover the preflight, inventory, ledger, fence and report-store readers, for the default and a custom clientId', () => {
  expect(toolGroupPrefixes('kafka-migrate')).toEqual([
    'kafka-migrate-preflight-',
    'kafka-migrate-inventory-',
    'kafka-migrate-ledger-',
    'kafka-migrate-fences-',
    'kafka-migrate-reports-',
  ]);
  expect(isToolGroup('acme-mig-preflight-capacity-x-0', 'acme-mig')).toBe(true);
  expect(isToolGroup('kafka-migrate-inventory-x-1', 'acme-mig')).toBe(true);
  expect(isToolGroup('orders-service', 'kafka-migrate')).toBe(false);
});

test('preflight reads (permissions, capacity) leave no group behind', async () => {
  const [permissions, capacity] = await Promise.all([checkPermissions({ spec }), checkCapacity({ spec })]);
  expect(permissions.verdict).toBe('pass');
  expect(permissions.evidence.recordsRead).toBeGreaterThan(0); // the sample read really joined a group
  expect(permissions.evidence.toolGroupsNotDeleted).toBeUndefined();
  expect(capacity.evidence).toBeDefined();
  expect(await toolGroupsOf(admin)).toEqual([]);
});

test('the inventory tail reader leaves no group behind, and inventories no tool group', async () => {
  const inventory = await takeInventory(spec);
  expect(inventory.topics.map((t) => t.name)).toContain(topic);
  expect(inventory.groups.filter((g) => isToolGroup(g.groupId, 'kafka-migrate'))).toEqual([]);
  expect(inventory.warnings.filter((w) => w.includes('could not be deleted'))).toEqual([]);
  expect(await toolGroupsOf(admin)).toEqual([]);
});

test('a tool group alive at the time (another look running) is never listed as a client', async () => {
  lookAlike = sourceAdminKafka().consumer({ groupId: `kafka-migrate-preflight-${name}-concurrent-0`, sessionTimeout: 10000, heartbeatInterval: 1000 });
  await lookAlike.connect();
  await lookAlike.subscribe({ topics: [topic], fromBeginning: true });
  await lookAlike.run({ autoCommit: false, eachMessage: async () => undefined });
  // Only a group that has joined is listed: wait until the broker shows it, with its member.
  for (let i = 0; i < 100 && (await admin.describeGroups([`kafka-migrate-preflight-${name}-concurrent-0`])).groups[0].members.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 200));
  }
  const clients = await checkClients({ spec });
  const listed = (clients.evidence.groups as { groupId: string }[]).map((g) => g.groupId);
  expect(listed.filter((g) => g.includes(name))).toEqual([]);
  expect(JSON.stringify(clients.evidence)).not.toContain('kafka-migrate-preflight-');
  await lookAlike.disconnect();
  lookAlike = undefined;
});

test('the target-side store reader (ledger) deletes its group when it closes', async () => {
  const target = targetKafka();
  const tAdmin = target.admin();
  await tAdmin.connect();
  try {
    const storeTopic = `${name}-store`;
    await tAdmin.createTopics({ topics: [{ topic: storeTopic, numPartitions: 1 }], waitForLeaders: true });
    const reader = await TopicRangeReader.open(target, storeTopic, { groupIdPrefix: `kafka-migrate-ledger-${name}` });
    expect((await tAdmin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`kafka-migrate-ledger-${name}`))).toHaveLength(1);
    await reader.close();
    expect((await tAdmin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`kafka-migrate-ledger-${name}`))).toEqual([]);
    await tAdmin.deleteTopics({ topics: [storeTopic] });
  } finally {
    await tAdmin.disconnect();
  }
});

test('without DELETE on its groups the user gets a warning naming the ACL to add (the read itself passes)', async () => {
  // The stack grants DELETE on groups prefixed kafka-migrate- only: a custom clientId's groups cannot be deleted.
  const clientId = `km-nodelete-${uniqueSuffix()}`;
  const custom = stackSpec({ name, scope: { topics: [`${name}\\..*`] }, source: { ...spec.source, clientId } });
  const r = await checkPermissions({ spec: custom });
  expect(r.verdict).toBe('warn');
  expect(r.summary).toMatch(
    new RegExp(`could not delete its own throwaway group\\(s\\) ${clientId}-preflight-${name}-0 after reading \\(GROUP_AUTHORIZATION_FAILED`),
  );
  expect(r.remediation).toContain(`--allow-principal User:migrator --operation Delete --group '${clientId}-' --resource-pattern-type prefixed`);
  await admin.deleteGroups([`${clientId}-preflight-${name}-0`]);
});
