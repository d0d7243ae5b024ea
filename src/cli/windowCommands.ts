/**
 * `kafka-migrate rollback <name> --batch N --by --reason` and `kafka-migrate finalize <name> --batch N`: the
 * checked `windowAction` update of the batch's rollback window (src/workflows/rollbackWindow.ts). A refusal (no
 * window, window closed, producers or consumers still on the target) prints `refused: ...` with its evidence, exit 3.
 */
import { Option, type Command } from 'commander';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { ACTION_REFUSED } from '../workflows/messages';
import { windowActionUpdate, type WindowAction, type WindowActionName } from '../workflows/windowMessages';
import type { Io } from './io';
import { readMigration } from './migrationState';
import { answeredByWorker, CliError, EXIT, resolveMigrationId, withinDeadline, withTemporal, type GlobalOptions, type TemporalSession } from './temporalClient';

/** The quiet check, group check, drain, offsets and verification may take this long once the window took the action. */
const ROLLBACK_WAIT_MS = 30 * 60 * 1000;

interface WindowOptions {
  batch: number;
  by?: string;
  reason?: string;
  comment?: string;
}

function parseBatchNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--batch: expected a batch number (1, 2, ...), got "${value}"`, EXIT.badInput);
  return n;
}

/** The window workflow of the batch, or a refusal naming why the batch has none (open). */
async function windowOf(session: TemporalSession, migrationId: string, batch: number, action: WindowActionName): Promise<string> {
  const { status } = await readMigration(session, migrationId);
  const summary = status.batches.find((b) => b.number === batch);
  if (!summary) {
    throw new CliError(
      `migration ${migrationId} has no batch ${batch} (batches: ${status.batches.map((b) => b.number).join(', ') || 'none yet'})`,
      EXIT.notFound,
    );
  }
  const w = status.windows?.find((x) => x.batch === batch);
  if (!w) {
    throw new CliError(
      `refused: ${action}: batch ${batch} (${summary.name}) has no rollback window: ${
        summary.state === 'completed' ? 'the spec has no cutover.rollbackWindow' : `its clients have not moved to the target (batch ${summary.state})`
      }`,
      EXIT.refused,
    );
  }
  const closed = action === 'retry' ? ['rolled-back', 'finalized', 'expired'].includes(w.state) : w.state !== 'open';
  if (closed) throw new CliError(`refused: ${action}: the rollback window of batch ${batch} (${summary.name}) is already ${w.state}`, EXIT.refused);
  return w.workflowId;
}

export async function sendWindowAction(session: TemporalSession, migrationId: string, batch: number, action: WindowAction): Promise<string> {
  const workflowId = await windowOf(session, migrationId, batch, action.action);
  const deadline = new Date(Date.now() + session.rpcTimeoutMs).toISOString();
  const handle = session.client.workflow.getHandle(workflowId);
  try {
    const update = await answeredByWorker(
      session,
      `${action.action} on ${workflowId}`,
      () => handle.startUpdate(windowActionUpdate, { args: [{ ...action, deadline }], waitForStage: WorkflowUpdateStage.ACCEPTED }),
      undefined,
      deadline,
    );
    const result = await withinDeadline(session, action.action === 'rollback' ? ROLLBACK_WAIT_MS : session.rpcTimeoutMs, () => update.result());
    return `${result.message} (${workflowId})`;
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) throw new CliError(`refused: ${refusal(e)}`, EXIT.refused);
    // The window closed after the migration's status was read (its windowClosed signal not applied yet).
    if (e instanceof WorkflowNotFoundError || /workflow execution already completed/i.test((e as Error)?.message ?? '')) {
      throw new CliError(
        `refused: ${action.action}: the rollback window of batch ${batch} has already ended (${await closedState(session, workflowId)})`,
        EXIT.refused,
      );
    }
    throw e;
  }
}

/** How a closed window ended: its result's state (rolled-back, finalized, expired). */
async function closedState(session: TemporalSession, workflowId: string): Promise<string> {
  try {
    const result = (await session.client.workflow.getHandle(workflowId).result()) as { state?: string } | undefined;
    return result?.state ? `it is ${result.state}` : 'closed';
  } catch {
    return 'closed';
  }
}

/** The reason and, for a refused rollback, its evidence (partitions still written, groups with members). */
function refusal(e: WorkflowUpdateFailedError): string {
  const cause = e.cause as { type?: string; message?: string; details?: unknown[] } | undefined;
  const lines = [(cause?.message || e.message).split('\n')[0]];
  const evidence =
    cause?.type === ACTION_REFUSED
      ? (cause.details?.[0] as {
          partitionsMoved?: string[];
          groups?: { group: string; state: string; members?: { clientId?: string; host?: string }[] }[];
        } | null)
      : null;
  if (evidence?.partitionsMoved?.length) lines.push(`  partitions still written to on the target: ${evidence.partitionsMoved.join(', ')}`);
  for (const g of evidence?.groups ?? []) {
    lines.push(
      `  group ${g.group} on the target: ${g.state}${g.members?.length ? `, members: ${g.members.map((m) => `${m.clientId ?? '?'}@${m.host ?? '?'}`).join(', ')}` : ''}`,
    );
  }
  return lines.join('\n');
}

export function registerWindowCommands(program: Command, io: Io): void {
  const byOption = () => new Option('--by <name>', 'who takes this action (recorded in the decisions)').default(process.env.USER, '$USER');
  const run = async (cmd: Command, id: string, action: WindowActionName, opts: WindowOptions) => {
    const by = opts.by?.trim();
    if (!by) throw new CliError('--by is required (who takes this action); $USER is not set', EXIT.badInput);
    await withTemporal(cmd.optsWithGlobals<GlobalOptions>(), async (session) => {
      const migrationId = await resolveMigrationId(session.client, id);
      const message = await sendWindowAction(session, migrationId, opts.batch, { action, by, reason: opts.reason, comment: opts.comment });
      io.out(`accepted: ${message}`);
    });
  };
  program
    .command('rollback')
    .description(
      'roll a batch back to the source during its rollback window: checked (producers stopped and groups Empty on the target), then the reverse tail is drained, offsets moved back, verified; clients may then move back',
    )
    .argument('<id>', 'migration name or workflow id')
    .addOption(new Option('--batch <n>', 'the batch to roll back').argParser(parseBatchNumber).makeOptionMandatory())
    .addOption(byOption())
    .requiredOption('--reason <text>', 'why the batch goes back to the source')
    .option('--comment <text>', 'a comment kept with the decision')
    .action((id: string, opts: WindowOptions, cmd: Command) => run(cmd, id, 'rollback', opts));
  program
    .command('finalize')
    .description("end a batch's rollback window: the reverse sync stops, the batch stays on the target")
    .argument('<id>', 'migration name or workflow id')
    .addOption(new Option('--batch <n>', 'the batch whose window ends').argParser(parseBatchNumber).makeOptionMandatory())
    .addOption(byOption())
    .option('--reason <text>', 'why')
    .option('--comment <text>', 'a comment kept with the decision')
    .action((id: string, opts: WindowOptions, cmd: Command) => run(cmd, id, 'finalize', opts));
  program
    .command('retry-window')
    .description("run the step a batch's rollback window is blocked on again (reverse sync, drain, offsets, verification)")
    .argument('<id>', 'migration name or workflow id')
    .addOption(new Option('--batch <n>', 'the batch whose window is blocked').argParser(parseBatchNumber).makeOptionMandatory())
    .addOption(byOption())
    .option('--reason <text>', 'what was fixed')
    .option('--comment <text>', 'a comment kept with the decision')
    .action((id: string, opts: WindowOptions, cmd: Command) => run(cmd, id, 'retry', opts));
}
