/**
 * The extra batch proposed for topics created on the source in scope after the plan (scope.newTopics:
 * propose). Pure and workflow-safe: it only shapes a PlanBatch the operator approves like any other.
 */
import type { MigrationPlan, PlanBatch } from '../types';

export function newTopicsBatch(
  plan: MigrationPlan,
  topics: { name: string; partitions: number; records: number }[],
  groupsByTopic: Map<string, Set<string>>,
  alreadyMigratedGroups: Set<string>,
): PlanBatch {
  const names = new Set(topics.map((t) => t.name));
  const number = plan.batches.reduce((n, b) => Math.max(n, b.number), 0) + 1;
  const extras = plan.batches.filter((b) => b.name.startsWith('new-topics-')).length;
  // Groups that committed on the new topics and have not moved yet move with them.
  const groups = [...groupsByTopic.entries()]
    .filter(([g, ts]) => !alreadyMigratedGroups.has(g) && [...ts].some((t) => names.has(t)))
    .map(([g]) => g)
    .sort();
  return {
    number,
    name: `new-topics-${extras + 1}`,
    systems: [],
    priority: 'non-core',
    topics: topics.map((t) => ({ name: t.name, partitions: t.partitions, bytes: 0, records: t.records })),
    groups,
  };
}
