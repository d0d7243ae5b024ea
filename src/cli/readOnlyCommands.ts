/**
 * `preflight -f spec.yaml` and `inventory -f spec.yaml`: read-only looks at the clusters WITHOUT a
 * migration workflow. The activity functions run in-process (they work outside an activity context). They
 * print their report and write files only into the folder given with `--out`, never into the migration's
 * own reports folder (`<reports.dir>/<name>/`): a running migration's reports live there, and a look taken
 * from elsewhere (another network, other credentials) must not replace them. Loaded lazily: other commands
 * need no Kafka client code.
 */
import { PREFLIGHT_CHECKS } from '../types/preflight';
import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadSpecFile } from '../config/loadSpec';
import type { MigrationSpec } from '../config/spec';
import { migrationReportDir, writeReportIn, type WrittenReport } from '../reports/writeReport';
import type { CheckResult } from '../types/preflight';
import type { Io } from './io';
import { CliError, EXIT } from './temporalClient';

/** kafkajs' own error lines repeat what the one-line CLI error says; keep them unless asked for. */
function quietKafkaLogs(): void {
  process.env.KM_KAFKAJS_LOG ??= 'nothing';
}

/** The checks a migration's preflight phase runs, in its order. */
const CHECKS = PREFLIGHT_CHECKS;

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
    .description('run every preflight check now, read-only, without starting a migration; prints the report (exit 1 when a check fails)')
    .requiredOption('-f, --file <spec>', 'the migration spec (YAML or JSON)')
    .option('--out <dir>', "also write preflight.md and preflight.json into this folder (not the migration's own reports folder)")
    .option('--quiet', 'print only the verdict, not the report')
    .action(async (opts: { file: string; out?: string; quiet?: boolean }) => {
      const spec = loadSpecFile(opts.file);
      const dir = outDir(spec, opts.out);
      quietKafkaLogs();
      const preflight = await import('../activities/preflight');
      const { renderPreflightMarkdown } = await import('../reports/preflightReport');
      const checks = await runChecks(
        CHECKS.map((name) => [name, preflight[name]] as const),
        spec,
      );
      const report = preflight.summarizePreflight(spec.name, checks);
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
    .description('inventory the source cluster now (topics, groups, activity, business systems), read-only, without starting a migration; prints the report')
    .requiredOption('-f, --file <spec>', 'the migration spec (YAML or JSON)')
    .option('--out <dir>', "also write inventory.md and inventory.json into this folder (not the migration's own reports folder)")
    .option('--quiet', 'print only the totals, not the report')
    .action(async (opts: { file: string; out?: string; quiet?: boolean }) => {
      const spec = loadSpecFile(opts.file);
      const dir = outDir(spec, opts.out);
      quietKafkaLogs();
      const { takeInventory } = await import('../activities/inventory');
      const { renderInventoryMarkdown } = await import('../reports/inventoryReport');
      const { summarizeInventory } = await import('../inventory/summary');
      const inventory = await takeInventory(spec).catch((e: unknown) => {
        throw new CliError(`inventory of ${spec.source.bootstrapServers.join(',')} failed: ${rootMessage(e)}`, EXIT.failure);
      });
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
 * Runs every check; when one cannot run (e.g. a cluster that does not answer over the configured protocol),
 * the failed verdicts of the others still say why (e.g. a protocol the target profile does not accept).
 */
async function runChecks(checks: (readonly [string, (input: { spec: MigrationSpec }) => Promise<CheckResult>])[], spec: MigrationSpec): Promise<CheckResult[]> {
  const settled = await Promise.allSettled(checks.map(([, check]) => check({ spec })));
  const broken = settled.findIndex((s) => s.status === 'rejected');
  if (broken < 0) return settled.map((s) => (s as PromiseFulfilledResult<CheckResult>).value);
  const failed = settled.flatMap((s) => (s.status === 'fulfilled' && s.value.verdict === 'fail' ? [s.value] : []));
  const explained = failed.map((c) => `\n  ${c.id}: ${c.summary}${c.remediation ? `\n    fix: ${c.remediation}` : ''}`).join('');
  throw new CliError(
    `preflight ${checks[broken][0]} could not run: ${rootMessage((settled[broken] as PromiseRejectedResult).reason)}${failed.length ? `\nfailed checks:${explained}` : ''}`,
    EXIT.failure,
  );
}

function rootMessage(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}
