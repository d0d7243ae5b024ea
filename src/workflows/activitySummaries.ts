/**
 * Activity summaries for the Temporal UI: every activity a workflow schedules through `withSummaries` carries a
 * one-line summary (ActivityOptions.summary, user metadata of the command: not compared on replay) saying what
 * it does for which migration and batch. Workflow-safe.
 */

interface InputShape {
  spec?: { name?: string };
  migration?: string;
  topics?: unknown[];
  groups?: unknown[];
  partitions?: { topic: string }[];
  mode?: string;
  kind?: string;
  fileStem?: string;
  cluster?: string;
  quietSeconds?: number;
  batch?: { number?: number; name?: string };
}

function topicsOf(partitions: { topic: string }[]): string {
  const topics = [...new Set(partitions.map((p) => p.topic))];
  return topics.length <= 3 ? topics.join(', ') : `${topics.slice(0, 3).join(', ')} +${topics.length - 3} more`;
}

/** One line describing an activity call (its name and what its input says it works on). */
export function activitySummary(name: string, input: unknown, context: string): string {
  const i = (input && typeof input === 'object' ? input : {}) as InputShape;
  const n = (x: unknown[] | undefined, what: string) => (x ? `${x.length} ${what}` : '');
  let what: string;
  switch (name) {
    case 'copyRound':
      what = `${i.mode ?? 'follow'} copy of ${n(i.partitions, 'partitions')}${i.partitions?.length ? ` (${topicsOf(i.partitions)})` : ''}`;
      break;
    case 'createTargetTopics':
      what = `create or refresh ${n(i.topics, 'topics')} on the target`;
      break;
    case 'waitForQuietSource':
      what = `quiet check: ${n(i.topics, 'topics')} must stand still for ${i.quietSeconds ?? '?'} s`;
      break;
    case 'describeGroups':
      what = `describe ${n(i.groups, 'groups')} on the ${i.cluster ?? 'source'}`;
      break;
    case 'translateOffsetsAndReport':
    case 'translateAndCommitOffsets':
      what = `translate and commit the offsets of ${n(i.groups, 'groups')}`;
      break;
    case 'verifyBatchAndReport':
    case 'verifyBatch':
      what = `verify batch ${i.batch?.number ?? ''} (${i.batch?.name ?? ''})`;
      break;
    case 'writeReportFiles':
      what = `write the ${i.kind ?? ''} report ${i.fileStem ?? ''}`;
      break;
    case 'fenceSourceWrites':
    case 'unfenceSourceWrites':
    case 'deleteTargetTopics':
    case 'sampleEndOffsets':
    case 'syncPartitionCounts':
      what = `${name} of ${n(i.topics, 'topics')}`;
      break;
    default:
      what = name;
  }
  return `${what} — ${context}`.replace(/\s+/g, ' ').slice(0, 200);
}

type Schedulable = ((...args: unknown[]) => Promise<unknown>) & { executeWithOptions?: (options: { summary: string }, args: unknown[]) => Promise<unknown> };

/** The same activity proxy, scheduling every call with a summary (`context`: e.g. "migration m, batch 2 (orders)"). */
export function withSummaries<T extends object>(activities: T, context: string): T {
  return new Proxy(activities, {
    get(target, prop, receiver) {
      const fn = Reflect.get(target, prop, receiver) as Schedulable | undefined;
      if (typeof prop !== 'string' || typeof fn !== 'function' || typeof fn.executeWithOptions !== 'function') return fn;
      return (...args: unknown[]) => fn.executeWithOptions!({ summary: activitySummary(prop, args[0], context) }, args);
    },
  });
}
