/**
 * The charts of one batch in the HTML report: copy throughput and lag over time (from the batch's bounded copy
 * samples, src/workflows/copySamples.ts), the write-pause timeline of its cutover (from its milestones) and its
 * verification at a glance (one cell per partition and per group, from the verification report). Pure.
 */
import type { BatchStatus, VerificationReport } from '../types';
import { escapeHtml } from './html';
import { lineChart, timelineChart, verdictGrid, type Cell, type Span } from './svgCharts';

/** The cutover milestones a write pause is made of, and what the span ending at each one is. */
const CUTOVER_STEPS: Record<string, string> = {
  sourceQuiet: 'quiet check',
  drained: 'drain',
  consumersStopped: 'until consumersStopped (operator)',
  consumersMayMove: 'offset translation',
  clientsMayMove: 'offset translation / release',
};

/** Spans of the write pause: producers stopped → ... → clients may move, each step one span, plus the whole. */
export function writePauseSpans(milestones: Record<string, string>): Span[] {
  const start = Date.parse(milestones.producersStopped ?? '');
  const end = Date.parse(milestones.clientsMayMove ?? '');
  if (Number.isNaN(start) || Number.isNaN(end) || end < start) return [];
  const steps = Object.keys(CUTOVER_STEPS)
    .map((k) => ({ k, t: Date.parse(milestones[k] ?? '') }))
    .filter((m) => !Number.isNaN(m.t) && m.t >= start && m.t <= end)
    .sort((a, b) => a.t - b.t);
  const spans: Span[] = [{ label: 'write pause', from: start, to: end, color: '#d0342c' }];
  let from = start;
  for (const m of steps) {
    spans.push({ label: CUTOVER_STEPS[m.k], from, to: m.t, color: '#4c78a8' });
    from = m.t;
  }
  return spans;
}

/** One cell per partition and per group of a verification report. */
export function verificationCells(report: VerificationReport): Cell[] {
  const partitions = report.partitions.map((p) => ({
    label: `${p.topic}:${p.partition}`,
    ok: p.contentEqual && p.mapConsistent && p.mismatches.length === 0,
    detail:
      p.mismatches.length > 0
        ? p.mismatches.slice(0, 3).join('; ')
        : `${p.source.records} records equal${p.timestampsIgnored ? ' (timestamps ignored)' : ''}`,
  }));
  const groups = report.groups.map((g) => ({
    label: `group ${g.group}`,
    ok: g.ok,
    detail: g.ok ? `${g.partitions.length} partition offsets translated exactly` : g.partitions.filter((p) => !p.ok).map((p) => p.detail).slice(0, 3).join('; '),
  }));
  return [...partitions, ...groups];
}

function isVerificationReport(v: unknown): v is VerificationReport {
  const r = v as Partial<VerificationReport> | undefined;
  return !!r && Array.isArray(r.partitions) && Array.isArray(r.groups);
}

/** The HTML section of a batch's charts. `verification`: the batch's verification report (JSON), when readable. */
export function batchChartsHtml(s: BatchStatus, verification?: unknown): string {
  const samples = s.samples ?? [];
  const at = (x: { at: string }) => Date.parse(x.at);
  const throughput = lineChart(`Batch ${s.number} (${s.name}): copy throughput`, 'records/s', [
    { name: 'records/s', color: '#4c78a8', points: samples.map((x) => ({ t: at(x), v: x.recordsPerSecond })) },
  ]);
  const lag = lineChart(`Batch ${s.number} (${s.name}): lag`, 'records', [
    { name: 'lag (records)', color: '#f58518', points: samples.map((x) => ({ t: at(x), v: x.lagRecords })) },
  ]);
  const lagSeconds = lineChart(`Batch ${s.number} (${s.name}): lag in time`, 'seconds', [
    { name: 'max lag (s)', color: '#b279a2', points: samples.map((x) => ({ t: at(x), v: x.maxLagSeconds })) },
  ]);
  const pause = timelineChart(
    `Batch ${s.number} (${s.name}): write pause of the cutover${s.writePauseMs !== undefined ? ` (${(s.writePauseMs / 1000).toFixed(2)} s)` : ''}`,
    writePauseSpans(s.milestones),
  );
  const grid = isVerificationReport(verification)
    ? verdictGrid(`Batch ${s.number} (${s.name}): verification per partition and group`, verificationCells(verification))
    : verdictGrid(`Batch ${s.number} (${s.name}): verification`, []);
  const thinned = s.sampleStride && s.sampleStride > 1 ? ` (every ${s.sampleStride}th round kept)` : '';
  return [
    `<section class="km-charts" data-batch="${s.number}">`,
    `<h2>Batch ${s.number} (${escapeHtml(s.name)}): charts</h2>`,
    `<p>${samples.length} copy samples over ${s.rounds} rounds${escapeHtml(thinned)}.</p>`,
    throughput,
    lag,
    lagSeconds,
    pause,
    grid,
    '</section>',
  ].join('\n');
}
