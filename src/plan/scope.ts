/**
 * Which topics and groups a migration covers (spec.scope). Pure and workflow-safe: no node imports.
 *
 * Patterns are Java-style full matches, as in MirrorMaker's `topics` setting: `orders\..*` matches
 * `orders.eu` but not `legacy.orders.eu`. Topics whose name starts with `__` (`__consumer_offsets`,
 * `__transaction_state`, the migration's own `__kafka_migrate_offsets`) belong to the cluster and are never
 * in scope, whatever the patterns say.
 */
import type { MigrationSpec } from '../config/spec';

type ScopeSpec = Pick<MigrationSpec, 'scope'>;

export interface ScopeMatcher {
  topic(name: string): boolean;
  group(name: string): boolean;
}

/** True for topics the cluster owns (never migrated). */
export function isClusterInternalTopic(name: string): boolean {
  return name.startsWith('__');
}

function fullMatchers(patterns: string[]): RegExp[] {
  return patterns.map((p) => new RegExp(`^(?:${p})$`));
}

/** Compiles the scope patterns once; use it when filtering many names. */
export function scopeMatcher(spec: ScopeSpec): ScopeMatcher {
  const topics = fullMatchers(spec.scope.topics);
  const excludeTopics = fullMatchers(spec.scope.excludeTopics);
  const groups = fullMatchers(spec.scope.groups);
  const excludeGroups = fullMatchers(spec.scope.excludeGroups);
  const included = (name: string, include: RegExp[], exclude: RegExp[]) =>
    (include.length === 0 || include.some((r) => r.test(name))) && !exclude.some((r) => r.test(name));
  return {
    topic: (name) => !isClusterInternalTopic(name) && included(name, topics, excludeTopics),
    group: (name) => included(name, groups, excludeGroups),
  };
}

/** spec.scope.topics (empty = every topic) minus spec.scope.excludeTopics, never a `__` topic. */
export function topicInScope(spec: ScopeSpec, name: string): boolean {
  return scopeMatcher(spec).topic(name);
}

/** spec.scope.groups (empty = every group) minus spec.scope.excludeGroups. */
export function groupInScope(spec: ScopeSpec, name: string): boolean {
  return scopeMatcher(spec).group(name);
}
