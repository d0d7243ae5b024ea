/**
 * `preflight -f spec.yaml` and `inventory -f spec.yaml`: read-only looks at the clusters WITHOUT a migration
 * workflow. They run on a worker of the task queue (a short look workflow, src/workflows/readOnly.ts), so this
 * machine needs neither the secrets nor broker access, only Temporal. They print their report and write files
 * only into the folder given with `--out`, never into the migration's own reports folder
 * (`<reports.dir>/<name>/`): a running migration's reports live there, and a look must not replace them.
 */
import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadSpecFile } from '../config/loadSpec';
import type { MigrationSpec } from '../config/spec';
import { migrationReportDir, writeReportIn, type WrittenReport } from '../reports/writeReport';
import type { Inventory } from '../types/inventory';
import type { Io } from './io';
import { runLook } from './lookWorkflow';
import { CliError, EXIT, type GlobalOptions } from './temporalClient';
import type { CheckResult } from '../types/preflight';
import type { LookedCheck } from '../workflows/readOnly';

/** A path with symlinks resolved as far as it exists, so that two spellings of one folder compare equal. */
function canonical(path: string): string {
  const abs = resolve(path);
  return existsSync(abs) ? realpathSync(abs) : abs;
}

/**
 * The folder --out names, refused (exit 2) when it is the migration's own reports folder: the workflow of
 * that migration writes preflight and inventory reports there, and a read-only command must not replace them.
 */
export function outDir(spec: Pick<MigrationSpec, 'name' | 'reports'>, out: string | undefined): string | undefined {
  if (out === undefined) return undefined;
  if (!out.trim()) throw new CliError('--out: expected a folder to write the report into, got ""', EXIT.badInput);
  const own = migrationReportDir(spec);
  if (canonical(out) === canonical(own)) {
    throw new CliError(
      `--out ${out} is the reports folder of migration ${spec.name} (reports.dir/${spec.name} = ${own}), which its workflow writes: give another folder`,
      EXIT.badInput,
    );
  }
  return resolve(out);
}

const written = (files: WrittenReport | undefined) => (files ? `; wrote ${files.markdownPath} ${files.jsonPath}` : '');

export function registerReadOnlyCommands(program: Command, io: Io): void {
  program
    .command('preflight')
    .description(
      'run every preflight check now, read-only, on a worker of the task queue, without starting a migration; prints the report (exit 1 when a check fails)',
    )
    .requiredOption('-f, --file <spec>', 'the migration spec (YAML or JSON)')
    .option('--out <dir>', "also write preflight.md and preflight.json into this folder (not the migration's own reports folder)")
    .option('--quiet', 'print only the verdict, not the report')
    .action(async (opts: { file: string; out?: string; quiet?: boolean }, cmd: Command) => {
      const spec = loadSpecFile(opts.file);
      const dir = outDir(spec, opts.out);
      const { summarizePreflight } = await import('../activities/preflight/summary');
      const { renderPreflightMarkdown } = await import('../reports/preflightReport');
      const looked = await runLook<{ checks: LookedCheck[] }>(cmd.optsWithGlobals<GlobalOptions>(), 'preflight', spec);
      const checks = checksOrWhyNot(looked.checks);
      const report = summarizePreflight(spec.name, checks);
      const markdown = renderPreflightMarkdown(report);
      const files = dir === undefined ? undefined : writeReportIn(dir, 'preflight', report, markdown);
      if (!opts.quiet) io.out(markdown);
      io.out(`preflight ${report.verdict}${written(files)}`);
      if (report.verdict === 'fail') {
        const failed = report.checks.filter((c) => c.verdict === 'fail').map((c) => c.id);
        throw new CliError(
          `preflight failed (${failed.join(', ')}): fix what the report says and run again, or override with a reason once the migration runs`,
          EXIT.failure,
        );
      }
    });

  program
    .command('inventory')
    .description(
      'inventory the source cluster now (topics, groups, activity, business systems), read-only, on a worker of the task queue, without starting a migration; prints the report',
    )
    .requiredOption('-f, --file <spec>', 'the migration spec (YAML or JSON)')
    .option('--out <dir>', "also write inventory.md and inventory.json into this folder (not the migration's own reports folder)")
    .option('--quiet', 'print only the totals, not the report')
    .action(async (opts: { file: string; out?: string; quiet?: boolean }, cmd: Command) => {
      const spec = loadSpecFile(opts.file);
      const dir = outDir(spec, opts.out);
      const { renderInventoryMarkdown } = await import('../reports/inventoryReport');
      const { summarizeInventory } = await import('../inventory/summary');
      const inventory = await runLook<Inventory>(cmd.optsWithGlobals<GlobalOptions>(), 'inventory', spec);
      const markdown = renderInventoryMarkdown(inventory);
      const files = dir === undefined ? undefined : writeReportIn(dir, 'inventory', inventory, markdown);
      if (!opts.quiet) io.out(markdown);
      const t = summarizeInventory(inventory, files ?? { jsonPath: '', markdownPath: '' }).totals;
      io.out(
        `inventory: ${t.topics} topics, ${t.partitions} partitions, ${t.groups} groups (${t.inactiveTopics} inactive topics, ${t.unclaimedGroups} unclaimed groups)${written(files)}`,
      );
    });
}

/**
 * The checks' results; when one could not run (e.g. a cluster that does not answer over the configured protocol),
 * the failed verdicts of the others still say why (e.g. a protocol the target profile does not accept).
 */
function checksOrWhyNot(looked: LookedCheck[]): CheckResult[] {
  const broken = looked.find((c) => !c.result);
  if (!broken) return looked.map((c) => c.result!);
  const failed = looked.flatMap((c) => (c.result?.verdict === 'fail' ? [c.result] : []));
  const explained = failed.map((c) => `\n  ${c.id}: ${c.summary}${c.remediation ? `\n    fix: ${c.remediation}` : ''}`).join('');
  throw new CliError(
    `preflight ${broken.name} could not run: ${(broken.error ?? 'no result').split('\n')[0]}${failed.length ? `\nfailed checks:${explained}` : ''}`,
    EXIT.failure,
  );
}
