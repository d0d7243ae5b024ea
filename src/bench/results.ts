/** The benchmark's results: targets of issue 6 with PASS/MISS, the JSON file and the Markdown tables. */
import type { CutoverResult } from './cutoverPause';
import type { InventoryOutcome } from './inventoryTime';
import { SCALE_WRITE_PAUSE_GOAL_MS, TEMPORAL_LIMITS, type ScaleOutcome, type ScaleResult } from './scaleBatch';
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
  /** Set on the scale step's checks (issue 11 §2): rendered in their own section. */
  step?: 'scale';
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
  /** Issue 11 §2: a 2,000-partition batch end to end (absent in results published before it existed). */
  scale: ScaleOutcome;
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
export function checkTargets(r: Pick<BenchResults, 'throughput' | 'comparisons' | 'cutover' | 'inventory' | 'scale'>): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const c of r.comparisons) {
    if (c.oursVsMirrorMaker !== null)
      out.push({ target: `copy ${c.variant}: >= 1.0x MirrorMaker 2`, measured: `${c.oursVsMirrorMaker}x`, pass: c.oursVsMirrorMaker >= 1.0 });
    if (c.oursVsRawLimit !== null)
      out.push({ target: `copy ${c.variant}: >= 60 % of the raw limit`, measured: `${Math.round(c.oursVsRawLimit * 100)} %`, pass: c.oursVsRawLimit >= 0.6 });
  }
  for (const t of r.throughput.filter((x) => x.copier.startsWith('kafka-migrate') && x.peakRssMB !== undefined)) {
    out.push({ target: `copier peak RSS ${t.variant}, ${COPIER_NAMES[t.copier]}: < 512 MB`, measured: `${t.peakRssMB} MB`, pass: t.peakRssMB! < 512 });
  }
  if ('writePauseMs' in r.cutover) {
    const s = r.cutover.shape;
    out.push({
      target: `cutover write pause (${s.topics} topics / ${s.topics * s.partitionsPerTopic} partitions / ${s.groups} groups): < 5 s`,
      measured: `${(r.cutover.writePauseMs / 1000).toFixed(1)} s`,
      pass: r.cutover.writePauseMs < 5000,
    });
  }
  if ('result' in r.inventory && r.inventory.ran) {
    const i = r.inventory.result;
    out.push({
      target: `inventory (${i.shape.topics} topics / ${i.shape.topics * i.shape.partitionsPerTopic} partitions / ${i.shape.groups} groups): < 30 s`,
      measured: `${i.seconds} s`,
      pass: i.seconds < 30,
    });
  }
  if (r.scale?.ran) out.push(...scaleChecks(r.scale.result));
  return out;
}

