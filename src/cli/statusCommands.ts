/** `status` (one migration, optionally watched) and `list` (every migration, through Temporal visibility). */
import type { Command } from 'commander';
import { KM_BATCH, KM_BUSINESS_SYSTEM, KM_MIGRATION, KM_PHASE } from '../workflows/searchAttributes';
import { windowStatusQuery } from '../workflows/windowMessages';
import type { MigrationStatus, WindowStatus } from '../types';
import type { Io } from './io';
import { endedBadly, readBatch, readBatchStates, readMigration, TERMINAL_PHASES } from './migrationState';
import { columns, renderBatchStatus, renderStatus } from './statusView';
import { CliError, EXIT, resolveMigrationId, withTemporal, type GlobalOptions, type TemporalSession } from './temporalClient';

const WATCH_INTERVAL_MS = 2000;

export function registerStatusCommands(program: Command, io: Io): void {
  program
    .command('status')
    .description('show the phase, what it waits for, batches, per-topic progress (lag, ETA) and decisions of a migration')
    .argument('[id]', 'workflow id (migration-<name>) or migration name; default: the only running migration')
    .option('--watch', 'redraw every 2 s until the migration ends')
    .option('--json', 'print the migration and batch statuses as JSON')
    .action(async (id: string | undefined, opts: { watch?: boolean; json?: boolean }, cmd: Command) => {
      await withTemporal(cmd.optsWithGlobals<GlobalOptions>(), async (session) => {
        const workflowId = id ? await resolveMigrationId(session.client, id) : await onlyRunningMigration(session);
        const { type } = await session.client.workflow.getHandle(workflowId).describe();
        for (let frame = 0; ; frame++) {
          const shown =
            type === 'batchWorkflow'
              ? await batchFrame(session, workflowId, opts.json === true)
              : await migrationFrame(session, workflowId, opts.json === true);
          io.out(opts.json ? shown.text : frameText(io, opts.watch === true, shown.text));
          if (!opts.watch || shown.ended) return failIfEndedBadly(workflowId, shown);
          await io.sleep(WATCH_INTERVAL_MS);
        }
      });
    });

  program
    .command('list')
    .description('list migrations and their phases (Temporal visibility: search attributes KmMigration, KmPhase)')
    .option('--all', 'also list the batch child workflows')
    .option('--limit <n>', 'at most this many rows', '50')
    .option('--json', 'print JSON')
    .action(async (opts: { all?: boolean; limit: string; json?: boolean }, cmd: Command) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit <= 0) throw new CliError(`--limit: expected a positive integer, got "${opts.limit}"`, EXIT.badInput);
      await withTemporal(cmd.optsWithGlobals<GlobalOptions>(), async (session) => {
        const rows = await listMigrations(session, { all: opts.all === true, limit });
        if (opts.json) io.out(JSON.stringify(rows, null, 2));
        else if (!rows.length) io.out(opts.all ? 'no migrations' : 'no migrations (start one with "kafka-migrate start -f spec.yaml")');
        else
          io.out(
            columns(
              [
                ['WORKFLOW ID', 'STATUS', 'PHASE', 'MIGRATION', 'BATCH', 'STARTED'],
                ...rows.map((r) => [
                  r.workflowId,
                  r.status,
                  r.phase ?? '',
                  r.migration ?? '',
                  r.batch === undefined ? '' : `${r.batch} ${r.businessSystem ?? ''}`.trim(),
                  r.startTime,
                ]),
              ],
              '',
            ).join('\n'),
          );
      });
    });
}

interface Frame {
  text: string;
  execution: string;
  ended: boolean;
  reason?: string;
}

async function migrationFrame(session: TemporalSession, workflowId: string, json: boolean): Promise<Frame> {
  const state = await readMigration(session, workflowId);
  const reads = await readBatchStates(session, state.status);
  const batches = reads.flatMap((b) => (b.status ? [b.status] : []));
  const batchExecutions = Object.fromEntries(reads.map((b) => [b.workflowId, b.execution]));
  const text = json
    ? JSON.stringify(
        { workflowId, execution: state.execution, ended: state.ended, fromHistory: state.fromHistory, status: state.status, batches, batchExecutions },
        null,
        2,
      )
    : renderStatus(workflowId, state.execution, state.status, batches, {
        batchExecutions,
        ended: state.ended,
        fromHistory: state.fromHistory,
        windows: await readWindows(session, state.status),
      });
  return {
    text,
    execution: state.execution,
    ended: state.execution !== 'RUNNING' || TERMINAL_PHASES.includes(state.status.phase),
    reason: state.ended?.reason,
  };
}

