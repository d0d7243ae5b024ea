/**
 * `start -f spec.yaml [--id ID] [--resume]` and `resume <name> [-f spec.yaml]`: validate the spec and start its
 * migration workflow. A plain start refuses a name that already ran; resume starts a new run that adopts what
 * the earlier runs finished (batch ledger, owned target topics, offset maps, committed offsets).
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Command } from 'commander';
import { loadSpecFile } from '../config/loadSpec';
import { parseSpec, type MigrationSpec } from '../config/spec';
import { migrationWorkflowId } from '../workflows/ids';
import { KM_MIGRATION, KM_PHASE } from '../workflows/searchAttributes';
import { migrationStaticSummary } from '../workflows/currentDetails';
import type { Io } from './io';
import { CliError, EXIT, withTemporal, type GlobalOptions } from './temporalClient';

/** The Temporal Web UI page of a workflow (TEMPORAL_UI_URL, or the dev server's UI next to the frontend). */
export function workflowUiUrl(address: string, namespace: string, workflowId: string): string {
  const base = process.env.TEMPORAL_UI_URL ?? `http://${address.replace(/:\d+$/, '')}:${process.env.TEMPORAL_UI_PORT ?? 8233}`;
  return `${base.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

export async function startMigration(
  client: Client,
  taskQueue: string,
  spec: MigrationSpec,
  workflowId = migrationWorkflowId(spec.name),
  options: { resume?: boolean } = {},
): Promise<{ workflowId: string; runId: string }> {
  const runsBefore = options.resume ? await checkResumable(client, workflowId) : 0;
  try {
    const handle = await client.workflow.start('migrationWorkflow', {
      taskQueue,
      workflowId,
      args: [options.resume ? { spec, resume: true, runsBefore } : { spec }],
      // A plain start never reuses a name silently: an earlier run's topics and offsets are adopted only by resume.
      workflowIdReusePolicy: options.resume ? WorkflowIdReusePolicy.ALLOW_DUPLICATE : WorkflowIdReusePolicy.REJECT_DUPLICATE,
      // Set at start so that the migration is listed and filterable before its first workflow task runs.
      typedSearchAttributes: [
        { key: KM_MIGRATION, value: spec.name },
        { key: KM_PHASE, value: 'starting' },
      ],
      memo: { summary: `migration ${spec.name}: ${options.resume ? 'resuming' : 'starting'}` },
      // The Temporal UI's summary of the workflow (its current details are kept by the workflow itself).
      staticSummary: migrationStaticSummary(spec, options.resume),
    });
    return { workflowId, runId: handle.firstExecutionRunId };
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) {
      const state = await executionState(client, workflowId);
      if (state === 'RUNNING') throw new CliError(`migration ${workflowId} is already running; see "kafka-migrate status ${workflowId}"`, EXIT.badInput);
      throw new CliError(
        `migration ${workflowId} ran before (${state ?? 'closed'}): resume it with "kafka-migrate resume ${spec.name} -f <spec>" (it adopts what that run finished), or start under another --id`,
        EXIT.badInput,
      );
    }
    throw e;
  }
}

async function executionState(client: Client, workflowId: string): Promise<string | undefined> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name;
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return undefined;
    throw e;
  }
}

/**
 * Resume continues an earlier run that has ended; a running one has nothing to resume. Returns how many earlier
 * runs Temporal still lists under the id (at least 1: a resume follows a run even if its history is gone).
 */
async function checkResumable(client: Client, workflowId: string): Promise<number> {
  const state = await executionState(client, workflowId);
  if (state === 'RUNNING')
    throw new CliError(`refused: resume: ${workflowId} is still running; nothing to resume ("kafka-migrate status ${workflowId}")`, EXIT.refused);
  let runs = 0;
  try {
    // A run that continued as new is the same run of the migration, carried on: not counted.
    for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId.replace(/'/g, "\\'")}'` }))
      if (w.status.name !== 'CONTINUED_AS_NEW') runs++;
  } catch {
    // Visibility unavailable: one earlier run is all that is known.
  }
  return Math.max(1, runs);
}

/** The spec the last run of a migration started with (its history's first event), when Temporal still has it. */
export async function specOfLastRun(client: Client, workflowId: string): Promise<MigrationSpec | undefined> {
  try {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    if (!payload?.data) return undefined;
    const input = JSON.parse(Buffer.from(payload.data).toString('utf8')) as { spec?: unknown };
    return input.spec ? parseSpec(input.spec) : undefined;
  } catch (e) {
    // fetchHistory reports an unknown id as a raw gRPC NOT_FOUND (code 5), not as WorkflowNotFoundError.
    if (e instanceof WorkflowNotFoundError || (e as { code?: unknown }).code === 5) return undefined;
    throw e;
  }
}

export function registerStartCommand(program: Command, io: Io): void {
  const started = (settings: { address: string; namespace: string; taskQueue: string }, workflowId: string, runId: string, resumed: boolean) => {
    io.out(`${resumed ? 'resumed' : 'started'} ${workflowId} (run ${runId}) on task queue ${settings.taskQueue}`);
    io.out(`follow it:  kafka-migrate status ${workflowId} --watch`);
    io.out(`Temporal UI: ${workflowUiUrl(settings.address, settings.namespace, workflowId)}`);
  };
  program
    .command('start')
    .description('validate a spec and start its migration workflow')
    .requiredOption('-f, --file <spec>', 'the migration spec (YAML or JSON)')
    .option('--id <workflowId>', 'workflow id (default migration-<name>)')
    .option('--resume', 'start again after an earlier run ended: adopt what it finished')
    .action(async (opts: { file: string; id?: string; resume?: boolean }, cmd: Command) => {
      const spec = loadSpecFile(opts.file);
      await withTemporal(cmd.optsWithGlobals<GlobalOptions>(), async ({ client, settings }) => {
        const { workflowId, runId } = await startMigration(client, settings.taskQueue, spec, opts.id, { resume: opts.resume === true });
        started(settings, workflowId, runId, opts.resume === true);
      });
    });

  program
    .command('resume')
    .description('start a migration again after it ended (terminated, failed, lost): it adopts the batches, target topics and offsets it already finished')
    .argument('<name>', 'migration name (or workflow id)')
    .option('-f, --file <spec>', 'the migration spec (default: the spec of its last run, if Temporal still has it)')
    .action(async (name: string, opts: { file?: string }, cmd: Command) => {
      await withTemporal(cmd.optsWithGlobals<GlobalOptions>(), async ({ client, settings }) => {
        const workflowId = name.startsWith('migration-') ? name : migrationWorkflowId(name);
        const spec = opts.file ? loadSpecFile(opts.file) : await specOfLastRun(client, workflowId);
        if (!spec) throw new CliError(`resume: Temporal has no earlier run of ${workflowId} to take the spec from; give it with -f <spec>`, EXIT.badInput);
        if (migrationWorkflowId(spec.name) !== workflowId && !name.startsWith('migration-')) {
          throw new CliError(`resume: the spec's name is "${spec.name}", not "${name}"`, EXIT.badInput);
        }
        const { runId } = await startMigration(client, settings.taskQueue, spec, workflowId, { resume: true });
        started(settings, workflowId, runId, true);
      });
    });
}
