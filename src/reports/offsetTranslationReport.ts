/** Markdown rendering of a batch's consumer-group offset translation. */
import type { OffsetTranslationReport } from '../types';
import { mdTable } from './markdown';

export function renderOffsetTranslationMarkdown(r: OffsetTranslationReport): string {
  const lines = [`# Offset translation (${r.migration})`, '', `translated at ${r.translatedAt}; topics: ${r.topics.join(', ')}`, ''];
  for (const g of r.groups) {
    lines.push(`## ${g.group}`, '', `source state ${g.sourceState}, target state ${g.targetState}; ${g.committed} partitions committed`);
    if (g.withoutOffset.length) lines.push('', `No committed offset (auto.offset.reset applies on the target): ${g.withoutOffset.join(', ')}`);
    if (g.uncommitted) lines.push('', `${g.uncommitted} other partitions of the batch have no committed offset on either cluster (not listed): auto.offset.reset applies`);
    lines.push(
      '',
      mdTable(
        ['topic', 'partition', 'source offset', 'target offset', 'identical', 'note'],
        g.partitions.map((p) => [p.topic, String(p.partition), String(p.sourceOffset ?? '-'), String(p.targetOffset ?? '-'), p.identical ? 'yes' : 'no', p.note ?? '']),
      ),
      '',
    );
  }
  if (r.notes.length) lines.push('## Notes', '', ...r.notes.map((n) => `- ${n}`));
  return lines.join('\n') + '\n';
}
