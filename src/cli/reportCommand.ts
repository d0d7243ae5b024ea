/** `report ID --format md|json|html [--out FILE]`: the migration report, built from the live status queries. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { BatchStatus, MigrationStatus } from '../types';
import { renderBatchMarkdown } from '../reports/batchReport';
import { markdownToHtmlPage } from '../reports/html';
import { renderMigrationMarkdown } from '../reports/migrationReport';
import type { Io } from './io';
import { readBatches, readMigration } from './migrationState';
import { resolveMigrationId, withTemporal, type GlobalOptions } from './temporalClient';

export type ReportFormat = 'md' | 'json' | 'html';

export interface MigrationReportData {
  workflowId: string;
  outcome: string;
  status: MigrationStatus;
  batches: BatchStatus[];
}

/** The report in one format: the migration first, then each started batch. */
export function renderReport(data: MigrationReportData, format: ReportFormat): string {
  if (format === 'json') return `${JSON.stringify(data, null, 2)}\n`;
  const md = [renderMigrationMarkdown({ outcome: data.outcome, status: data.status }), ...data.batches.map(renderBatchMarkdown)].join('\n');
  return format === 'md' ? md : markdownToHtmlPage(md, `Migration ${data.status.name}: ${data.outcome}`);
}

export function registerReportCommand(program: Command, io: Io): void {
  program
    .command('report')
    .description('build the migration report (migration and batches) from the workflows, now')
    .argument('<id>', 'migration name or workflow id')
    .addOption(new Option('--format <format>', 'output format').choices(['md', 'json', 'html']).default('md'))
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (id: string, opts: { format: ReportFormat; out?: string }, cmd: Command) => {
      const data = await withTemporal(cmd.optsWithGlobals<GlobalOptions>(), async (session) => {
        const workflowId = await resolveMigrationId(session.client, id);
        const state = await readMigration(session, workflowId);
        return { workflowId, outcome: state.outcome, status: state.status, batches: await readBatches(session, state.status) };
      });
      const text = renderReport(data, opts.format);
      if (!opts.out) return io.out(text);
      const path = resolve(opts.out);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      io.out(`wrote ${path}`);
    });
}
