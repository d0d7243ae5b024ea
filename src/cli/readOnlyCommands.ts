/**
 * `preflight -f spec.yaml` and `inventory -f spec.yaml`: read-only looks at the clusters WITHOUT a
 * migration workflow. The activity functions run in-process (they work outside an activity context) and
 * write their reports under `<reports.dir>/<name>/`, as they do inside a migration. They are loaded lazily:
 * other commands need no Kafka client code.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadSpecFile } from '../config/loadSpec';
import type { MigrationSpec } from '../config/spec';
import type { CheckResult } from '../types/preflight';
import type { Io } from './io';
import { CliError, EXIT } from './temporalClient';

/** The checks a migration's preflight phase runs, in its order. */
/** kafkajs' own error lines repeat what the one-line CLI error says; keep them unless asked for. */
function quietKafkaLogs(): void {
  process.env.KM_KAFKAJS_LOG ??= 'nothing';
}

const CHECKS = ['checkVersions', 'checkSecurity', 'checkPermissions', 'checkAcls', 'checkEcosystem', 'checkReachability', 'checkCapacity', 'checkTargetState', 'checkClients'] as const;

export function registerReadOnlyCommands(program: Command, io: Io): void {
  program
    .command('preflight')
    .description('run every preflight check now, read-only, without starting a migration (exit 1 when a check fails)')
    .requiredOption('-f, --file <spec>', 'the migration spec (YAML or JSON)')
    .option('--quiet', 'print only the verdict and the report paths, not the report')
    .action(async (opts: { file: string; quiet?: boolean }) => {
      const spec = loadSpecFile(opts.file);
      quietKafkaLogs();
      const preflight = await import('../activities/preflight');
      const { renderPreflightMarkdown, writePreflightReport } = await import('../reports/preflightReport');
      const checks = await runChecks(CHECKS.map((name) => [name, preflight[name]] as const), spec);
      const report = preflight.summarizePreflight(spec.name, checks);
      const files = await writePreflightReport({ spec, report });
      if (!opts.quiet) io.out(renderPreflightMarkdown(report));
      io.out(`preflight ${report.verdict}; reports: ${files.markdownPath} ${files.jsonPath}`);
      if (report.verdict === 'fail') {
        const failed = report.checks.filter((c) => c.verdict === 'fail').map((c) => c.id);
        throw new CliError(`preflight failed (${failed.join(', ')}): fix what the report says and run again, or override with a reason once the migration runs`, EXIT.failure);
      }
    });

  program
    .command('inventory')
    .description('inventory the source cluster now (topics, groups, activity, business systems), read-only, without starting a migration')
    .requiredOption('-f, --file <spec>', 'the migration spec (YAML or JSON)')
    .option('--quiet', 'print only the totals and the report paths, not the report')
    .action(async (opts: { file: string; quiet?: boolean }) => {
      const spec = loadSpecFile(opts.file);
      quietKafkaLogs();
      const { collectInventory } = await import('../activities/inventory');
      const summary = await collectInventory({ spec }).catch((e: unknown) => {
        throw new CliError(`inventory of ${spec.source.bootstrapServers.join(',')} failed: ${rootMessage(e)}`, EXIT.failure);
      });
      if (!opts.quiet) io.out(readFileSync(summary.reportFiles.markdownPath, 'utf8'));
      const t = summary.totals;
      io.out(`inventory: ${t.topics} topics, ${t.partitions} partitions, ${t.groups} groups (${t.inactiveTopics} inactive topics, ${t.unclaimedGroups} unclaimed groups); reports: ${summary.reportFiles.markdownPath} ${summary.reportFiles.jsonPath}`);
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
  throw new CliError(`preflight ${checks[broken][0]} could not run: ${rootMessage((settled[broken] as PromiseRejectedResult).reason)}${failed.length ? `\nfailed checks:${explained}` : ''}`, EXIT.failure);
}

function rootMessage(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}
