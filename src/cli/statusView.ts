/**
 * Text rendering of `kafka-migrate status`: phase, what the workflow waits for, batches, and for the running
 * batch one progress bar per topic (its partitions aggregated) with lag and ETA. Pure: no I/O.
 */
import type { BatchStatus, MigrationStatus, PartitionProgressView } from '../types';
import { formatBytes } from '../reports/markdown';

export interface TopicProgress {
  topic: string;
  partitions: number;
  recordsCopied: number;
  lagRecords: number;
  maxLagSeconds: number;
  /** 0..1: copied / (copied + still to copy); 1 for a topic with nothing to copy. */
  fraction: number;
}

export function topicProgress(partitions: PartitionProgressView[]): TopicProgress[] {
  const byTopic = new Map<string, TopicProgress>();
  for (const p of partitions) {
    const t = byTopic.get(p.topic) ?? { topic: p.topic, partitions: 0, recordsCopied: 0, lagRecords: 0, maxLagSeconds: 0, fraction: 1 };
    t.partitions++;
    t.recordsCopied += p.recordsCopied;
    t.lagRecords += p.lagRecords;
    t.maxLagSeconds = Math.max(t.maxLagSeconds, p.lagSeconds);
    byTopic.set(p.topic, t);
  }
  for (const t of byTopic.values()) {
    const total = t.recordsCopied + t.lagRecords;
    t.fraction = total === 0 ? 1 : t.recordsCopied / total;
  }
  return [...byTopic.values()].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
}

export function progressBar(fraction: number, width = 24): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.floor(f * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${(f * 100).toFixed(0).padStart(3)}%`;
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return 'unknown';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const n = (v: number) => v.toLocaleString('en-US');

/** Left-aligned columns, for small tables in a terminal. */
export function columns(rows: string[][], indent = '  '): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd());
}

export function renderBatch(b: BatchStatus): string[] {
  const lines = [`Batch ${b.number} (${b.name}) — ${b.workflowId}`];
  lines.push(`  step ${b.step}, strategy ${b.strategy}, round ${b.rounds}, ${b.ready ? 'caught up (ready for cutover)' : 'catching up'}`);
  if (b.waitingFor) lines.push(`  waiting for: ${b.waitingFor.signal} — ${b.waitingFor.reason}`);
  const t = b.totals;
  lines.push(
    `  copied ${n(t.recordsCopied)} records (${formatBytes(t.bytesCopied)}) over ${t.partitions} partitions; lag ${n(t.lagRecords)} records, max ${t.maxLagSeconds.toFixed(1)} s; ${n(t.recordsPerSecond)} rec/s; ETA ${formatDuration(t.etaSeconds)}`,
  );
  if (b.writePauseMs !== undefined) lines.push(`  write pause: ${(b.writePauseMs / 1000).toFixed(1)} s`);
  const topics = topicProgress(b.partitions);
  if (topics.length) {
    lines.push(
      ...columns(
        topics.map((tp) => [tp.topic, progressBar(tp.fraction), `${n(tp.recordsCopied)}/${n(tp.recordsCopied + tp.lagRecords)}`, `lag ${n(tp.lagRecords)} (${tp.maxLagSeconds.toFixed(1)} s)`, `${tp.partitions} partitions`]),
        '    ',
      ),
    );
  }
  for (const note of b.notes.slice(-3)) lines.push(`  note: ${note}`);
  if (b.error) lines.push(`  error: ${b.error}`);
  return lines;
}

export function renderStatus(workflowId: string, execution: string, s: MigrationStatus, batches: BatchStatus[] = []): string {
  const lines = [`${workflowId} (${execution}) — phase ${s.phase}`, `  started ${s.startedAt}, updated ${s.updatedAt}`];
  if (s.waitingFor) lines.push(`  waiting for: ${s.waitingFor.signal} — ${s.waitingFor.reason}`);
  if (s.error) lines.push(`  error: ${s.error}`);
  if (s.preflight) {
    const count = (v: string) => s.preflight!.checks.filter((c) => c.verdict === v).length;
    lines.push(`  preflight: ${s.preflight.verdict} (${count('pass')} pass, ${count('warn')} warn, ${count('fail')} fail)`);
    for (const c of s.preflight.checks.filter((c) => c.verdict !== 'pass')) lines.push(`    ${c.verdict} ${c.title}: ${c.summary}`);
  }
  if (s.inventory) {
    const i = s.inventory;
    lines.push(`  inventory: ${i.topics} topics, ${i.partitions} partitions, ${i.groups} groups, ${formatBytes(i.bytes)} (${i.inactiveTopics} inactive topics, ${i.unclaimedGroups} unclaimed groups)`);
  }
  if (s.plan) lines.push(`  plan: ${s.plan.batches.length} batches, ${s.plan.excluded.length} exclusions${s.plan.warnings.length ? `, ${s.plan.warnings.length} warnings` : ''}`);
  if (s.batches.length) {
    lines.push('', 'Batches');
    const rows = [['#', 'system', 'state', 'records', 'bytes', 'write pause', 'workflow']];
    for (const b of s.batches) {
      const live = batches.find((x) => x.number === b.number);
      const records = live?.totals.recordsCopied ?? b.recordsCopied;
      const bytes = live?.totals.bytesCopied ?? b.bytesCopied;
      const pause = live?.writePauseMs ?? b.writePauseMs;
      rows.push([
        String(b.number),
        b.name,
        b.state === 'running' && live ? `running: ${live.step}` : b.state,
        records === undefined ? '' : n(records),
        bytes === undefined ? '' : formatBytes(bytes),
        pause === undefined ? '' : `${(pause / 1000).toFixed(1)} s`,
        b.workflowId,
      ]);
    }
    lines.push(...columns(rows));
  }
  for (const b of batches.filter((x) => s.batches.find((y) => y.number === x.number)?.state === 'running')) lines.push('', ...renderBatch(b));
  const decisions = [...s.decisions, ...batches.flatMap((b) => b.decisions.map((d) => ({ ...d, batch: d.batch ?? b.number })))].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  if (decisions.length) {
    lines.push('', 'Decisions');
    lines.push(
      ...columns(
        decisions.map((d) => [
          d.at,
          d.batch !== undefined ? `${d.phase} (batch ${d.batch})` : d.phase,
          d.kind,
          `by ${d.by}`,
          d.accepted ? 'accepted' : 'refused',
          [d.comment, d.reason].filter(Boolean).join(' — '),
        ]),
      ),
    );
  }
  if (Object.keys(s.reports).length) lines.push('', 'Reports', ...Object.entries(s.reports).map(([k, v]) => `  ${k}: ${v}`));
  return lines.join('\n');
}
