/**
 * A plan without batches has nothing to migrate: approving it would "complete" a migration that moved
 * nothing. Says why it is empty and what to change. Pure and workflow-safe.
 */
import type { MigrationSpec } from '../config/spec';
import type { MigrationPlan } from '../types/plan';
import { scopeMatcher } from './scope';

type ScopeSpec = Pick<MigrationSpec, 'scope'>;

/** The refusal for an empty plan, or undefined when the plan has batches. */
export function emptyPlanError(spec: ScopeSpec, plan: MigrationPlan): string | undefined {
  if (plan.batches.length > 0) return undefined;
  const patterns = spec.scope.topics.length ? `spec.scope.topics ${JSON.stringify(spec.scope.topics)}` : 'spec.scope (every topic)';
  const scope = scopeMatcher(spec);
  // In scope yet left out (inactive, ...); out-of-scope and internal topics are listed in excluded too.
  const excluded = plan.excluded.filter((x) => x.kind === 'topic' && scope.topic(x.name));
  if (excluded.length === 0) {
    return `the plan has no batches: no source topic matches ${patterns}; check the topic names (patterns are full-match regular expressions) and that the migration user may describe them, then start again`;
  }
  const examples = excluded
    .slice(0, 3)
    .map((x) => `${x.name} (${x.reason})`)
    .join('; ');
  return `the plan has no batches: the ${excluded.length} topic(s) matching ${patterns} are all excluded, e.g. ${examples}; name them in spec.scope.includeInactive or fix the scope, then start again`;
}
