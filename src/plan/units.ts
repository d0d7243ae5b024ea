/**
 * The building blocks of batches, shared by buildPlan and validateEditedPlan. Pure and workflow-safe.
 *
 * A *unit* is a set of topics that must move together: topics consumed by one group are linked (its offsets
 * are translated at one cutover), transitively. Units are never split; caps only decide how units are packed.
 */
import type { MigrationSpec } from '../config/spec';
import type { TopicSummary } from '../types/inventory';
import type { PlanTopic } from '../types/plan';
import { compareNames } from './compare';

export type Caps = MigrationSpec['batching'];

/** Union-find over names. */
export class Links {
  private readonly parent = new Map<string, string>();

  add(name: string): void {
    if (!this.parent.has(name)) this.parent.set(name, name);
  }

  root(name: string): string {
    let r = name;
    while (this.parent.get(r) !== r) r = this.parent.get(r)!;
    this.parent.set(name, r);
    return r;
  }

  /** Links every name of the list (all must have been added). */
  join(names: string[]): void {
    for (let i = 1; i < names.length; i++) {
      const a = this.root(names[0]);
      const b = this.root(names[i]);
      // the smaller name becomes the root, so results never depend on insertion order
      if (a !== b && compareNames(a, b) < 0) this.parent.set(b, a);
      else if (a !== b) this.parent.set(a, b);
    }
  }

  /** The groups of linked names, each sorted, ordered by their first name. */
  components(): string[][] {
    const byRoot = new Map<string, string[]>();
    for (const name of this.parent.keys()) {
      const r = this.root(name);
      byRoot.set(r, [...(byRoot.get(r) ?? []), name]);
    }
    return [...byRoot.values()].map((c) => c.sort(compareNames)).sort((a, b) => compareNames(a[0], b[0]));
  }
}

/** Units of `topics`, linked by the topics each group consumes (restricted to `topics`). */
export function topicUnits(topics: string[], groupTopics: string[][]): string[][] {
  const links = new Links();
  topics.forEach((t) => links.add(t));
  const inSet = new Set(topics);
  for (const g of groupTopics) links.join(g.filter((t) => inSet.has(t)));
  return links.components();
}

export function planTopic(t: TopicSummary): PlanTopic {
  return { name: t.name, partitions: t.partitions, bytes: t.bytes, records: t.records };
}

export interface Load {
  topics: number;
  partitions: number;
  bytes: number;
}

export function loadOf(topics: PlanTopic[]): Load {
  return {
    topics: topics.length,
    partitions: topics.reduce((a, t) => a + t.partitions, 0),
    bytes: topics.reduce((a, t) => a + t.bytes, 0),
  };
}

/** Which caps a load exceeds, as readable phrases (empty = within caps). */
export function capsExceeded(load: Load, caps: Caps): string[] {
  const over: string[] = [];
  if (load.topics > caps.maxTopics) over.push(`${load.topics} topics, over spec.batching.maxTopics (${caps.maxTopics})`);
  if (load.partitions > caps.maxPartitions) over.push(`${load.partitions} partitions, over spec.batching.maxPartitions (${caps.maxPartitions})`);
  if (load.bytes > caps.maxBytes) over.push(`${load.bytes} bytes, over spec.batching.maxBytes (${caps.maxBytes})`);
  return over;
}

export function addLoads(a: Load, b: Load): Load {
  return { topics: a.topics + b.topics, partitions: a.partitions + b.partitions, bytes: a.bytes + b.bytes };
}