/** `status <batch workflow id>`: the batch's own status (its type is batchWorkflow). */
async function batchFrame(session: TemporalSession, workflowId: string, json: boolean): Promise<Frame> {
  const read = await readBatch(session, workflowId);
  if (!read) throw new CliError(`no workflow ${workflowId}`, EXIT.notFound);
  const text = json
    ? JSON.stringify({ workflowId, execution: read.execution, ended: read.ended, status: read.status }, null, 2)
    : renderBatchStatus(workflowId, read.execution, read.status, read.ended);
  return { text, execution: read.execution, ended: read.execution !== 'RUNNING', reason: read.ended?.reason };
}

/** A migration that failed, was terminated, cancelled or timed out is not "ok": exit 1, saying why. */
function failIfEndedBadly(workflowId: string, f: Frame): void {
  if (endedBadly(f.execution)) throw new CliError(`${workflowId} ${f.reason ?? f.execution.toLowerCase()}`, EXIT.failure);
}

/** A full-screen redraw on a terminal; plain appended frames elsewhere (logs, pipes). */
function frameText(io: Io, watch: boolean, text: string): string {
  if (!watch) return text;
  return io.isTTY ? `\x1b[2J\x1b[H${text}\n\n(refreshing every ${WATCH_INTERVAL_MS / 1000} s; Ctrl-C to stop watching)` : `${text}\n`;
}

export interface MigrationRow {
  workflowId: string;
  type: string;
  status: string;
  phase?: string;
  migration?: string;
  batch?: number;
  businessSystem?: string;
  startTime: string;
  closeTime?: string;
}

export async function listMigrations(session: TemporalSession, opts: { all: boolean; limit: number }): Promise<MigrationRow[]> {
  // Batches carry KmMigration too; without --all only the migration workflows themselves are listed.
  const query = opts.all ? 'KmMigration IS NOT NULL' : "WorkflowType = 'migrationWorkflow'";
  const rows: MigrationRow[] = [];
  for await (const w of session.client.workflow.list({ query, pageSize: Math.min(opts.limit, 100) })) {
    const sa = w.typedSearchAttributes;
    rows.push({
      workflowId: w.workflowId,
      type: w.type,
      status: w.status.name,
      phase: sa.get(KM_PHASE),
      migration: sa.get(KM_MIGRATION),
      batch: sa.get(KM_BATCH),
      businessSystem: sa.get(KM_BUSINESS_SYSTEM),
      startTime: w.startTime.toISOString(),
      closeTime: w.closeTime?.toISOString(),
    });
    if (rows.length >= opts.limit) break;
  }
  return rows;
}

async function onlyRunningMigration(session: TemporalSession): Promise<string> {
  const running: string[] = [];
  for await (const w of session.client.workflow.list({ query: "WorkflowType = 'migrationWorkflow' AND ExecutionStatus = 'Running'", pageSize: 10 })) {
    running.push(w.workflowId);
    if (running.length > 5) break;
  }
  if (running.length === 1) return running[0];
  if (!running.length) throw new CliError('no running migration; give an id ("kafka-migrate list" shows them all)', EXIT.notFound);
  throw new CliError(
    `${running.length > 5 ? 'more than 5' : running.length} migrations are running (${running.slice(0, 5).join(', ')}); give an id`,
    EXIT.badInput,
  );
}

/** The live status of each open rollback window (a window that does not answer is shown from the migration's view). */
async function readWindows(session: TemporalSession, status: MigrationStatus): Promise<Record<number, WindowStatus>> {
  const open = (status.windows ?? []).filter((w) => w.state === 'open' || w.state === 'rolling-back');
  const read = await Promise.all(
    open.map((w) =>
      session.client.workflow
        .getHandle(w.workflowId)
        .query(windowStatusQuery)
        .catch(() => undefined),
    ),
  );
  return Object.fromEntries(read.flatMap((w) => (w ? [[w.batch, w] as const] : [])));
}
