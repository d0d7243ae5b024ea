#!/usr/bin/env node
/**
 * `npm run bench`: in one run on the local stack, the same data set copied by MirrorMaker 2 and by this
 * tool, next to the raw write limit of the target; then the cutover write pause of a 50-topic batch, the
 * inventory time of 1,000 topics and a 2,000-partition batch migrated end to end (issue 11 §2, step `scale`).
 * Prints the tables, writes bench-results/<time>.{json,md}, and with --publish also docs/bench-results.json and
 * the sections of docs/BENCHMARKS.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { dataSetShape, ROOT, runId, sourceSetupKafka, targetKafka, type BenchSize } from './settings';
import { fillSource } from './dataSet';
import { measureRawLimit } from './rawLimit';
import { measureMirrorMaker } from './mirrorMaker';
import { measureOurCopy } from './ourCopy';
import { measureReverseCopy } from './reverseCopy';
import { measureCutoverPause } from './cutoverPause';
import { measureInventory } from './inventoryTime';
import { measureScaleBatch, SCALE_SHAPE } from './scaleBatch';
import { deleteTopics, withAdminOf } from './topics';
import { checkTargets, compare, renderIssue6, renderMarkdown, renderScale, scaleSummaryLines, type BenchResults } from './results';
import type { ThroughputResult } from './throughput';
import { underStackWatch } from './stackWatch';

const PHASES = ['copy', 'cutover', 'inventory', 'scale'] as const;
type Phase = (typeof PHASES)[number];
const COPIERS = ['raw', 'mm2', 'ours', 'ours-wide', 'reverse'] as const;
type CopierOption = (typeof COPIERS)[number];
const MARK_BEGIN = '<!-- bench:begin -->';
const MARK_END = '<!-- bench:end -->';
const SCALE_BEGIN = '<!-- bench:scale:begin -->';
const SCALE_END = '<!-- bench:scale:end -->';
/** Brokers settle (flush, release deleted files) between two heavy runs. */
const SETTLE_MS = 5000;

async function main(): Promise<void> {
  const opts = new Command('bench')
    .description('Benchmarks the copy against MirrorMaker 2 and the raw limit, the cutover pause and the inventory time on the local stack')
    .addOption(
      new Option('--size <size>', 'data set: small (about 200 MB, for development) or full (>= 2 GB of 1 KB values)')
        .choices(['small', 'full'])
        .default('full'),
    )
    .option('--only <phases>', `comma-separated subset of ${PHASES.join(',')}`, PHASES.join(','))
    .option('--copiers <copiers>', `comma-separated subset of ${COPIERS.join(',')} (development; a published run measures all)`, COPIERS.join(','))
    .option('--publish', 'also write docs/bench-results.json and the table in docs/BENCHMARKS.md')
    .parse()
    .opts<{ size: BenchSize; only: string; copiers: string; publish?: boolean }>();
  const phases = new Set(opts.only.split(',').map((p) => p.trim()));
  for (const p of phases) if (!PHASES.includes(p as Phase)) throw new Error(`--only: unknown phase "${p}"; expected some of ${PHASES.join(', ')}`);
  const copiers = new Set(opts.copiers.split(',').map((c) => c.trim()));
  for (const c of copiers)
    if (!COPIERS.includes(c as CopierOption)) throw new Error(`--copiers: unknown copier "${c}"; expected some of ${COPIERS.join(', ')}`);
  if (opts.publish && copiers.size < COPIERS.length) throw new Error('--publish needs every copier measured side by side: drop --copiers');

  const say = (line: string) => console.log(`[bench] ${line}`);
  const started = new Date();
  const id = runId();
  const shape = dataSetShape(opts.size);
  // Admin clients are opened per step: kafkajs keeps refreshing the metadata of every topic an admin has
  // touched, and fails once one of them is deleted.
  const source = sourceSetupKafka();
  const target = targetKafka();

  const throughput: ThroughputResult[] = [];
  const notes: string[] = [];
  const watched = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const { value, disturbed } = await underStackWatch(what, fn);
    if (disturbed) {
      say(`WARNING: ${disturbed}`);
      notes.push(disturbed);
    }
    return value;
  };
  let sourceDataExists = false;
  let cutover: BenchResults['cutover'] = { skipped: 'not selected (--only)' };
  let inventory: BenchResults['inventory'] = { ran: false, skipped: 'not selected (--only)' };
  let scale: BenchResults['scale'] = { ran: false, skipped: 'not selected (--only)' };
  // By this run's unique prefix, so that a data set that failed half-way is removed too.
  const cleanUpSource = () =>
    withAdminOf(source, async (a) =>
      deleteTopics(
        a,
        (await a.listTopics()).filter((t) => t.startsWith(`kmbench-${id}-v`)),
      ),
    );
  try {
    if (phases.has('copy')) {
      say(`run ${id}: ${opts.size} data set`);
      sourceDataExists = true;
      const data = await withAdminOf(source, (a) => fillSource(a, id, shape, say));
      for (const d of data) {
        const runs: [CopierOption, string, () => Promise<ThroughputResult>][] = [
          ['raw', 'raw limit (ProducerPerformance to the target)', () => measureRawLimit(target, id, d, shape.partitionsPerTopic)],
          ['mm2', 'MirrorMaker 2', () => measureMirrorMaker(target, d, say)],
          ['ours', 'kafka-migrate', () => measureOurCopy(source, target, id, d)],
          ['ours-wide', 'kafka-migrate, one activity per partition', () => measureOurCopy(source, target, id, d, 1)],
          [
            'reverse',
            'kafka-migrate reverse sync (rollback window: target -> source)',
            () => measureReverseCopy(source, target, id, d, shape.partitionsPerTopic),
          ],
        ];
        for (const [copier, name, run] of runs) {
          if (!copiers.has(copier)) continue;
          say(`${d.variant.label}: ${name}`);
          throughput.push(report(await watched(`${d.variant.label} ${name}`, run), say));
          await settle();
        }
      }
      await cleanUpSource();
      sourceDataExists = false;
    }
    if (phases.has('cutover')) {
      say('cutover write pause: batch workflow on the real server with the real activities');
      const c = await watched('the cutover', () => measureCutoverPause(source, target, id, say));
      say(`  write pause ${c.writePauseMs} ms: ${JSON.stringify(c.steps)}`);
      cutover = c;
    }
    if (phases.has('inventory')) {
      const inv = opts.size === 'full' ? { topics: 1000, partitionsPerTopic: 10, groups: 500 } : { topics: 100, partitionsPerTopic: 10, groups: 50 };
      say(`inventory of ${inv.topics} topics x ${inv.partitionsPerTopic} partitions and ${inv.groups} groups`);
      inventory = await watched('the inventory', () => measureInventory(source, id, inv, say));
      say(inventory.ran ? `  ${inventory.result.seconds} s` : `  skipped: ${inventory.skipped}`);
    }
    if (phases.has('scale')) {
      const shape = opts.size === 'full' ? SCALE_SHAPE : { ...SCALE_SHAPE, topics: 40, groups: 40 };
      say(
        `scale: one batch of ${shape.topics} topics x ${shape.partitionsPerTopic} partitions and ${shape.groups} groups, migrated end to end (migration + batch workflows, real activities)`,
      );
      scale = await watched('the scale batch', () => measureScaleBatch(source, target, id, say, shape));
      if (scale.ran) for (const line of scaleSummaryLines(scale.result)) say(`  ${line}`);
      else say(`  skipped: ${scale.skipped}`);
    }
  } finally {
    if (sourceDataExists) await cleanUpSource().catch((e) => say(`could not delete the source data topics: ${(e as Error).message}`));
  }

  if (opts.size === 'small') notes.push('small data set (development): the figures are not the benchmark; run --size full.');
  const comparisons = compare(throughput);
  const results: BenchResults = {
    startedAt: started.toISOString(),
    size: opts.size,
    durationSeconds: Math.round((Date.now() - started.getTime()) / 1000),
    machine: { cpus: cpus().length, memoryGB: Math.round(totalmem() / 1e9), node: process.versions.node },
    dataSet: {
      topics: shape.topics,
      partitionsPerTopic: shape.partitionsPerTopic,
      variants: shape.variants.map((v) => ({
        label: v.label,
        records: v.recordsPerTopic * shape.topics,
        megabytes: (v.recordsPerTopic * shape.topics * v.valueBytes) / 1e6,
      })),
    },
    throughput,
    comparisons,
    cutover,
    inventory,
    scale,
    targets: [],
    notes,
  };
  results.targets = checkTargets(results);
  const markdown = renderMarkdown(results);
  console.log(`\n${markdown}`);
  const stem = started.toISOString().replace(/[:.]/g, '-');
  const dir = resolve(ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, `${stem}.json`), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(resolve(dir, `${stem}.md`), markdown);
  say(`results: bench-results/${stem}.json (${results.durationSeconds} s in all)`);
  if (opts.publish && !notes.some((n) => n.includes('not valid'))) publish(results, phases, say);
  if (results.targets.some((t) => !t.pass)) process.exitCode = 2;
  if (notes.some((n) => n.includes('not valid'))) {
    say('the stack restarted during the run: not publishing, run again when nothing else restarts it');
    process.exitCode = 3;
  }
}

