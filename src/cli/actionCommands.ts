/**
 * Operator actions: approve, reject, override, producers-stopped, consumers-stopped, retry-verification,
 * accept-mismatches, retry, exclude-topic, abort. Each is one `operatorAction` update; a refusal prints
 * `refused: <reason>`, exit 3. producers-stopped and consumers-stopped answer with the verdict of their check.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { OperatorAction, OperatorActionName } from '../workflows/messages';
import type { Io } from './io';
import { sendOperatorAction } from './operatorActions';
import { CliError, EXIT, resolveMigrationId, withTemporal, type GlobalOptions } from './temporalClient';

interface ActionOptions {
  by?: string;
  comment?: string;
  reason?: string;
  batch?: number;
}

const byOption = () => new Option('--by <name>', 'who takes this action (recorded in the decisions)').default(process.env.USER, '$USER');
const batchOption = (what: string) => new Option('--batch <n>', what).argParser(parseBatchNumber);

function parseBatchNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--batch: expected a batch number (1, 2, ...), got "${value}"`, EXIT.badInput);
  return n;
}

export function registerActionCommands(program: Command, io: Io): void {
  const send = async (cmd: Command, id: string, action: OperatorActionName, opts: ActionOptions, extra: Partial<OperatorAction> = {}) => {
    const by = opts.by?.trim();
    if (!by) throw new CliError('--by is required (who takes this action); $USER is not set', EXIT.badInput);
    await withTemporal(cmd.optsWithGlobals<GlobalOptions>(), async (session) => {
      const migrationId = await resolveMigrationId(session.client, id);
      const payload: OperatorAction = { action, by, comment: opts.comment, reason: opts.reason, batch: opts.batch, ...extra };
      const { workflowId, result } = await sendOperatorAction(session, migrationId, payload);
      io.out(`accepted: ${result.message} (${workflowId})`);
    });
  };

  program
    .command('approve')
    .description('approve the plan, a batch cutover, or the start of the next batch')
    .argument('<id>', 'migration name or workflow id')
    .addOption(new Option('--step <step>', 'what to approve').choices(['plan', 'cutover', 'batch']).makeOptionMandatory())
    .addOption(byOption())
    .option('--comment <text>', 'a comment kept with the decision')
    .addOption(batchOption('the batch (cutover: default the running one; batch: the one to start)'))
    .option('--plan <file>', 'with --step plan: approve an edited plan (JSON, same shape as the plan report)')
    .action(async (id: string, opts: ActionOptions & { step: 'plan' | 'cutover' | 'batch'; plan?: string }, cmd: Command) => {
      if (opts.plan && opts.step !== 'plan') throw new CliError('--plan is only valid with --step plan', EXIT.badInput);
      const action = ({ plan: 'approvePlan', cutover: 'approveCutover', batch: 'approveBatch' } as const)[opts.step];
      await send(cmd, id, action, opts, opts.plan ? { plan: readEditedPlan(opts.plan) } : {});
    });

  program
    .command('reject')
    .description('reject the proposed plan (ends the migration)')
    .argument('<id>', 'migration name or workflow id')
    .addOption(byOption())
    .requiredOption('--reason <text>', 'why the plan is rejected')
    .option('--comment <text>', 'a comment kept with the decision')
    .action((id: string, opts: ActionOptions, cmd: Command) => send(cmd, id, 'rejectPlan', opts));

  program
    .command('override')
    .description('go on despite failed preflight checks')
    .argument('<id>', 'migration name or workflow id')
    .addOption(byOption())
    .requiredOption('--reason <text>', 'why the failed checks are acceptable')
    .option('--comment <text>', 'a comment kept with the decision')
    .action((id: string, opts: ActionOptions, cmd: Command) => send(cmd, id, 'overridePreflight', opts));

  const batchAction = (name: string, action: OperatorActionName, description: string, reasonRequired = false) => {
    const c = program
      .command(name)
      .description(description)
      .argument('<id>', 'migration name or workflow id')
      .addOption(batchOption('the batch (default: the running one)'))
      .addOption(byOption())
      .option('--comment <text>', 'a comment kept with the decision');
    if (reasonRequired) c.requiredOption('--reason <text>', 'why');
    else c.option('--reason <text>', 'why');
    c.action((id: string, opts: ActionOptions, cmd: Command) => send(cmd, id, action, opts));
  };
  batchAction(
    'producers-stopped',
    'producersStopped',
    'confirm that the producers of the batch are stopped on the source (checked: the source must stand still)',
  );
  batchAction(
    'consumers-stopped',
    'consumersStopped',
    'confirm that the consumers of the batch are stopped on the source (checked: their groups must be empty)',
  );
  batchAction(
    'clients-stopped',
    'clientsStopped',
    'confirm that the producers and the consumers of the batch are stopped on the source (producers-first; checked: the source must stand still and the groups must be empty): the shortest write pause',
  );
  batchAction('retry-verification', 'retryVerification', 'run the verification of the batch again');
  batchAction('accept-mismatches', 'acceptMismatches', 'finish the batch despite verification mismatches', true);

  program
    .command('retry')
    .description('run the step a blocked batch (or migration phase) is blocked on again, e.g. after fixing an ACL')
    .argument('<id>', 'migration name or workflow id')
    .addOption(batchOption('the blocked batch (default: the one that is blocked, else the migration)'))
    .addOption(byOption())
    .option('--reason <text>', 'what was fixed')
    .option('--comment <text>', 'a comment kept with the decision')
    .action((id: string, opts: ActionOptions, cmd: Command) => send(cmd, id, 'retry', opts));

  program
    .command('exclude-topic')
    .description('drop a topic from a blocked batch (e.g. deleted on the source): reported as not migrated, never verified')
    .argument('<id>', 'migration name or workflow id')
    .requiredOption('--topic <name>', 'the topic to drop')
    .addOption(batchOption('the blocked batch (default: the running one)'))
    .option('--delete-target', 'also delete the partial copy on the target (only a topic this migration created)')
    .addOption(byOption())
    .requiredOption('--reason <text>', 'why the topic is not migrated')
    .option('--comment <text>', 'a comment kept with the decision')
    .action((id: string, opts: ActionOptions & { topic: string; deleteTarget?: boolean }, cmd: Command) =>
      send(cmd, id, 'excludeTopic', opts, { topic: opts.topic, ...(opts.deleteTarget ? { deleteTarget: true } : {}) }),
    );

  program
    .command('abort')
    .description('abort the migration (a running batch rolls back if its clients have not moved yet)')
    .argument('<id>', 'migration name or workflow id')
    .addOption(byOption())
    .requiredOption('--reason <text>', 'why')
    .option('--comment <text>', 'a comment kept with the decision')
    .action((id: string, opts: ActionOptions, cmd: Command) => send(cmd, id, 'abort', opts));
}

function readEditedPlan(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`--plan: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, EXIT.badInput);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`--plan: ${path} is not valid JSON (${(e as Error).message}); start from the plan report's .json file`, EXIT.badInput);
  }
}
