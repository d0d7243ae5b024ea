/**
 * Business systems from spec.businessSystems. Pure and workflow-safe.
 *
 * A name belongs to the system whose rules match it: an exact name (`names`) wins over patterns; among
 * patterns (`prefix`, or `regex` as a full match like spec.scope) the first system in spec order wins, and
 * a name matched by several systems is reported so the operator can tighten the rules.
 */
import type { MigrationSpec } from '../config/spec';
import type { SystemPriority } from '../types/plan';

type SystemsSpec = Pick<MigrationSpec, 'businessSystems'>;

export interface SystemMatch {
  system: string | null;
  /** Every system whose rules match, when more than one does. */
  ambiguous: string[];
}

export interface SystemMatcher {
  topic(name: string): SystemMatch;
  group(name: string): SystemMatch;
  priority(system: string): SystemPriority;
}

interface CompiledRules {
  names: Set<string>;
  prefixes: string[];
  regexes: RegExp[];
}

function compile(rules: { prefix: string[]; regex: string[]; names: string[] }): CompiledRules {
  return { names: new Set(rules.names), prefixes: rules.prefix, regexes: rules.regex.map((r) => new RegExp(`^(?:${r})$`)) };
}

function matchIn(systems: { name: string; rules: CompiledRules }[], name: string): SystemMatch {
  const exact = systems.filter((s) => s.rules.names.has(name)).map((s) => s.name);
  const pattern = systems.filter((s) => s.rules.prefixes.some((p) => name.startsWith(p)) || s.rules.regexes.some((r) => r.test(name))).map((s) => s.name);
  const all = [...new Set([...exact, ...pattern])];
  return { system: exact[0] ?? pattern[0] ?? null, ambiguous: all.length > 1 ? all : [] };
}

/** Compiles the rules once; use it when classifying many names. */
export function systemMatcher(spec: SystemsSpec): SystemMatcher {
  const topicRules = spec.businessSystems.map((s) => ({ name: s.name, rules: compile(s.topics) }));
  const groupRules = spec.businessSystems.map((s) => ({ name: s.name, rules: compile(s.groups) }));
  const priorities = new Map(spec.businessSystems.map((s) => [s.name, s.priority] as const));
  return {
    topic: (name) => matchIn(topicRules, name),
    group: (name) => matchIn(groupRules, name),
    priority: (system) => priorities.get(system) ?? 'non-core',
  };
}
