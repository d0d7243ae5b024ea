/** The benchmark's results: targets of issue 6 with PASS/MISS, the JSON file and the Markdown tables. */
import type { CutoverResult } from './cutoverPause';
import type { InventoryOutcome } from './inventoryTime';
import { round, type ThroughputResult } from './throughput';

export interface Comparison {
  variant: string;
  oursVsMirrorMaker: number | null;
  oursVsRawLimit: number | null;
}

export interface TargetCheck {
  target: string;
  measured: string;
  pass: boolean;
}

export interface BenchResults {
  startedAt: string;
  size: 'small' | 'full';
  durationSeconds: number;
  machine: { cpus: number; memoryGB: number; node: string };
  dataSet: { topics: number; partitionsPerTopic: number; variants: { label: string; records: number; megabytes: number }[] };
  throughput: ThroughputResult[];
  comparisons: Comparison[];
  cutover: CutoverResult | { skipped: string };
  inventory: InventoryOutcome | { ran: false; skipped: string };
  targets: TargetCheck[];
  notes: string[];
}

const find = (r: ThroughputResult[], variant: string, copier: ThroughputResult['copier']) => r.find((x) => x.variant === variant && x.copier === copier);

export function compare(throughput: ThroughputResult[]): Comparison[] {
  return [...new Set(throughput.map((t) => t.variant))].map((variant) => {
    const ours = find(throughput, variant, 'kafka-migrate');
    const mm2 = find(throughput, variant, 'mirrormaker2');
    const raw = find(throughput, variant, 'raw-limit');
    return {
      variant,
      oursVsMirrorMaker: ours && mm2 ? round(ours.mbPerSec / mm2.mbPerSec, 2) : null,
      oursVsRawLimit: ours && raw ? round(ours.mbPerSec / raw.mbPerSec, 2) : null,
    };
  });
}

/** Issue 6's targets: copy >= 1.0x MM2 and >= 60 % of the raw limit; pause < 5 s; inventory < 30 s; RSS < 512 MB. */
export function checkTargets(r: Pick<BenchResults, 'throughput' | 'comparisons' | 'cutover' | 'inventory'>): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const c of r.comparisons) {
    if (c.oursVsMirrorMaker !== null) out.push({ target: `copy ${c.variant}: >= 1.0x MirrorMaker 2`, measured: `${c.oursVsMirrorMaker}x`, pass: c.oursVsMirrorMaker >= 1.0 });
    if (c.oursVsRawLimit !== null) out.push({ target: `copy ${c.variant}: >= 60 % of the raw limit`, measured: `${Math.round(c.oursVsRawLimit * 100)} %`, pass: c.oursVsRawLimit >= 0.6 });
  }
  for (const t of r.throughput.filter((x) => x.copier.startsWith('kafka-migrate') && x.peakRssMB !== undefined)) {
    out.push({ target: `copier peak RSS ${t.variant}, ${COPIER_NAMES[t.copier]}: < 512 MB`, measured: `${t.peakRssMB} MB`, pass: t.peakRssMB! < 512 });
  }
  if ('writePauseMs' in r.cutover) {
    const s = r.cutover.shape;
    out.push({ target: `cutover write pause (${s.topics} topics / ${s.topics * s.partitionsPerTopic} partitions / ${s.groups} groups): < 5 s`, measured: `${(r.cutover.writePauseMs / 1000).toFixed(1)} s`, pass: r.cutover.writePauseMs < 5000 });
  }
  if ('result' in r.inventory && r.inventory.ran) {
    const i = r.inventory.result;
    out.push({ target: `inventory (${i.shape.topics} topics / ${i.shape.topics * i.shape.partitionsPerTopic} partitions / ${i.shape.groups} groups): < 30 s`, measured: `${i.seconds} s`, pass: i.seconds < 30 });
  }
  return out;
}

