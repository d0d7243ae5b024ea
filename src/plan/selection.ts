/**
 * What a plan may contain: topics and groups in scope, not flagged (unless spec.scope.includeInactive names
 * them), with the reason for everything left out. Pure and workflow-safe.
 */
import type { MigrationSpec } from '../config/spec';
import type { GroupSummary, InventorySummary, TopicSummary } from '../types/inventory';
import type { PlanExclusion } from '../types/plan';
import { compareNames } from './compare';
import { includedDespiteFlags } from './includeInactive';
import { isClusterInternalTopic, scopeMatcher } from './scope';

export interface Selection {
  topics: TopicSummary[];
  groups: GroupSummary[];
  excluded: PlanExclusion[];
  warnings: string[];
}

export function selectForPlan(spec: Pick<MigrationSpec, 'scope'>, inventory: InventorySummary): Selection {
  const scope = scopeMatcher(spec);
  const excluded: PlanExclusion[] = [];
  const warnings: string[] = [];
  const topics: TopicSummary[] = [];
  const why = new Map<string, string>();

  for (const t of [...inventory.topics].sort((a, b) => compareNames(a.name, b.name))) {
    let reason: string | undefined;
    if (t.internal || isClusterInternalTopic(t.name)) reason = 'cluster-internal topic (never migrated)';
    else if (!scope.topic(t.name)) reason = 'out of scope (spec.scope.topics / spec.scope.excludeTopics)';
    else if (t.flags.includes('inactive') && !includedDespiteFlags(spec, t.name)) {
      reason = `inactive: ${t.flagReasons.inactive ?? 'no recent write and no consumer'}; name it in spec.scope.includeInactive to migrate it`;
    }
    if (reason) {
      excluded.push({ kind: 'topic', name: t.name, reason });
      why.set(t.name, reason);
    } else topics.push(t);
  }

  const planned = new Set(topics.map((t) => t.name));
  const groups: GroupSummary[] = [];
  for (const g of [...inventory.groups].sort((a, b) => compareNames(a.groupId, b.groupId))) {
    let reason: string | undefined;
    if (!scope.group(g.groupId)) reason = 'out of scope (spec.scope.groups / spec.scope.excludeGroups)';
    else if (g.flags.includes('unclaimed') && !includedDespiteFlags(spec, g.groupId)) {
      reason = `unclaimed: ${g.flagReasons.unclaimed ?? 'no member and no offsets on existing topics'}; name it in spec.scope.includeInactive to migrate it`;
    } else if (!g.topics.some((t) => planned.has(t))) {
      reason = g.topics.length ? `consumes no topic of the plan (${g.topics.join(', ')} excluded)` : 'consumes no existing topic: it has no offsets to migrate';
    }
    if (reason) {
      excluded.push({ kind: 'group', name: g.groupId, reason });
      continue;
    }
    groups.push(g);
    for (const t of g.topics.filter((x) => !planned.has(x))) {
      warnings.push(`group ${g.groupId} also consumes ${t}, which is not migrated (${why.get(t) ?? 'excluded'}): its offsets there are not translated`);
    }
  }
  return { topics, groups, excluded, warnings };
}