/** Issue 11 §2: Temporal's limits per run, the write pause goal, and that the migration completed at all. */
export function scaleChecks(s: ScaleResult): TargetCheck[] {
  const L = TEMPORAL_LIMITS;
  const name = `${fmt(s.shape.topics * s.shape.partitionsPerTopic)}-partition batch`;
  const worst = <K extends keyof ScaleResult['runs'][number]>(k: K) => s.runs.reduce((a, b) => ((b[k] as number) > (a[k] as number) ? b : a));
  const events = worst('events');
  const bytes = s.runs.reduce((a, b) => ((b.historyBytes ?? 0) > (a.historyBytes ?? 0) ? b : a));
  const payload = s.runs.reduce((a, b) => (b.largestEventPayloads.bytes > a.largestEventPayloads.bytes ? b : a));
  const outstanding = Math.max(s.maxPendingActivitiesSampled, ...s.runs.map((r) => r.maxOutstandingActivities));
  const query = Math.max(s.largestStatusQueryBytes, s.largestBatchStatusQueryBytes);
  const runName = (r: ScaleResult['runs'][number]) => `${r.workflow} run ${r.run}`;
  const pct = (n: number, limit: number) => `${Math.round((n / limit) * 1000) / 10} % of the limit`;
  return [
    {
      step: 'scale',
      target: `${name}: migration completed, batch verified`,
      measured: `${s.outcome} / ${s.batchOutcome}`,
      pass: s.outcome === 'completed' && s.batchOutcome === 'completed',
    },
    {
      step: 'scale',
      target: `${name}: ran without a block (no operator retry needed)`,
      measured: s.blocks.length
        ? `${s.blocks.length} blocks: ${s.blocks.map((b) => `${b.workflow} ${b.step} ${b.type} at ${b.atSeconds} s`).join('; ')}`
        : 'none',
      pass: s.blocks.length === 0,
    },
    {
      step: 'scale',
      target: `${name}: history events per run < ${fmt(L.eventsPerRun)}`,
      measured: `${fmt(events.events)} (${runName(events)}; ${pct(events.events, L.eventsPerRun)})`,
      pass: events.events < L.eventsPerRun,
    },
    {
      step: 'scale',
      target: `${name}: history size per run < 50 MB`,
      measured: `${mb(bytes.historyBytes ?? 0)} (${runName(bytes)}; ${pct(bytes.historyBytes ?? 0, L.historyBytesPerRun)})`,
      pass: (bytes.historyBytes ?? Infinity) < L.historyBytesPerRun,
    },
    {
      step: 'scale',
      target: `${name}: payloads of one history event < 2 MB`,
      measured: `${kb(payload.largestEventPayloads.bytes)} (${runName(payload)}, ${payload.largestEventPayloads.where}; ${pct(payload.largestEventPayloads.bytes, L.payloadBytes)})`,
      pass: payload.largestEventPayloads.bytes < L.payloadBytes,
    },
    {
      step: 'scale',
      target: `${name}: largest query answer < 2 MB`,
      measured: `${kb(query)} (${s.largestBatchStatusQueryBytes >= s.largestStatusQueryBytes ? 'batchStatus' : 'status'}; ${pct(query, L.payloadBytes)})`,
      pass: query < L.payloadBytes,
    },
    {
      step: 'scale',
      target: `${name}: pending activities <= ${fmt(L.pendingActivities)}`,
      measured: `${fmt(outstanding)} (${pct(outstanding, L.pendingActivities)})`,
      pass: outstanding <= L.pendingActivities,
    },
    {
      step: 'scale',
      target: `${name}: write pause < ${SCALE_WRITE_PAUSE_GOAL_MS / 1000} s (quietPeriodSeconds ${s.shape.quietPeriodSeconds})`,
      measured: `${(s.writePauseMs / 1000).toFixed(2)} s`,
      pass: s.writePauseMs < SCALE_WRITE_PAUSE_GOAL_MS,
    },
  ];
}

const COPIER_NAMES: Record<ThroughputResult['copier'], string> = {
  'raw-limit': 'raw limit (ProducerPerformance → target)',
  mirrormaker2: 'MirrorMaker 2 (3.9.2, 4 tasks)',
  'kafka-migrate': 'kafka-migrate',
  'kafka-migrate-wide': 'kafka-migrate, 1 partition per activity',
  'kafka-migrate-reverse': 'kafka-migrate reverse sync (target → source, rollback window)',
};

const fmt = (n: number) => n.toLocaleString('en-US');
const kb = (n: number) => `${fmt(Math.round(n / 100) / 10)} kB`;
const mb = (n: number) => `${fmt(Math.round(n / 1e5) / 10)} MB`;

/** The whole run: the issue-6 figures, then (when it ran) the scale step's section. */
export function renderMarkdown(r: BenchResults): string {
  return r.scale?.ran ? `${renderIssue6(r)}\n${renderScale(r)}` : renderIssue6(r);
}