function report(r: ThroughputResult, say: (l: string) => void): ThroughputResult {
  say(
    `  ${r.mbPerSec} MB/s, ${r.recordsPerSec.toLocaleString('en-US')} records/s over ${r.seconds} s${r.peakRssMB !== undefined ? `, peak RSS ${r.peakRssMB} MB` : ''}`,
  );
  return r;
}

const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));

/**
 * docs/bench-results.json and the sections between the markers of docs/BENCHMARKS.md: the issue-6 section when
 * any of copy/cutover/inventory ran, the scale section when the scale step ran (a scale-only run leaves the rest
 * of the page and of the JSON as it was).
 */
function publish(results: BenchResults, phases: Set<string>, say: (l: string) => void): void {
  const jsonPath = resolve(ROOT, 'docs/bench-results.json');
  const issue6 = ['copy', 'cutover', 'inventory'].some((p) => phases.has(p));
  let json: BenchResults = results;
  if (!issue6) {
    const old = JSON.parse(readFileSync(jsonPath, 'utf8')) as BenchResults;
    json = { ...old, scale: results.scale };
  }
  writeFileSync(jsonPath, JSON.stringify(json, null, 2) + '\n');
  const page = resolve(ROOT, 'docs/BENCHMARKS.md');
  let text = readFileSync(page, 'utf8');
  const replace = (begin: string, end: string, body: string) => {
    const b = text.indexOf(begin);
    const e = text.indexOf(end);
    if (b < 0 || e < b) throw new Error(`docs/BENCHMARKS.md has no ${begin} ... ${end} section to replace`);
    text = `${text.slice(0, b + begin.length)}\n${body}${text.slice(e)}`;
  };
  if (issue6) replace(MARK_BEGIN, MARK_END, renderIssue6(results));
  if (results.scale.ran) replace(SCALE_BEGIN, SCALE_END, renderScale(results));
  writeFileSync(page, text);
  say('published: docs/bench-results.json, docs/BENCHMARKS.md');
}

main().catch((e) => {
  console.error(`[bench] failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
