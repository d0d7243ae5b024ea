/**
 * Text rendering of `kafka-migrate status`: phase, what the workflow waits for, batches, and for the running
 * batch one progress bar per topic (its partitions aggregated) with lag and ETA. Pure, except that a report path is
 * checked for on this machine (reportLines).
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { BatchStatus, MigrationStatus, PartitionProgressView, WindowStatus } from '../types';
import { formatBytes } from '../reports/markdown';
import type { ClosedExecution } from './workflowClose';

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
  return rows.map(
    (r) =>
      indent +
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
        .join('  ')
        .trimEnd(),
  );
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
        topics.map((tp) => [
          tp.topic,
          progressBar(tp.fraction),
          `${n(tp.recordsCopied)}/${n(tp.recordsCopied + tp.lagRecords)}`,
          `lag ${n(tp.lagRecords)} (${tp.maxLagSeconds.toFixed(1)} s)`,
          `${tp.partitions} partitions`,
        ]),
        '    ',
      ),
    );
  }
  for (const note of b.notes.slice(-3)) lines.push(`  note: ${note}`);
  if (b.error) lines.push(`  error: ${b.error}`);
  return lines;
}

/** What the status knows besides the statuses themselves: how the workflows really stand in Temporal. */
export interface StatusContext {
  /** Execution status (RUNNING, TERMINATED, ...) of each started batch workflow, by workflow id. */
  batchExecutions?: Record<string, string>;
  /** How the migration workflow ended, when it did not complete. */
  ended?: ClosedExecution;
  /** The status was rebuilt from the history (no worker could answer the query). */
  fromHistory?: boolean;
  /** The live status of open rollback windows (their own query), by batch. */
  windows?: Record<number, WindowStatus>;
}

/** The window's source fence in a few words: state and who is kept off. */
function fenceCell(f: NonNullable<WindowStatus['fence']>): string {
  if (f.state === 'not-applied') return `NOT fenced${f.reason ? ` (${f.reason.slice(0, 80)})` : ''}`;
  if (f.state === 'lifted') return 'lifted';
  const who = f.deniedPrincipals.length
    ? `denied: ${f.deniedPrincipals.slice(0, 3).join(', ')}${f.deniedPrincipals.length > 3 ? ', ...' : ''}`
    : 'migrator only';
  return `${f.state} (${f.topicsFenced} topics; ${who}${f.unfenceable?.length ? `; ${f.unfenceable.length} NOT fenceable` : ''})`;
}

/** Rollback windows: state, time left, reverse lag, blocked step and decisions (src/workflows/rollbackWindow.ts). */
export function renderWindows(s: MigrationStatus, live: Record<number, WindowStatus> = {}): string[] {
  if (!s.windows?.length) return [];
  const rows = [['batch', 'window', 'time left', 'reverse lag', 'copied back', 'source fence', 'workflow']];
  for (const w of s.windows) {
    const l = live[w.batch];
    const state = l?.blocked ? `blocked (${l.blocked.step}: ${l.blocked.error})` : (l?.state ?? w.state);
    const left = l?.timeLeftSeconds ?? (w.closesAt && w.state === 'open' ? undefined : null);
    rows.push([
      String(w.batch),
      state,
      w.state !== 'open' ? '' : left === undefined || left === null ? (w.closesAt ? '' : 'until finalize') : formatDuration(left),
      l ? `${n(l.reverseLagRecords)} records` : '',
      l ? n(l.recordsCopiedBack) : '',
      l?.fence ? fenceCell(l.fence) : '',
      w.workflowId,
    ]);
  }
  const decisions = Object.values(live).flatMap((l) =>
    l.decisions.map((d) => `  ${d.at} batch ${l.batch} window: ${d.kind} by ${d.by} ${d.accepted ? 'accepted' : 'refused'}${d.reason ? ` — ${d.reason}` : ''}`),
  );
  return ['', 'Rollback windows', ...columns(rows), ...decisions];
}

/** The newest time anything happened: the migration's own update, or a batch's milestone or decision. */
export function latestUpdate(s: MigrationStatus, batches: BatchStatus[]): string {
  const times = [s.updatedAt, ...batches.flatMap((b) => [...Object.values(b.milestones ?? {}), ...(b.decisions ?? []).map((d) => d.at)])];
  return times.filter((t) => typeof t === 'string' && !Number.isNaN(Date.parse(t))).reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a), s.updatedAt);
}

/** A batch the migration's status calls running, shown as Temporal really has it when its workflow is not running. */
function batchState(state: string, execution: string | undefined, step: string | undefined): string {
  const live = state === 'running' || state === 'blocked';
  if (live && execution && execution !== 'RUNNING') return `${execution.toLowerCase()} (was: ${step ?? state})`;
  return state === 'running' && step ? `running: ${step}` : state;
}

