/** The inventory's rules on synthetic cluster data (pure): the flags' edge cases a live cluster cannot stage. */
import { assembleInventory, type RawGroup, type RawTopic } from '../src/inventory/assemble';
import { stackSpec } from './helpers/stack';

const DAY = 86_400_000;
const now = Date.parse('2026-06-01T00:00:00Z');
const spec = stackSpec({
  name: 'assemble',
  thresholds: { inactiveDays: 7 },
  businessSystems: [{ name: 'orders', topics: { prefix: ['orders.'] }, groups: { names: ['orders-ghost'] } }],
});

const topicWith = (name: string, latest: number): RawTopic => ({
  name,
  partitions: [{ partition: 0, leader: 1, replicas: [1], isr: [1], earliestOffset: 0, latestOffset: latest }],
  configs: [],
  timestampType: 'CreateTime',
  cleanupPolicy: 'delete',
});
const emptyGroup = (groupId: string, committed: RawGroup['committed']): RawGroup => ({
  groupId,
  state: 'Empty',
  protocolType: 'consumer',
  protocol: '',
  members: [],
  committed,
});

const inventory = assembleInventory({
  spec,
  now,
  durationMs: 5,
  cluster: { clusterId: 'c', controllerId: 1, brokers: [] },
  topics: [topicWith('orders.a', 10), topicWith('orders.unread', 4), topicWith('orders.empty', 0), topicWith('orders.fresh', 2)],
  samples: new Map([
    ['orders.a:0', { lastRecordTimestamp: now - 30 * DAY, records: 5, bytes: 500 }],
    ['orders.unread:0', { lastRecordTimestamp: null, records: 0, bytes: 0 }],
    ['orders.fresh:0', { lastRecordTimestamp: now - 6 * DAY, records: 2, bytes: 50 }],
  ]),
  groups: [
    emptyGroup('orders-ghost', [{ topic: 'orders.deleted', partition: 0, offset: 7 }]),
    emptyGroup('orders-reader', [
      { topic: 'orders.a', partition: 0, offset: 4 },
      { topic: 'orders.a', partition: 1, offset: 1 },
      { topic: 'orders.x', partition: 0, offset: -1 },
    ]),
  ],
  warnings: [],
});
const t = (name: string) => inventory.topics.find((x) => x.name === name)!;
const g = (id: string) => inventory.groups.find((x) => x.groupId === id)!;

test('a group whose committed offsets are all on missing topics is unclaimed, and keeps its system from the group rules', () => {
  expect(g('orders-ghost')).toMatchObject({
    topics: [],
    missingTopics: ['orders.deleted'],
    offsets: [{ topic: 'orders.deleted', partition: 0, committedOffset: 7, latestOffset: null, lag: null }],
    totalLag: 0,
    systems: ['orders'],
    flags: ['unclaimed'],
    flagReasons: { unclaimed: 'Empty with committed offsets only on missing topics (orders.deleted)' },
  });
});

test('an Empty group with offsets on an existing topic is not unclaimed, and its consumption keeps an old topic active', () => {
  expect(g('orders-reader')).toMatchObject({ topics: ['orders.a'], missingTopics: [], totalLag: 6, flags: [] });
  // -1 means "no committed offset" and a partition that does not exist has no lag
  expect(g('orders-reader').offsets).toEqual([
    { topic: 'orders.a', partition: 0, committedOffset: 4, latestOffset: 10, lag: 6 },
    { topic: 'orders.a', partition: 1, committedOffset: 1, latestOffset: null, lag: null },
  ]);
  expect(t('orders.a')).toMatchObject({ flags: [], groups: ['orders-reader'], bytes: 1000, avgRecordBytes: 100 });
});

test('inactive: an empty topic, but not a recent one, nor one whose last record could not be read', () => {
  expect(t('orders.empty')).toMatchObject({ flags: ['inactive'], flagReasons: { inactive: 'holds no records (latest offset 0) and no group consumes it' } });
  expect(t('orders.fresh').flags).toEqual([]);
  expect(t('orders.unread')).toMatchObject({ flags: [], bytes: 0, avgRecordBytes: null });
  expect(inventory.warnings).toEqual(['topic orders.unread: the timestamp of its last record could not be read, so it is not judged inactive']);
});
