/** buildPlan and validateEditedPlan on synthetic inventories: pure, no cluster. */
import type { MigrationSpecInput } from '../src/config/spec';
import { buildPlan } from '../src/plan/buildPlan';
import { validateEditedPlan } from '../src/plan/validateEditedPlan';
import { renderPlanMarkdown } from '../src/reports/planReport';
import type { GroupSummary, InventorySummary, MigrationPlan, TopicSummary } from '../src/types';
import { stackSpec } from './helpers/stack';

function topic(name: string, system: string | null, partitions = 1, extra: Partial<TopicSummary> = {}): TopicSummary {
  return {
    name,
    internal: name.startsWith('__'),
    partitions,
    replicationFactor: 3,
    records: partitions * 100,
    bytes: partitions * 1000,
    lastRecordAt: '2026-01-01T00:00:00.000Z',
    system,
    flags: [],
    flagReasons: {},
    ...extra,
  };
}
function group(groupId: string, topics: string[], extra: Partial<GroupSummary> = {}): GroupSummary {
  return {
    groupId,
    state: 'Stable',
    protocolType: 'consumer',
    members: 1,
    topics,
    missingTopics: [],
    totalLag: 0,
    systems: [],
    flags: [],
    flagReasons: {},
    ...extra,
  };
}
function inventory(topics: TopicSummary[], groups: GroupSummary[]): InventorySummary {
  return {
    migration: 'm',
    collectedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 1,
    clusterId: 'c',
    totals: { topics: topics.length, partitions: 0, records: 0, bytes: 0, groups: groups.length, inactiveTopics: 0, unclaimedGroups: 0 },
    topics,
    groups,
    systems: [],
    unassigned: { topics: [], groups: [] },
    warnings: [],
    reportFiles: { jsonPath: 'x.json', markdownPath: 'x.md' },
  };
}
const specWith = (extra: Partial<MigrationSpecInput> = {}) =>
  stackSpec({
    name: 'plan-test',
    businessSystems: [
      { name: 'billing', priority: 'core', topics: { prefix: ['billing.'] } },
      { name: 'orders', priority: 'non-core', topics: { prefix: ['orders.'] } },
      { name: 'audit', priority: 'non-core', topics: { prefix: ['audit.'] } },
    ],
    ...extra,
  });

const names = (plan: MigrationPlan) => plan.batches.map((b) => [b.number, b.name, b.priority, b.topics.map((t) => t.name), b.groups]);

