/**
 * Checks a plan edited by the operator at approval. Pure and workflow-safe.
 *
 * An edit may exclude topics and groups, move topics between batches and reorder batches (by their
 * `number`). It may not bring in anything the proposed plan did not have, split a group's topics across
 * batches, leave a batch empty, or exceed spec.batching (except a batch that is one group-linked unit, as
 * buildPlan allows). Accepted shape: `{ batches: [{ number, name?, topics: (name | { name })[], groups?: string[] }] }`
 * (a plan returned by the `plan` query, edited, is accepted as is). When a batch omits `groups`, it keeps
 * the proposed plan's groups that consume its topics. Sizes, systems and priorities are recomputed from the
 * inventory, never taken from the edit.
 */
import type { MigrationSpec } from '../config/spec';
import type { InventorySummary } from '../types/inventory';
import type { EditedPlanResult, MigrationPlan, PlanBatch, PlanExclusion, SystemPriority } from '../types/plan';
import { UNASSIGNED } from './buildPlan';
import { compareNames } from './compare';
import { systemMatcher } from './systems';
import { capsExceeded, loadOf, planTopic, topicUnits } from './units';

type PlanSpec = Pick<MigrationSpec, 'businessSystems' | 'batching'>;

interface EditedBatch {
  number: number;
  name?: string;
  topics: string[];
  groups?: string[];
}

const BATCH_NAME = /^[a-z0-9][a-z0-9+-]{0,62}$/;

class Refusal extends Error {}

export function validateEditedPlan(spec: PlanSpec, inventory: InventorySummary, current: MigrationPlan, edited: unknown): EditedPlanResult {
  try {
    return { ok: true, plan: check(spec, inventory, current, parse(edited)) };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, error: e.message };
    throw e;
  }
}

function parse(edited: unknown): EditedBatch[] {
  const raw = edited as { batches?: unknown };
  if (typeof edited !== 'object' || edited === null || !Array.isArray(raw.batches)) {
    throw new Refusal('expected an object with a "batches" array');
  }
  return raw.batches.map((b: unknown, i: number): EditedBatch => {
    const at = `batches[${i}]`;
    const batch = b as Record<string, unknown>;
    if (typeof b !== 'object' || b === null) throw new Refusal(`${at}: expected an object { number, topics, groups? }`);
    if (!Number.isInteger(batch.number)) throw new Refusal(`${at}.number: expected an integer, got ${JSON.stringify(batch.number)}`);
    if (!Array.isArray(batch.topics)) throw new Refusal(`${at}.topics: expected an array of topic names`);
    const topics = batch.topics.map((t: unknown, j: number) => {
      const name = typeof t === 'string' ? t : (t as { name?: unknown } | null)?.name;
      if (typeof name !== 'string' || !name) throw new Refusal(`${at}.topics[${j}]: expected a topic name or { name }`);
      return name;
    });
    if (batch.groups !== undefined && (!Array.isArray(batch.groups) || batch.groups.some((g) => typeof g !== 'string'))) {
      throw new Refusal(`${at}.groups: expected an array of group ids`);
    }
    if (batch.name !== undefined && (typeof batch.name !== 'string' || !BATCH_NAME.test(batch.name))) {
      throw new Refusal(`${at}.name: expected lower-case letters, digits, "-" or "+" (it names the batch workflow), got ${JSON.stringify(batch.name)}`);
    }
    return { number: batch.number as number, name: batch.name as string | undefined, topics, groups: batch.groups as string[] | undefined };
  });
}

