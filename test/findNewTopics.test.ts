/**
 * Defect 10: source topics created after the plan, in scope, are reported by findNewTopics with their size and
 * the groups that committed on them; topics the plan knows, excluded or internal topics are not.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { findNewTopics } from '../src/activities';
import { commitGroupOffsets } from '../src/cutover/commitGroupOffsets';
import type { NewTopicsReport } from '../src/types';
import { sourceAdminKafka, stackSpec, uniqueSuffix } from './helpers/stack';
import { createSourceTopic, produceToSource } from './helpers/copyFixtures';

test('reports exactly the in-scope source topics created after `known` was computed, with partitions, records and the groups that committed on them', async () => {
  const s = uniqueSuffix();
  const prefix = `nt-${s}`;
  const spec = stackSpec({ name: `nt-${s}`, scope: { topics: [`${prefix}\\..*`], excludeTopics: [`${prefix}\\.tmp\\..*`] } });
  const planned = `${prefix}.planned`;
  const excluded = `${prefix}.excluded-by-plan`;
  await createSourceTopic(planned, 1);
  await createSourceTopic(excluded, 1);

  // `known` as the workflow builds it: the plan's topics and excluded topics, here with thousands of others.
  const admin = sourceAdminKafka().admin();
  await admin.connect();
  const everything = (await admin.listTopics()).filter((t) => !t.startsWith(prefix));
  await admin.disconnect();
  const known = [planned, excluded, ...everything, ...Array.from({ length: 5000 }, (_, i) => `${prefix}.gone-${i}`)];

  const orders = `${prefix}.orders`;
  const audit = `${prefix}.audit`;
  const scratch = `${prefix}.tmp.scratch`; // excluded by the spec
  const outside = `other-${s}`; // out of scope
  await createSourceTopic(orders, 3);
  await createSourceTopic(audit, 1);
  await createSourceTopic(scratch, 1);
  await createSourceTopic(outside, 1);
  await produceToSource(
    orders,
    Array.from({ length: 7 }, (_, i) => ({ partition: i % 3, key: null, value: `o${i}` })),
  );
  const reader = `${prefix}-reader`;
  const planReader = `${prefix}-plan-reader`;
  await commitGroupOffsets(sourceAdminKafka(), reader, [{ topic: orders, partition: 2, offset: 1 }]);
  await commitGroupOffsets(sourceAdminKafka(), planReader, [{ topic: planned, partition: 0, offset: 0 }]);

  const report = (await new MockActivityEnvironment().run(findNewTopics, { spec, known })) as NewTopicsReport;
  expect(report.topics).toEqual([
    { name: audit, partitions: 1, records: 0 },
    { name: orders, partitions: 3, records: 7 },
  ]);
  // Other tests' groups may have offsets on their own topics: only those on the new topics are listed.
  expect(report.groups).toEqual([{ group: reader, topics: [orders] }]);
  expect(Date.parse(report.checkedAt)).not.toBeNaN();

  // Once known, nothing is new.
  const after = (await new MockActivityEnvironment().run(findNewTopics, { spec, known: [...known, orders, audit] })) as NewTopicsReport;
  expect(after).toEqual({ topics: [], groups: [], checkedAt: expect.any(String) });
});