const COPIER_NAMES: Record<ThroughputResult['copier'], string> = {
  'raw-limit': 'raw limit (ProducerPerformance → target)',
  mirrormaker2: 'MirrorMaker 2 (3.9.2, 4 tasks)',
  'kafka-migrate': 'kafka-migrate',
  'kafka-migrate-wide': 'kafka-migrate, 1 partition per activity',
};

const fmt = (n: number) => n.toLocaleString('en-US');

export function renderMarkdown(r: BenchResults): string {
  const lines: string[] = [`Run ${r.startedAt} (${r.size}), ${r.machine.cpus} cores, Node ${r.machine.node}.`, ''];
  if (r.throughput.length) lines.push(...renderThroughput(r), '');
  else lines.push('Copy throughput: not measured (not selected).', '');
  if ('writePauseMs' in r.cutover) {
    const steps = Object.entries(r.cutover.steps).map(([k, ms]) => `${k} ${ms} ms`).join(', ');
    lines.push(
      `Cutover write pause: ${r.cutover.writePauseMs} ms from the accepted producersStopped to clients may move (the workflow's own writePauseMs: ${r.cutover.workflowWritePauseMs} ms). Steps: ${steps}; quietPeriodSeconds ${r.cutover.shape.quietPeriodSeconds}, outcome ${r.cutover.outcome}. Verification of the batch afterwards: ${r.cutover.verificationSeconds ?? '-'} s; largest batch status query answer: ${fmt(Math.round(r.cutover.largestStatusQueryBytes / 1000))} kB.`,
    );
  } else lines.push(`Cutover write pause: not measured (${r.cutover.skipped}).`);
  if ('result' in r.inventory && r.inventory.ran) {
    const i = r.inventory.result;
    const phases = i.phases ? ` (metadata, offsets, configs and groups ${i.phases.metadataSeconds} s; last record of every partition ${i.phases.lastRecordsSeconds} s)` : '';
    lines.push(`Inventory: ${i.seconds} s for the whole source (${fmt(i.cluster.topics)} topics / ${fmt(i.cluster.partitions)} partitions / ${fmt(i.cluster.groups)} groups)${phases}.`);
  } else lines.push(`Inventory: not measured (${'skipped' in r.inventory ? r.inventory.skipped : ''}).`);
  lines.push('', '| Target | Measured | |', '|---|---:|---|');
  for (const t of r.targets) lines.push(`| ${t.target} | ${t.measured} | ${t.pass ? 'PASS' : 'MISS'} |`);
  for (const n of r.notes) lines.push('', `Note: ${n}`);
  return lines.join('\n') + '\n';
}

function renderThroughput(r: BenchResults): string[] {
  const lines: string[] = [];
  const ds = r.dataSet;
  lines.push(
    `Data: ${ds.topics} topics x ${ds.partitionsPerTopic} partitions, ` +
      ds.variants.map((v) => `${v.label} values: ${fmt(v.records)} records / ${fmt(Math.round(v.megabytes))} MB`).join('; ') +
      '. MB = 10^6 bytes of record values; timed from the first records on the target to the last.',
    '',
    '| Values | Copier | MB/s | records/s | seconds | steady MB/s (10-90 %) | peak RSS |',
    '|---|---|---:|---:|---:|---:|---:|',
  );
  for (const t of r.throughput) {
    lines.push(
      `| ${t.variant} | ${COPIER_NAMES[t.copier]} | ${t.mbPerSec} | ${fmt(t.recordsPerSec)} | ${t.seconds} | ${t.steadyMbPerSec ?? '-'} | ${t.peakRssMB !== undefined ? `${t.peakRssMB} MB` : '-'} |`,
    );
  }
  lines.push('', '| Values | ours / MM2 | ours / raw limit |', '|---|---:|---:|');
  for (const c of r.comparisons) lines.push(`| ${c.variant} | ${c.oursVsMirrorMaker ?? '-'}x | ${c.oursVsRawLimit === null ? '-' : `${Math.round(c.oursVsRawLimit * 100)} %`} |`);
  return lines;
}