/** The scale step's section of docs/BENCHMARKS.md: figures, per-run table, checks. */
export function renderScale(r: BenchResults): string {
  if (!r.scale?.ran) return `Scale batch: not measured (${r.scale?.skipped ?? 'not selected'}).\n`;
  const s = r.scale.result;
  const lines = [
    `Run ${r.startedAt} (${r.size}), ${r.machine.cpus} cores, ${r.machine.memoryGB} GB, Node ${r.machine.node}.`,
    '',
    ...scaleSummaryLines(s).map((l) => `- ${l}`),
    '',
  ];
  lines.push(
    '| Workflow run | status | events | history bytes (server) | payload bytes | activities | most outstanding at once | largest payload | most payload bytes in one event |',
    '|---|---|---:|---:|---:|---:|---:|---|---|',
  );
  for (const x of s.runs) {
    lines.push(
      `| ${x.workflow} run ${x.run} | ${x.status} | ${fmt(x.events)} | ${x.historyBytes === null ? '-' : fmt(x.historyBytes)} | ${fmt(x.payloadBytes)} | ${fmt(x.activitiesScheduled)} | ${fmt(x.maxOutstandingActivities)} | ${kb(x.largestPayload.bytes)} ${x.largestPayload.where} | ${kb(x.largestEventPayloads.bytes)} ${x.largestEventPayloads.where} |`,
    );
  }
  lines.push('', '| Goal / limit | Measured | |', '|---|---|---|');
  for (const t of r.targets.filter((x) => x.step === 'scale')) lines.push(`| ${t.target} | ${t.measured} | ${t.pass ? 'PASS' : 'MISS'} |`);
  return lines.join('\n') + '\n';
}

/** Plain lines of the scale step's figures (printed as the step ends, and the list in its section). */
export function scaleSummaryLines(s: ScaleResult): string[] {
  const sh = s.shape;
  const steps = Object.entries(s.steps)
    .map(([k, ms]) => `${k} ${ms} ms`)
    .join(', ');
  const batch = s.runs.filter((x) => x.workflow === 'batch');
  return [
    `Batch: ${sh.topics} topics x ${sh.partitionsPerTopic} partitions = ${fmt(sh.topics * sh.partitionsPerTopic)} partitions, ${sh.groups} groups with committed offsets, ${sh.recordsPerPartition} records of ${sh.valueBytes} B per partition (${fmt(s.recordsCopied)} records copied in ${s.rounds} copy rounds); copy.partitionsPerActivity ${sh.partitionsPerActivity}, copy.roundSeconds ${sh.roundSeconds}, workflow.continueAsNewAfterEvents ${fmt(sh.continueAsNewAfterEvents)}, producers-first, quietPeriodSeconds ${sh.quietPeriodSeconds}; one migrationWorkflow with one batchWorkflow child, real activities, the operator answering every step at once, producers and consumers stopped together (clientsStopped).`,
    `Outcome: migration ${s.outcome}, batch ${s.batchOutcome}; preflight ${s.preflight.verdict}${s.preflight.overridden.length ? ` (overridden: ${s.preflight.overridden.join('; ')})` : ''}.`,
    `Time: ${s.totalSeconds} s from the migration's start to completed (caught up and asking for the cutover after ${s.toReadySeconds} s; the batch child took ${s.batchCopyToReadySeconds} s from its start to ready); seeding ${s.seedSeconds} s, clean-up ${s.cleanupSeconds} s (not counted). Phases first seen at: ${Object.entries(
      s.phaseSeenAtSeconds,
    )
      .map(([k, v]) => `${k} ${v} s`)
      .join(', ')}.`,
    ...(s.blocks.length
      ? [`Blocks (each answered with retry): ${s.blocks.map((b) => `${b.atSeconds} s, ${b.workflow} step ${b.step}: ${b.type}: ${b.error}`).join(' | ')}.`]
      : ['Blocks: none.']),
    `Write pause: ${s.writePauseMs} ms (the batch's writePauseMs: producersStopped received -> clients may move). Steps: ${steps}.`,
    ...(s.pauseTimeline?.length
      ? [
          `Activities in the write pause (ms after producersStopped: scheduled / first started / last closed): ${s.pauseTimeline
            .map((a) => `${a.activity}${a.count > 1 ? ` x${a.count}` : ''} ${a.scheduledMs}/${a.startedMs ?? '-'}/${a.closedMs ?? '-'}`)
            .join(', ')}.`,
        ]
      : []),
    ...(s.pauseNotes?.length ? [`In the write pause: ${s.pauseNotes.join('; ')}.`] : []),
    `Verification of the batch (every partition, group and config): ${s.verificationSeconds ?? '-'} s.`,
    `History: migration ${fmt(s.runs[0].events)} events / ${s.runs[0].historyBytes === null ? '-' : mb(s.runs[0].historyBytes)}; batch ${s.batchRuns} runs (continued as new ${s.continuedAsNew} times): ${batch.map((x) => `${fmt(x.events)} events / ${x.historyBytes === null ? '-' : mb(x.historyBytes)}`).join(', ')}.`,
    `Largest query answers: status ${kb(s.largestStatusQueryBytes)}, batchStatus ${kb(s.largestBatchStatusQueryBytes)} (JSON). Pending activities: at most ${s.maxPendingActivitiesSampled} in ${s.pendingActivitySamples} describe() samples; at most ${Math.max(...s.runs.map((x) => x.maxOutstandingActivities))} outstanding at once replayed from the histories.`,
  ];
}

