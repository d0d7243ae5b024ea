/** Markdown rendering of a batch's verification report: every mismatch first, then the evidence. Pure (workflow-safe). */
import type { VerificationReport } from '../types/verify';
import { mdTable } from './markdown';

const short = (digest: string) => digest.slice(0, 12);

export function renderVerificationMarkdown(r: VerificationReport): string {
  const title = r.batch.number !== undefined ? `batch ${r.batch.number}${r.batch.name ? ` (${r.batch.name})` : ''}` : 'batch';
  const lines: string[] = [`# Verification of ${title} of migration ${r.migration}`, ''];
  lines.push(`- verified at: ${r.verifiedAt} (${(r.durationMs / 1000).toFixed(1)} s)`);
  lines.push(`- result: **${r.ok ? 'OK' : `${r.mismatches.length} mismatch(es)`}**`);
  if (r.decoder) lines.push(`- decoder: ${r.decoder.id} (record formats ${r.decoder.formats.join(', ')}): ${r.decoder.description}`);
  lines.push(`- topics: ${r.batch.topics.join(', ') || '(none)'}`, `- groups: ${r.batch.groups.join(', ') || '(none)'}`);
  if (r.mismatches.length) lines.push('', '## Mismatches', '', ...r.mismatches.map((m) => `- ${m}`));
  lines.push('', '## Partitions', '');
  lines.push(
    mdTable(
      ['partition', 'source range', 'source records', 'target range', 'target records', 'digest (source / target)', 'content', 'offset map'],
      r.partitions.map((p) => [
        `${p.topic}:${p.partition}`,
        `[${p.source.start}, ${p.source.end})`,
        String(p.source.records),
        `[${p.target.start}, ${p.target.end})`,
        String(p.target.records),
        `${short(p.source.digest)} / ${short(p.target.digest)}`,
        p.contentEqual ? 'equal' : 'DIFFERENT',
        p.mapConsistent ? 'consistent' : 'INCONSISTENT',
      ]),
    ),
  );
  const notes = r.partitions.flatMap((p) => p.notes.map((n) => `${p.topic}:${p.partition}: ${n}`));
  if (notes.length) lines.push('', '### Notes', '', ...notes.map((n) => `- ${n}`));
  lines.push('', '## Group offsets', '');
  lines.push(
    r.groups.length
      ? mdTable(
          ['group', 'partition', 'source offset', 'target offset', 'expected', 'ok', 'detail'],
          r.groups.flatMap((g) =>
            g.partitions.map((p) => [g.group, `${p.topic}:${p.partition}`, String(p.sourceOffset ?? '-'), String(p.targetOffset ?? '-'), String(p.expectedTargetOffset ?? '-'), p.ok ? 'yes' : 'NO', p.detail]),
          ),
        )
      : '(no groups)',
  );
  lines.push('', '## Topic configs (topic-level overrides, after the profile filter)', '');
  lines.push(
    mdTable(
      ['topic', 'ok', 'compared', 'filtered by the profile', 'differences'],
      r.configs.map((c) => [c.topic, c.ok ? 'yes' : 'NO', c.compared.join(', ') || '-', c.filtered.join(', ') || '-', c.differences.map((d) => `${d.key}: ${d.source ?? '(unset)'} vs ${d.target ?? '(unset)'}`).join('; ') || '-']),
    ),
  );
  return lines.join('\n') + '\n';
}
