/** Markdown rendering of a batch's status: what happened, who decided what, and where the detail reports are. */
import type { BatchStatus } from '../types';
import { formatBytes, mdTable } from './markdown';

export function renderBatchMarkdown(s: BatchStatus): string {
  const lines: string[] = [];
  lines.push(`# Batch ${s.number} (${s.name}) of migration ${s.migration}`, '');
  lines.push(`- workflow: \`${s.workflowId}\``, `- strategy: ${s.strategy}`, `- step: **${s.step}**`);
  lines.push(`- copied: ${s.totals.recordsCopied} records, ${formatBytes(s.totals.bytesCopied)} over ${s.totals.partitions} partitions in ${s.rounds} rounds`);
  if (s.writePauseMs !== undefined) lines.push(`- write pause (producers stopped → clients may move): ${(s.writePauseMs / 1000).toFixed(1)} s`);
  if (s.error) lines.push(`- error: ${s.error}`);
  lines.push('', '## Milestones', '');
  lines.push(mdTable(['milestone', 'at'], Object.entries(s.milestones).map(([k, v]) => [k, v])));
  lines.push('', '## Decisions', '');
  lines.push(
    s.decisions.length
      ? mdTable(['at', 'action', 'by', 'accepted', 'comment / reason'], s.decisions.map((d) => [d.at, d.kind, d.by, d.accepted ? 'yes' : 'no', [d.comment, d.reason].filter(Boolean).join(' — ')]))
      : '(none)',
  );
  if (s.notes.length) lines.push('', '## Notes', '', ...s.notes.map((n) => `- ${n}`), ...(s.notesOmitted ? ['', `(${s.notesOmitted} notes between the first 50 and the latest were omitted to keep the status bounded)`] : []));
  if (s.continuedAsNew) lines.push('', `The batch workflow continued as new ${s.continuedAsNew} times (its state carried over each time).`);
  lines.push('', '## Partitions', '');
  lines.push(
    mdTable(
      ['topic', 'partition', 'source end', 'copied to', 'target end', 'lag', 'identical offsets'],
      s.partitions.map((p) => [p.topic, String(p.partition), String(p.sourceEnd), String(p.sourceNext), String(p.targetNext), String(p.lagRecords), p.identicalOffsets ? 'yes' : 'no']),
    ),
  );
  if (Object.keys(s.reports).length) lines.push('', '## Reports', '', ...Object.entries(s.reports).map(([k, v]) => `- ${k}: ${v}`));
  return lines.join('\n') + '\n';
}