/** The issue-6 figures (copy, cutover, inventory) and their targets. */
export function renderIssue6(r: BenchResults): string {
  const lines: string[] = [`Run ${r.startedAt} (${r.size}), ${r.machine.cpus} cores, Node ${r.machine.node}.`, ''];
  if (r.throughput.length) lines.push(...renderThroughput(r), '');
  else lines.push('Copy throughput: not measured (not selected).', '');
  if ('writePauseMs' in r.cutover) {
    const steps = Object.entries(r.cutover.steps)
      .map(([k, ms]) => `${k} ${ms} ms`)
      .join(', ');
    lines.push(
      `Cutover write pause: ${r.cutover.writePauseMs} ms from the accepted producersStopped to clients may move (the workflow's own writePauseMs: ${r.cutover.workflowWritePauseMs} ms). Steps: ${steps}; quietPeriodSeconds ${r.cutover.shape.quietPeriodSeconds}, outcome ${r.cutover.outcome}. Verification of the batch afterwards: ${r.cutover.verificationSeconds ?? '-'} s; largest batch status query answer: ${fmt(Math.round(r.cutover.largestStatusQueryBytes / 1000))} kB.`,
    );
    const rb = r.cutover.rollback;
    if (rb) {
      lines.push(
        '',
        `Rollback of the same batch (rollback window, then \`rollback\`): write pause ${rb.writePauseMs} ms from the accepted rollback to clients may move back (quiet check on the target, reverse drain, group offsets translated back and committed, verification: ${rb.verificationOk ? 'passed' : 'FAILED'}); the reverse sync copied the ${fmt(rb.recordsWrittenOnTarget)} records written on the target back in ${rb.reverseCatchUpSeconds} s; source fence ${rb.fence}.`,
      );
    }
  } else lines.push(`Cutover write pause: not measured (${r.cutover.skipped}).`);
  if ('result' in r.inventory && r.inventory.ran) {
    const i = r.inventory.result;
    const phases = i.phases
      ? ` (metadata, offsets, configs and groups ${i.phases.metadataSeconds} s; last record of every partition ${i.phases.lastRecordsSeconds} s)`
      : '';
    lines.push(
      `Inventory: ${i.seconds} s for the whole source (${fmt(i.cluster.topics)} topics / ${fmt(i.cluster.partitions)} partitions / ${fmt(i.cluster.groups)} groups)${phases}.`,
    );
  } else lines.push(`Inventory: not measured (${'skipped' in r.inventory ? r.inventory.skipped : ''}).`);
  lines.push('', '| Target | Measured | |', '|---|---:|---|');
  for (const t of r.targets.filter((x) => x.step !== 'scale')) lines.push(`| ${t.target} | ${t.measured} | ${t.pass ? 'PASS' : 'MISS'} |`);
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
  for (const c of r.comparisons)
    lines.push(`| ${c.variant} | ${c.oursVsMirrorMaker ?? '-'}x | ${c.oursVsRawLimit === null ? '-' : `${Math.round(c.oursVsRawLimit * 100)} %`} |`);
  return lines;
}
