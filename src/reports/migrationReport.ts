/** The final report of a migration: outcome, preflight verdicts, plan, batches and every human decision. */
import type { MigrationStatus } from '../types';
import { formatBytes, mdTable } from './markdown';

export function renderMigrationMarkdown(data: { outcome: string; status: MigrationStatus }): string {
  const s = data.status;
  const lines = [`# Migration ${s.name}: ${data.outcome}`, '', `- phase: **${s.phase}**`, `- started: ${s.startedAt}`, `- updated: ${s.updatedAt}`];
  if (s.error) lines.push(`- error: ${s.error}`);
  if (s.preflight) {
    lines.push('', `## Preflight: ${s.preflight.verdict}`, '');
    lines.push(mdTable(['check', 'verdict', 'summary'], s.preflight.checks.map((c) => [c.title, c.verdict, c.summary])));
  }
  if (s.inventory) {
    const i = s.inventory;
    lines.push('', '## Inventory', '', `${i.topics} topics, ${i.partitions} partitions, ${i.groups} groups, ${formatBytes(i.bytes)}; ${i.inactiveTopics} inactive topics, ${i.unclaimedGroups} unclaimed groups`);
  }
  if (s.batches.length) {
    lines.push('', '## Batches', '');
    lines.push(
      mdTable(
        ['#', 'system', 'workflow', 'state', 'records', 'bytes', 'write pause', 'report'],
        s.batches.map((b) => [
          String(b.number),
          b.name,
          b.workflowId,
          b.state,
          b.recordsCopied === undefined ? '' : String(b.recordsCopied),
          b.bytesCopied === undefined ? '' : formatBytes(b.bytesCopied),
          b.writePauseMs === undefined ? '' : `${(b.writePauseMs / 1000).toFixed(1)} s`,
          b.report ?? '',
        ]),
      ),
    );
  }
  lines.push('', '## Decisions', '');
  lines.push(
    s.decisions.length
      ? mdTable(['at', 'phase', 'action', 'by', 'accepted', 'comment / reason'], s.decisions.map((d) => [d.at, d.phase, d.kind, d.by, d.accepted ? 'yes' : 'no', [d.comment, d.reason].filter(Boolean).join(' — ')]))
      : '(none)',
  );
  if (Object.keys(s.reports).length) lines.push('', '## Reports', '', ...Object.entries(s.reports).map(([k, v]) => `- ${k}: ${v}`));
  return lines.join('\n') + '\n';
}