function check(spec: PlanSpec, inventory: InventorySummary, current: MigrationPlan, edited: EditedBatch[]): MigrationPlan {
  if (edited.length === 0) throw new Refusal('the edited plan has no batches: reject the plan instead');
  const numbers = edited.map((b) => b.number).sort((a, b) => a - b);
  if (numbers.some((n, i) => n !== i + 1)) {
    throw new Refusal(`batch numbers must be 1..${edited.length}, each once (they give the order), got ${edited.map((b) => b.number).join(', ')}`);
  }
  const batches = [...edited].sort((a, b) => a.number - b.number);

  const inventoryTopics = new Map(inventory.topics.map((t) => [t.name, t]));
  const inventoryGroups = new Map(inventory.groups.map((g) => [g.groupId, g]));
  const proposedTopics = new Set(current.batches.flatMap((b) => b.topics.map((t) => t.name)));
  const proposedGroups = new Set(current.batches.flatMap((b) => b.groups));
  const exclusionOf = (kind: PlanExclusion['kind'], name: string) => current.excluded.find((x) => x.kind === kind && x.name === name)?.reason;

  const batchOfTopic = new Map<string, number>();
  for (const b of batches) {
    if (b.topics.length === 0) throw new Refusal(`batch ${b.number} has no topics: remove it and renumber the others`);
    for (const t of b.topics) {
      if (!inventoryTopics.has(t)) throw new Refusal(`unknown topic ${t} in batch ${b.number}: it is not in the inventory`);
      if (!proposedTopics.has(t)) {
        const why = exclusionOf('topic', t);
        throw new Refusal(
          `topic ${t} in batch ${b.number} is not in the proposed plan${why ? ` (excluded: ${why})` : ''}: an edit can only exclude, move or reorder; change the spec and restart to add topics`,
        );
      }
      const other = batchOfTopic.get(t);
      if (other !== undefined) throw new Refusal(`topic ${t} is in two batches (${other} and ${b.number})`);
      batchOfTopic.set(t, b.number);
    }
  }

  const batchOfGroup = new Map<string, number>();
  const groupsOf = new Map<number, string[]>();
  for (const b of batches) {
    const listed = b.groups ?? [...proposedGroups].filter((g) => inventoryGroups.get(g)!.topics.some((t) => batchOfTopic.get(t) === b.number));
    for (const g of listed) {
      if (!inventoryGroups.has(g)) throw new Refusal(`unknown group ${g} in batch ${b.number}: it is not in the inventory`);
      if (!proposedGroups.has(g)) {
        const why = exclusionOf('group', g);
        throw new Refusal(`group ${g} in batch ${b.number} is not in the proposed plan${why ? ` (excluded: ${why})` : ''}: an edit can only exclude groups`);
      }
      const other = batchOfGroup.get(g);
      if (other !== undefined) {
        throw new Refusal(`group ${g} consumes topics in batches ${other} and ${b.number}: keep its topics in one batch or exclude the group`);
      }
      batchOfGroup.set(g, b.number);
    }
    groupsOf.set(b.number, [...listed].sort(compareNames));
  }
  for (const [g, n] of batchOfGroup) {
    const topics = inventoryGroups.get(g)!.topics.filter((t) => batchOfTopic.has(t));
    const elsewhere = topics.filter((t) => batchOfTopic.get(t) !== n);
    if (elsewhere.length) {
      throw new Refusal(
        `group ${g} is in batch ${n} but consumes ${elsewhere.map((t) => `${t} (batch ${batchOfTopic.get(t)})`).join(', ')}: its topics must be in one batch, or exclude the group`,
      );
    }
    if (topics.length === 0) throw new Refusal(`group ${g} is in batch ${n} but none of its topics is in the plan: exclude the group too`);
  }

  const matcher = systemMatcher(spec);
  const plan: PlanBatch[] = batches.map((b, i) => {
    const topics = [...b.topics].sort(compareNames).map((t) => planTopic(inventoryTopics.get(t)!));
    const groups = groupsOf.get(b.number)!;
    const over = capsExceeded(loadOf(topics), spec.batching);
    const indivisible =
      topicUnits(
        b.topics,
        groups.map((g) => inventoryGroups.get(g)!.topics),
      ).length === 1;
    if (over.length && !indivisible) throw new Refusal(`batch ${b.number} holds ${over.join(' and ')}: split it or exclude topics`);
    const systems = [...new Set(topics.map((t) => inventoryTopics.get(t.name)!.system).filter((s): s is string => !!s))].sort(compareNames);
    const priority: SystemPriority = systems.some((s) => matcher.priority(s) === 'core') ? 'core' : 'non-core';
    const hasUnassigned = topics.some((t) => !inventoryTopics.get(t.name)!.system);
    const derived = [...systems, ...(hasUnassigned ? [UNASSIGNED] : [])].join('+');
    return { number: i + 1, name: b.name ?? derived, systems, priority, topics, groups };
  });

  const keptTopics = new Set(batchOfTopic.keys());
  const excluded: PlanExclusion[] = [
    ...current.excluded,
    ...[...proposedTopics]
      .filter((t) => !keptTopics.has(t))
      .sort(compareNames)
      .map((name) => ({ kind: 'topic' as const, name, reason: 'excluded by the operator in the approved plan' })),
    ...[...proposedGroups]
      .filter((g) => !batchOfGroup.has(g))
      .sort(compareNames)
      .map((name) => ({ kind: 'group' as const, name, reason: 'excluded by the operator in the approved plan' })),
  ];
  const warnings = [...current.warnings];
  const firstCore = plan.findIndex((b) => b.priority === 'core');
  const lateNonCore = plan.filter((b, i) => firstCore >= 0 && i > firstCore && b.priority === 'non-core');
  if (lateNonCore.length) {
    warnings.push(`the edited order runs core batch ${firstCore + 1} before non-core batch(es) ${lateNonCore.map((b) => b.number).join(', ')}`);
  }
  return { batches: plan, excluded, warnings };
}