describe('buildPlan', () => {
  const base = () =>
    inventory(
      [
        topic('billing.invoices', 'billing', 6),
        topic('orders.created', 'orders', 3),
        topic('orders.shipped', 'orders', 2),
        topic('audit.log', 'audit', 1),
        topic('misc.tmp', null, 1),
        topic('__consumer_offsets', null, 50),
      ],
      [group('orders-app', ['orders.created', 'orders.shipped']), group('billing-app', ['billing.invoices']), group('misc-reader', ['misc.tmp'])],
    );

  test('one batch per system: non-core by name, then unassigned, then core; topics and groups sorted', () => {
    const plan = buildPlan(specWith(), base());
    expect(names(plan)).toEqual([
      [1, 'audit', 'non-core', ['audit.log'], []],
      [2, 'orders', 'non-core', ['orders.created', 'orders.shipped'], ['orders-app']],
      [3, 'unassigned', 'non-core', ['misc.tmp'], ['misc-reader']],
      [4, 'billing', 'core', ['billing.invoices'], ['billing-app']],
    ]);
    expect(plan.batches[1]).toMatchObject({
      systems: ['orders'],
      topics: [
        { name: 'orders.created', partitions: 3, bytes: 3000, records: 300 },
        { name: 'orders.shipped', partitions: 2, bytes: 2000, records: 200 },
      ],
    });
    expect(plan.batches[2].systems).toEqual([]);
    expect(plan.excluded).toEqual([{ kind: 'topic', name: '__consumer_offsets', reason: 'cluster-internal topic (never migrated)' }]);
    expect(plan.warnings).toEqual([]);
  });

  test('is deterministic whatever the order of the inventory', () => {
    const a = base();
    const b = { ...a, topics: [...a.topics].reverse(), groups: [...a.groups].reverse() };
    expect(buildPlan(specWith(), b)).toEqual(buildPlan(specWith(), a));
  });

  test('exclusions: out of scope, inactive, unclaimed, groups with no topic left; includeInactive brings them back', () => {
    const inv = inventory(
      [
        topic('orders.created', 'orders'),
        topic('orders.old', 'orders', 1, {
          flags: ['inactive'],
          flagReasons: { inactive: 'last record written 2025-01-01 (400.0 days ago, threshold 7 days) and no group consumes it' },
        }),
        topic('orders.archive', 'orders', 1, { flags: ['inactive'], flagReasons: { inactive: 'holds no records' } }),
        topic('orders.private', 'orders'),
      ],
      [
        group('orders-app', ['orders.created', 'orders.private']),
        group('orders-ghost', [], { state: 'Empty', members: 0, flags: ['unclaimed'], flagReasons: { unclaimed: 'Empty with no committed offsets' } }),
        group('orders-ghost2', [], {
          state: 'Empty',
          members: 0,
          flags: ['unclaimed'],
          flagReasons: { unclaimed: 'Empty with committed offsets only on missing topics (x)' },
        }),
        group('private-reader', ['orders.private']),
        group('test-tool', ['orders.created']),
      ],
    );
    const spec = specWith({ scope: { excludeTopics: ['orders\\.private'], excludeGroups: ['test-.*'], includeInactive: ['orders.archive', 'orders-ghost2'] } });
    const plan = buildPlan(spec, inv);
    expect(names(plan)).toEqual([[1, 'orders', 'non-core', ['orders.archive', 'orders.created'], ['orders-app']]]);
    expect(plan.excluded).toEqual([
      {
        kind: 'topic',
        name: 'orders.old',
        reason:
          'inactive: last record written 2025-01-01 (400.0 days ago, threshold 7 days) and no group consumes it; name it in spec.scope.includeInactive to migrate it',
      },
      { kind: 'topic', name: 'orders.private', reason: 'out of scope (spec.scope.topics / spec.scope.excludeTopics)' },
      { kind: 'group', name: 'orders-ghost', reason: 'unclaimed: Empty with no committed offsets; name it in spec.scope.includeInactive to migrate it' },
      // included despite the flag, but an unclaimed group has no offset on an existing topic to move
      { kind: 'group', name: 'orders-ghost2', reason: 'consumes no existing topic: it has no offsets to migrate' },
      { kind: 'group', name: 'private-reader', reason: 'consumes no topic of the plan (orders.private excluded)' },
      { kind: 'group', name: 'test-tool', reason: 'out of scope (spec.scope.groups / spec.scope.excludeGroups)' },
    ]);
    expect(plan.warnings).toEqual([
      'group orders-app also consumes orders.private, which is not migrated (out of scope (spec.scope.topics / spec.scope.excludeTopics)): its offsets there are not translated',
    ]);
  });

  test('a group spanning systems merges their batches (core if any is core), and unassigned topics with them', () => {
    const inv = base();
    inv.groups.push(group('reconciler', ['orders.shipped', 'billing.invoices']), group('auditor', ['audit.log', 'misc.tmp']));
    const plan = buildPlan(specWith(), inv);
    expect(names(plan)).toEqual([
      [1, 'audit+unassigned', 'non-core', ['audit.log', 'misc.tmp'], ['auditor', 'misc-reader']],
      [2, 'billing+orders', 'core', ['billing.invoices', 'orders.created', 'orders.shipped'], ['billing-app', 'orders-app', 'reconciler']],
    ]);
    expect(plan.batches[1].systems).toEqual(['billing', 'orders']);
    expect(plan.batches[0].systems).toEqual(['audit']);
    expect(plan.warnings).toEqual([
      'group auditor consumes topics of systems audit, unassigned: their batches are merged so that its offsets move at one cutover',
      'group reconciler consumes topics of systems billing, orders: their batches are merged so that its offsets move at one cutover',
    ]);
  });

  test('caps split a system into several batches, never splitting what a group links', () => {
    const inv = inventory(
      ['a', 'b', 'c', 'd', 'e'].map((x) => topic(`orders.${x}`, 'orders', 4)),
      [group('g-bc', ['orders.b', 'orders.c'])],
    );
    const plan = buildPlan(specWith({ batching: { maxPartitions: 8 } }), inv);
    expect(names(plan)).toEqual([
      [1, 'orders-1of3', 'non-core', ['orders.a'], []],
      [2, 'orders-2of3', 'non-core', ['orders.b', 'orders.c'], ['g-bc']],
      [3, 'orders-3of3', 'non-core', ['orders.d', 'orders.e'], []],
    ]);
    expect(plan.warnings).toEqual([]);
    expect(names(buildPlan(specWith({ batching: { maxTopics: 2 } }), inv)).map((b) => b[3])).toEqual([
      ['orders.a'],
      ['orders.b', 'orders.c'],
      ['orders.d', 'orders.e'],
    ]);
    expect(names(buildPlan(specWith({ batching: { maxBytes: 12000 } }), inv)).map((b) => b[3])).toEqual([
      ['orders.a', 'orders.b', 'orders.c'],
      ['orders.d', 'orders.e'],
    ]);
  });

  test('a group-linked unit larger than the caps gets a batch of its own, with a warning', () => {
    const inv = inventory(
      ['a', 'b', 'c'].map((x) => topic(`orders.${x}`, 'orders', 4)),
      [group('g-ab', ['orders.a', 'orders.b'])],
    );
    const plan = buildPlan(specWith({ batching: { maxPartitions: 6 } }), inv);
    expect(names(plan).map((b) => [b[1], b[3]])).toEqual([
      ['orders-1of2', ['orders.a', 'orders.b']],
      ['orders-2of2', ['orders.c']],
    ]);
    expect(plan.warnings).toEqual([
      'orders: topics orders.a, orders.b are linked by consumer groups and cannot be split, yet hold 8 partitions, over spec.batching.maxPartitions (6): they form one batch over the caps',
    ]);
  });

  test('renders a Markdown report with every batch, exclusion and warning', () => {
    const inv = base();
    inv.groups.push(group('reconciler', ['orders.shipped', 'billing.invoices']));
    const md = renderPlanMarkdown(buildPlan(specWith(), inv));
    expect(md).toContain('## Batch 1: audit (non-core)');
    expect(md).toContain('## Batch 3: billing+orders (core)');
    expect(md).toContain('| topic | __consumer_offsets | cluster-internal topic (never migrated) |');
    expect(md).toContain('- group reconciler consumes topics of systems billing, orders');
  });
});

