/** Markdown rendering of the batch plan (reports/<name>/plan.md), what the operator reads before approving. Pure. */
import type { MigrationPlan } from '../types/plan';
import { formatBytes, mdTable } from './markdown';

export function renderPlanMarkdown(plan: MigrationPlan): string {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const topics = plan.batches.flatMap((b) => b.topics);
  const out: string[] = [
    '# Migration plan',
    '',
    `${plan.batches.length} batch(es), ${topics.length} topics, ${sum(topics.map((t) => t.partitions))} partitions, ~${formatBytes(sum(topics.map((t) => t.bytes)))}; ${plan.excluded.length} topic(s)/group(s) left out.`,
    '',
    mdTable(
      ['#', 'batch', 'priority', 'systems', 'topics', 'partitions', 'records', 'bytes (est.)', 'groups'],
      plan.batches.map((b) => [
        String(b.number),
        b.name,
        b.priority,
        b.systems.join(', ') || 'unassigned',
        String(b.topics.length),
        String(sum(b.topics.map((t) => t.partitions))),
        String(sum(b.topics.map((t) => t.records))),
        formatBytes(sum(b.topics.map((t) => t.bytes))),
        String(b.groups.length),
      ]),
    ),
    '',
  ];
  for (const b of plan.batches) {
    out.push(`## Batch ${b.number}: ${b.name} (${b.priority})`, '');
    out.push(mdTable(['topic', 'partitions', 'records', 'bytes (est.)'], b.topics.map((t) => [t.name, String(t.partitions), String(t.records), formatBytes(t.bytes)])));
    out.push('', `Consumer groups: ${b.groups.length ? b.groups.map((g) => `\`${g}\``).join(', ') : 'none'}`, '');
  }
  if (plan.excluded.length) {
    out.push('## Left out', '', mdTable(['kind', 'name', 'reason'], plan.excluded.map((x) => [x.kind, x.name, x.reason])), '');
  }
  if (plan.warnings.length) out.push('## Warnings', '', ...plan.warnings.map((w) => `- ${w}`), '');
  return out.join('\n');
}
