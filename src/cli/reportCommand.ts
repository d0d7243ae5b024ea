/**
 * `report ID --format md|json|html [--out FILE]`: the migration report, built from the live status queries:
 * the migration, each started batch, and each batch's verification verdict, offset translation and
 * verification reports (and its rollback's): read from the paths the batch recorded when this machine has the
 * files, else from the target's report store through a read-only look on a worker (storedReports).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { BatchStatus, MigrationStatus } from '../types';
import { fillFromStore, readBatchReports, sourceLine, unreadStems, type BatchReports, type DetailReport } from './batchReports';
import type { LookedReport, StoredReportsPage } from '../activities/readOnly';
import { runLookIn } from './lookWorkflow';
import { specOfLastRun } from './startCommand';
import { renderBatchMarkdown } from '../reports/batchReport';
import { batchChartsHtml } from '../reports/batchCharts';
import { htmlPage, markdownToHtmlBody } from '../reports/html';
import { renderMigrationMarkdown } from '../reports/migrationReport';
import type { Io } from './io';
import { readBatches, readMigration } from './migrationState';
import { resolveMigrationId, withTemporal, type GlobalOptions, type TemporalSession } from './temporalClient';

export type ReportFormat = 'md' | 'json' | 'html';

export interface MigrationReportData {
  workflowId: string;
  outcome: string;
  status: MigrationStatus;
  batches: BatchStatus[];
  /** Per started batch: the verification verdict and the offsets and verification reports. */
  batchReports: BatchReports[];
}

/**
 * The summaries the migration holds, completed by what the batches themselves say (a running batch's decisions
 * and report paths reach the migration's summary only when it ends).
 */
export function withBatchDetails(status: MigrationStatus, batches: BatchStatus[], reports: BatchReports[]): MigrationStatus {
  return {
    ...status,
    batches: status.batches.map((b) => {
      const live = batches.find((x) => x.number === b.number);
      const verification = b.verification ?? reports.find((r) => r.number === b.number)?.verification;
      return {
        ...b,
        ...(b.decisions || live ? { decisions: b.decisions ?? live!.decisions } : {}),
        ...(b.reports || live ? { reports: { ...(live?.reports ?? {}), ...(b.reports ?? {}) } } : {}),
        ...(verification ? { verification } : {}),
      };
    }),
  };
}

function detailMarkdown(what: string, r: DetailReport | undefined): string {
  if (!r) return `- ${what} report: not written yet\n`;
  if (r.markdown === undefined) return `- ${what} report: ${r.markdownPath}: ${r.error}\n`;
  return `${sourceLine(r)}\n\n${r.markdown}${r.error ? `\n_${r.error}_\n` : ''}`;
}

function batchReportsMarkdown(r: BatchReports): string {
  const verdict = r.verification ? (r.verification.ok ? 'OK' : `${r.verification.mismatchCount} mismatch(es)`) : 'not verified yet';
  return [
    `# Batch ${r.number} (${r.name}): verification ${verdict}`,
    '',
    detailMarkdown('offset translation', r.offsets),
    detailMarkdown('verification', r.verificationReport),
    ...(r.rollback ?? []).map((d) => detailMarkdown(`rollback (${d.fileStem})`, d)),
  ].join('\n');
}

/** The report in one format: the migration first, then each started batch and its detail reports. */
export function renderReport(data: MigrationReportData, format: ReportFormat): string {
  const status = withBatchDetails(data.status, data.batches, data.batchReports);
  if (format === 'json') {
    // The detail reports as their JSON (the Markdown is a rendering of it).
    const batchReports = data.batchReports.map((r) => ({
      ...r,
      offsets: jsonOnly(r.offsets),
      verificationReport: jsonOnly(r.verificationReport),
      ...(r.rollback ? { rollback: r.rollback.map(jsonOnly) } : {}),
    }));
    return `${JSON.stringify({ ...data, status, batchReports }, null, 2)}\n`;
  }
  const md = [
    renderMigrationMarkdown({ outcome: data.outcome, status }),
    ...data.batches.map(renderBatchMarkdown),
    ...data.batchReports.map(batchReportsMarkdown),
  ].join('\n');
  return format === 'md' ? md : renderHtml(data, status);
}

/** HTML: the same sections as the Markdown, each batch followed by its charts (inline SVG). */
function renderHtml(data: MigrationReportData, status: MigrationStatus): string {
  const body = [
    markdownToHtmlBody(renderMigrationMarkdown({ outcome: data.outcome, status })),
    ...data.batches.map((b) => {
      const verification = data.batchReports.find((r) => r.number === b.number)?.verificationReport?.json;
      return `${markdownToHtmlBody(renderBatchMarkdown(b))}\n${batchChartsHtml(b, verification)}`;
    }),
    ...data.batchReports.map((r) => markdownToHtmlBody(batchReportsMarkdown(r))),
  ];
  return htmlPage(`Migration ${data.status.name}: ${data.outcome}`, body.join('\n'));
}

function jsonOnly(r: DetailReport | undefined): Omit<DetailReport, 'markdown'> | undefined {
  if (!r) return undefined;
  const { markdown: _markdown, ...rest } = r;
  return rest;
}

/**
 * The reports this machine could not read, from the target's report store: read by a worker in read-only looks
 * (this machine needs no broker access), one page each (a look's answer stays under Temporal's 2 MB payload
 * limit). No worker within --timeout: exit 5, as every look.
 */
async function storedReports(session: TemporalSession, workflowId: string, fileStems: string[]): Promise<Map<string, LookedReport>> {
  const found = new Map<string, LookedReport>();
  if (!fileStems.length) return found;
  // The look needs the target's connection: the spec the migration's run started with (secret references only).
  let spec;
  let why = `the spec of ${workflowId} is no longer in Temporal's history`;
  try {
    spec = await specOfLastRun(session.client, workflowId);
  } catch (e) {
    why = `the spec of ${workflowId} in Temporal's history could not be read (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
  }
  if (!spec) {
    for (const fileStem of fileStems) found.set(fileStem, { fileStem, error: `cannot ask the report store: ${why}` });
    return found;
  }
  for (let rest = fileStems; rest.length;) {
    const page = await runLookIn<StoredReportsPage>(session, 'reports', spec, { fileStems: rest });
    for (const r of page.reports) found.set(r.fileStem, r);
    // A page always brings at least one report; anything else would loop forever.
    if (page.rest.length >= rest.length) break;
    rest = page.rest;
  }
  return found;
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
        const batches = await readBatches(session, state.status);
        const local = readBatchReports(state.status.batches, batches, state.status.windows);
        const batchReports = fillFromStore(local, await storedReports(session, workflowId, unreadStems(local)));
        return { workflowId, outcome: state.outcome, status: state.status, batches, batchReports };
      });
      const text = renderReport(data, opts.format);
      if (!opts.out) return io.out(text);
      const path = resolve(opts.out);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      io.out(`wrote ${path}`);
    });
}