export function renderStatus(workflowId: string, execution: string, s: MigrationStatus, batches: BatchStatus[] = [], ctx: StatusContext = {}): string {
  const lines = [`${workflowId} (${execution}) — phase ${s.phase}`, `  started ${s.startedAt}, updated ${latestUpdate(s, batches)}`];
  if (ctx.ended) lines.push(`  ended${ctx.ended.at ? ` ${ctx.ended.at}` : ''}: ${ctx.ended.reason}`);
  if (ctx.fromHistory) lines.push('  (no worker answered: rebuilt from the workflow history, without progress details)');
  if (s.waitingFor) lines.push(`  waiting for: ${s.waitingFor.signal} — ${s.waitingFor.reason}`);
  if (s.error && s.error !== ctx.ended?.reason) lines.push(`  error: ${s.error}`);
  if (s.preflight) {
    const count = (v: string) => s.preflight!.checks.filter((c) => c.verdict === v).length;
    lines.push(`  preflight: ${s.preflight.verdict} (${count('pass')} pass, ${count('warn')} warn, ${count('fail')} fail)`);
    for (const c of s.preflight.checks.filter((c) => c.verdict !== 'pass')) lines.push(`    ${c.verdict} ${c.title}: ${c.summary}`);
  }
  if (s.inventory) {
    const i = s.inventory;
    lines.push(
      `  inventory: ${i.topics} topics, ${i.partitions} partitions, ${i.groups} groups, ${formatBytes(i.bytes)} (${i.inactiveTopics} inactive topics, ${i.unclaimedGroups} unclaimed groups)`,
    );
  }
  if (s.plan)
    lines.push(
      `  plan: ${s.plan.batches.length} batches, ${s.plan.excluded.length} exclusions${s.plan.warnings.length ? `, ${s.plan.warnings.length} warnings` : ''}`,
    );
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
        batchState(b.state, ctx.batchExecutions?.[b.workflowId], live?.step),
        records === undefined ? '' : n(records),
        bytes === undefined ? '' : formatBytes(bytes),
        pause === undefined ? '' : `${(pause / 1000).toFixed(1)} s`,
        b.workflowId,
      ]);
    }
    lines.push(...columns(rows));
  }
  // Details only for batches that really run: a terminated one waits for nothing.
  const running = (b: BatchStatus) =>
    s.batches.find((y) => y.number === b.number)?.state === 'running' && (ctx.batchExecutions?.[b.workflowId] ?? 'RUNNING') === 'RUNNING';
  for (const b of batches.filter(running)) lines.push('', ...renderBatch(b));
  lines.push(...renderWindows(s, ctx.windows));
  const decisions = [...s.decisions, ...batches.flatMap((b) => b.decisions.map((d) => ({ ...d, batch: d.batch ?? b.number })))].sort((a, b) =>
    a.at < b.at ? -1 : a.at > b.at ? 1 : 0,
  );
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
  if (Object.keys(s.reports).length) lines.push('', ...reportLines(s.reports, s.reportWriters));
  return lines.join('\n');
}

/**
 * Report paths are paths on the disk of the worker that wrote them, often another host: a path is printed only with
 * the worker that wrote it (recorded by the workflow); a report whose writer is not recorded (a run from before) shows
 * its name only. A file at the same path on this machine may be another run's, so it is not taken for the report.
 * `kafka-migrate report` gathers them all (from the target's report store when they are not here).
 */
export function reportLines(reports: Record<string, string>, writers: Record<string, string> = {}, exists: (path: string) => boolean = existsSync): string[] {
  return [
    "Reports (on the disks of the workers that wrote them; `kafka-migrate report` gathers them from the target's report store)",
    ...Object.entries(reports).map(([k, path]) => {
      const writer = writers[k];
      if (!writer) return `  ${k}: ${basename(path)} (on a worker's disk${exists(path) ? '; a file of that path is on this machine too' : ''})`;
      return `  ${k}: ${path} on worker ${writer}`;
    }),
  ];
}

/** `status <batch workflow id>`: one batch on its own, with how its workflow stands. */
export function renderBatchStatus(workflowId: string, execution: string, b: BatchStatus | undefined, ended?: ClosedExecution): string {
  const lines = [
    `${workflowId} (${execution}) — batch ${b ? `${b.number} (${b.name}) of migration ${b.migration}, step ${b.step}` : 'status unknown (no worker answered)'}`,
  ];
  if (ended) lines.push(`  ended${ended.at ? ` ${ended.at}` : ''}: ${ended.reason}`);
  if (!b) return lines.join('\n');
  const updated = [...Object.values(b.milestones ?? {}), ...b.decisions.map((d) => d.at)].sort().pop();
  if (updated) lines.push(`  updated ${updated}`);
  lines.push('', ...renderBatch(b));
  if (b.decisions.length) {
    lines.push('', 'Decisions');
    lines.push(
      ...columns(
        b.decisions.map((d) => [d.at, d.phase, d.kind, `by ${d.by}`, d.accepted ? 'accepted' : 'refused', [d.comment, d.reason].filter(Boolean).join(' — ')]),
      ),
    );
  }
  if (Object.keys(b.reports).length) lines.push('', ...reportLines(b.reports, b.reportWriters));
  return lines.join('\n');
}
