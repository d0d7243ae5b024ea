/**
 * The batch plan. Pure and workflow-safe (types and src/plan only): the same spec and inventory always give
 * the same plan.
 *
 * - One batch per business system, non-core systems first, then unassigned topics (`unassigned`), then core
 *   systems; ties by name.
 * - Every group's topics move in one batch: a group consuming topics of several systems merges those
 *   systems into one batch (`a+b`), reported in the warnings.
 * - spec.batching caps split a system into several batches (`orders-1of3`, ...) along group-linked units,
 *   packed in name order; a unit larger than the caps cannot be split and gets a batch of its own (warned).
 */
import type { MigrationSpec } from '../config/spec';
import type { InventorySummary } from '../types/inventory';
import type { MigrationPlan, PlanBatch, PlanTopic, SystemPriority } from '../types/plan';
import { compareNames } from './compare';
import { selectForPlan } from './selection';
import { systemMatcher } from './systems';
import { addLoads, capsExceeded, Links, loadOf, planTopic, topicUnits, type Caps } from './units';

/** The pseudo-system of topics no rule assigns. */
export const UNASSIGNED = 'unassigned';

type PlanSpec = Pick<MigrationSpec, 'scope' | 'businessSystems' | 'batching'>;

interface SystemCluster {
  name: string;
  /** System names, and UNASSIGNED when unassigned topics are part of it. */
  keys: string[];
  priority: SystemPriority;
  rank: number;
  units: PlanTopic[][];
}

export function buildPlan(spec: PlanSpec, inventory: InventorySummary): MigrationPlan {
  const selection = selectForPlan(spec, inventory);
  const warnings = [...selection.warnings];
  const matcher = systemMatcher(spec);
  const systemOf = new Map(selection.topics.map((t) => [t.name, t.system ?? UNASSIGNED]));
  const byName = new Map(selection.topics.map((t) => [t.name, planTopic(t)]));
  const groupTopics = selection.groups.map((g) => g.topics.filter((t) => byName.has(t)));

  // Systems linked by a group become one cluster of systems (one batch, or several when capped).
  const systemLinks = new Links();
  for (const s of systemOf.values()) systemLinks.add(s);
  selection.groups.forEach((g, i) => {
    const systems = [...new Set(groupTopics[i].map((t) => systemOf.get(t)!))].sort(compareNames);
    if (systems.length > 1) {
      warnings.push(`group ${g.groupId} consumes topics of systems ${systems.join(', ')}: their batches are merged so that its offsets move at one cutover`);
      systemLinks.join(systems);
    }
  });

  const clusters = systemLinks.components().map((keys): SystemCluster => {
    const real = keys.filter((s) => s !== UNASSIGNED);
    const priority: SystemPriority = real.some((s) => matcher.priority(s) === 'core') ? 'core' : 'non-core';
    const name = [...real, ...(keys.includes(UNASSIGNED) ? [UNASSIGNED] : [])].join('+');
    return { name, keys, priority, rank: priority === 'core' ? 2 : real.length === 0 ? 1 : 0, units: [] };
  });
  const clusterOf = new Map<string, SystemCluster>();
  for (const c of clusters) for (const k of c.keys) clusterOf.set(k, c);

  for (const unit of topicUnits([...byName.keys()], groupTopics)) {
    clusterOf.get(systemOf.get(unit[0])!)!.units.push(unit.map((t) => byName.get(t)!));
  }

  const batches: PlanBatch[] = [];
  const ordered = clusters.filter((c) => c.units.length).sort((a, b) => a.rank - b.rank || compareNames(a.name, b.name));
  for (const c of ordered) {
    const parts = pack(c.units, spec.batching, c.name, warnings);
    parts.forEach((topics, i) => {
      const names = new Set(topics.map((t) => t.name));
      batches.push({
        number: batches.length + 1,
        name: parts.length > 1 ? `${c.name}-${i + 1}of${parts.length}` : c.name,
        systems: [...new Set(topics.map((t) => systemOf.get(t.name)!).filter((s) => s !== UNASSIGNED))].sort(compareNames),
        priority: c.priority,
        topics: topics.sort((a, b) => compareNames(a.name, b.name)),
        groups: selection.groups.filter((_, gi) => groupTopics[gi].some((t) => names.has(t))).map((g) => g.groupId),
      });
    });
  }
  return { batches, excluded: selection.excluded, warnings };
}

/** Next-fit packing of units in order; a unit over the caps on its own gets its own batch. */
function pack(units: PlanTopic[][], caps: Caps, clusterName: string, warnings: string[]): PlanTopic[][] {
  const parts: PlanTopic[][] = [];
  let current: PlanTopic[] = [];
  for (const unit of units) {
    const alone = capsExceeded(loadOf(unit), caps);
    if (alone.length) {
      warnings.push(
        `${clusterName}: topics ${unit.map((t) => t.name).join(', ')} are linked by consumer groups and cannot be split, yet hold ${alone.join(' and ')}: they form one batch over the caps`,
      );
    }
    if (current.length && capsExceeded(addLoads(loadOf(current), loadOf(unit)), caps).length) {
      parts.push(current);
      current = [];
    }
    current = [...current, ...unit];
  }
  if (current.length) parts.push(current);
  return parts;
}
