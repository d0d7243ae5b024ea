/**
 * The final report of a migration: outcome, preflight verdicts, plan, batches (with their verification verdict
 * and links to their offset and verification reports) and every human decision, the batches' included. Pure.
 */
import type { BatchSummary, Decision, MigrationStatus } from '../types';
import { formatBytes, mdTable } from './markdown';

/** The migration's decisions and each batch's own (cutover, producers/consumers stopped...), oldest first. */
export function allDecisions(s: MigrationStatus): Decision[] {
  const seen = new Set<string>();
  const key = (d: Decision) => `${d.at}|${d.kind}|${d.by}|${d.batch ?? ''}`;
  const out: Decision[] = [];
  for (const d of [...s.decisions, ...s.batches.flatMap((b) => (b.decisions ?? []).map((d) => ({ ...d, batch: d.batch ?? b.number })))]) {
    if (seen.has(key(d))) continue;
    seen.add(key(d));
    out.push(d);
  }
  return out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

export function verificationVerdict(b: Pick<BatchSummary, 'verification'>): string {
  if (!b.verification) return '';
  return b.verification.ok ? 'OK' : `${b.verification.mismatchCount} mismatch(es)`;
}

/** Markdown links to a batch's reports: the batch report, then its offsets and verification reports. */
function reportLinks(b: BatchSummary): string {
  const links = Object.entries({ ...(b.report ? { batch: b.report } : {}), ...(b.reports ?? {}) });
  return links.map(([k, path]) => `[${k}](${path})`).join(', ');
}

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
        ['#', 'system', 'workflow', 'state', 'records', 'bytes', 'write pause', 'verification', 'reports'],
        s.batches.map((b) => [
          String(b.number),
          b.name,
          b.workflowId,
          b.state,
          b.recordsCopied === undefined ? '' : String(b.recordsCopied),
          b.bytesCopied === undefined ? '' : formatBytes(b.bytesCopied),
          b.writePauseMs === undefined ? '' : `${(b.writePauseMs / 1000).toFixed(1)} s`,
          verificationVerdict(b),
          reportLinks(b),
        ]),
      ),
    );
  }
  const decisions = allDecisions(s);
  lines.push('', '## Decisions', '');
  lines.push(
    decisions.length
      ? mdTable(
          ['at', 'batch', 'phase', 'action', 'by', 'accepted', 'comment / reason'],
          decisions.map((d) => [d.at, d.batch === undefined ? '' : String(d.batch), d.phase, d.kind, d.by, d.accepted ? 'yes' : 'no', [d.comment, d.reason].filter(Boolean).join(' — ')]),
        )
      : '(none)',
  );
  if (Object.keys(s.reports).length) lines.push('', '## Reports', '', ...Object.entries(s.reports).map(([k, v]) => `- ${k}: ${v}`));
  return lines.join('\n') + '\n';
}