describe('validateEditedPlan', () => {
  const spec = specWith({ batching: { maxPartitions: 10 } });
  const inv = inventory(
    [
      topic('billing.invoices', 'billing', 6),
      topic('orders.created', 'orders', 3),
      topic('orders.shipped', 'orders', 2),
      topic('audit.log', 'audit', 1),
      topic('audit.old', 'audit', 1, { flags: ['inactive'], flagReasons: { inactive: 'holds no records' } }),
    ],
    [group('orders-app', ['orders.created', 'orders.shipped']), group('billing-app', ['billing.invoices']), group('audit-app', ['audit.log'])],
  );
  const current = buildPlan(spec, inv);
  const edit = (batches: unknown) => validateEditedPlan(spec, inv, current, { batches });
  const refused = (batches: unknown) => {
    const r = edit(batches);
    if (r.ok) throw new Error('expected a refusal');
    return r.error;
  };

  test('the proposed plan, returned as is, is accepted unchanged', () => {
    expect(names(current)).toEqual([
      [1, 'audit', 'non-core', ['audit.log'], ['audit-app']],
      [2, 'orders', 'non-core', ['orders.created', 'orders.shipped'], ['orders-app']],
      [3, 'billing', 'core', ['billing.invoices'], ['billing-app']],
    ]);
    expect(validateEditedPlan(spec, inv, current, JSON.parse(JSON.stringify(current)))).toEqual({ ok: true, plan: current });
  });

  test('reordering and excluding: renumbered by number, sizes from the inventory, exclusions recorded', () => {
    const r = edit([
      { number: 2, topics: ['orders.created', 'orders.shipped'] },
      { number: 1, topics: [{ name: 'billing.invoices', partitions: 999 }], groups: [] },
    ]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(names(r.plan)).toEqual([
      [1, 'billing', 'core', ['billing.invoices'], []],
      [2, 'orders', 'non-core', ['orders.created', 'orders.shipped'], ['orders-app']],
    ]);
    expect(r.plan.batches[0].topics[0].partitions).toBe(6);
    expect(r.plan.excluded).toEqual([
      ...current.excluded,
      { kind: 'topic', name: 'audit.log', reason: 'excluded by the operator in the approved plan' },
      { kind: 'group', name: 'audit-app', reason: 'excluded by the operator in the approved plan' },
      { kind: 'group', name: 'billing-app', reason: 'excluded by the operator in the approved plan' },
    ]);
    expect(r.plan.warnings).toContain('the edited order runs core batch 1 before non-core batch(es) 2');
  });

  test('moving a topic and its group to another batch is accepted', () => {
    const r = edit([
      { number: 1, topics: ['audit.log', 'orders.created', 'orders.shipped'] },
      { number: 2, topics: ['billing.invoices'], name: 'billing-late' },
    ]);
    expect(r.ok && names(r.plan)).toEqual([
      [1, 'audit+orders', 'non-core', ['audit.log', 'orders.created', 'orders.shipped'], ['audit-app', 'orders-app']],
      [2, 'billing-late', 'core', ['billing.invoices'], ['billing-app']],
    ]);
  });

  test.each([
    ['not an object', null, 'expected an object with a "batches" array'],
    ['no batches', [], 'the edited plan has no batches: reject the plan instead'],
    ['a bad topic entry', [{ number: 1, topics: [42] }], 'batches[0].topics[0]: expected a topic name or { name }'],
    [
      'a bad name',
      [{ number: 1, topics: ['audit.log'], name: 'Audit Batch' }],
      'batches[0].name: expected lower-case letters, digits, "-" or "+" (it names the batch workflow), got "Audit Batch"',
    ],
    ['an unknown topic', [{ number: 1, topics: ['audit.log', 'nope'] }], 'unknown topic nope in batch 1: it is not in the inventory'],
    [
      'a topic in two batches',
      [
        { number: 1, topics: ['audit.log'] },
        { number: 2, topics: ['audit.log', 'billing.invoices'] },
      ],
      'topic audit.log is in two batches (1 and 2)',
    ],
    [
      'a topic the plan never had',
      [{ number: 1, topics: ['audit.log', 'audit.old'] }],
      'topic audit.old in batch 1 is not in the proposed plan (excluded: inactive: holds no records; name it in spec.scope.includeInactive to migrate it): an edit can only exclude, move or reorder; change the spec and restart to add topics',
    ],
    [
      "a group's topics in different batches",
      [
        { number: 1, topics: ['orders.created'] },
        { number: 2, topics: ['orders.shipped'] },
      ],
      'group orders-app consumes topics in batches 1 and 2: keep its topics in one batch or exclude the group',
    ],
    [
      'a group listed away from its topics',
      [
        { number: 1, topics: ['orders.created'], groups: ['orders-app'] },
        { number: 2, topics: ['orders.shipped'], groups: [] },
      ],
      'group orders-app is in batch 1 but consumes orders.shipped (batch 2): its topics must be in one batch, or exclude the group',
    ],
    [
      'a group without its topics',
      [{ number: 1, topics: ['audit.log'], groups: ['audit-app', 'billing-app'] }],
      'group billing-app is in batch 1 but none of its topics is in the plan: exclude the group too',
    ],
    ['an unknown group', [{ number: 1, topics: ['audit.log'], groups: ['ghost'] }], 'unknown group ghost in batch 1: it is not in the inventory'],
    [
      'an empty batch',
      [
        { number: 1, topics: ['audit.log'] },
        { number: 2, topics: [] },
      ],
      'batch 2 has no topics: remove it and renumber the others',
    ],
    [
      'a gap in the numbers',
      [
        { number: 1, topics: ['audit.log'] },
        { number: 3, topics: ['billing.invoices'] },
      ],
      'batch numbers must be 1..2, each once (they give the order), got 1, 3',
    ],
    [
      'a repeated number',
      [
        { number: 1, topics: ['audit.log'] },
        { number: 1, topics: ['billing.invoices'] },
      ],
      'batch numbers must be 1..2, each once (they give the order), got 1, 1',
    ],
    [
      'caps exceeded',
      [{ number: 1, topics: ['billing.invoices', 'orders.created', 'orders.shipped'] }],
      'batch 1 holds 11 partitions, over spec.batching.maxPartitions (10): split it or exclude topics',
    ],
  ])('refuses %s', (_, batches, error) => {
    expect(refused(batches)).toBe(error);
  });

  test('a group the proposed plan left out cannot be added', () => {
    const withGhost = inventory(inv.topics, [
      ...inv.groups,
      group('audit-ghost', [], { members: 0, state: 'Empty', flags: ['unclaimed'], flagReasons: { unclaimed: 'Empty with no committed offsets' } }),
    ]);
    const plan = buildPlan(spec, withGhost);
    const r = validateEditedPlan(spec, withGhost, plan, { batches: [{ number: 1, topics: ['audit.log'], groups: ['audit-app', 'audit-ghost'] }] });
    expect(r).toEqual({
      ok: false,
      error:
        'group audit-ghost in batch 1 is not in the proposed plan (excluded: unclaimed: Empty with no committed offsets; name it in spec.scope.includeInactive to migrate it): an edit can only exclude groups',
    });
  });
});
