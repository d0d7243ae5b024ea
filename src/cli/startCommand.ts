/** `start -f spec.yaml [--id ID]`: validates the spec and starts its migration workflow. */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Command } from 'commander';
import { loadSpecFile } from '../config/loadSpec';
import type { MigrationSpec } from '../config/spec';
import { migrationWorkflowId } from '../workflows/ids';
import { KM_MIGRATION, KM_PHASE } from '../workflows/searchAttributes';
import type { Io } from './io';
import { CliError, EXIT, withTemporal, type GlobalOptions } from './temporalClient';

/** The Temporal Web UI page of a workflow (TEMPORAL_UI_URL, or the dev server's UI next to the frontend). */
export function workflowUiUrl(address: string, namespace: string, workflowId: string): string {
  const base = process.env.TEMPORAL_UI_URL ?? `http://${address.replace(/:\d+$/, '')}:${process.env.TEMPORAL_UI_PORT ?? 8233}`;
  return `${base.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

export async function startMigration(client: Client, taskQueue: string, spec: MigrationSpec, workflowId = migrationWorkflowId(spec.name)): Promise<{ workflowId: string; runId: string }> {
  try {
    const handle = await client.workflow.start('migrationWorkflow', {
      taskQueue,
      workflowId,
      args: [{ spec }],
      // Set at start so that the migration is listed and filterable before its first workflow task runs.
      typedSearchAttributes: [
        { key: KM_MIGRATION, value: spec.name },
        { key: KM_PHASE, value: 'starting' },
      ],
      memo: { summary: `migration ${spec.name}: starting` },
    });
    return { workflowId, runId: handle.firstExecutionRunId };
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) {
      throw new CliError(`migration ${workflowId} already exists; see "kafka-migrate status ${workflowId}", or start under another --id`, EXIT.badInput);
    }
    throw e;
  }
}

export function registerStartCommand(program: Command, io: Io): void {
  program
    .command('start')
    .description('validate a spec and start its migration workflow')
    .requiredOption('-f, --file <spec>', 'the migration spec (YAML or JSON)')
    .option('--id <workflowId>', 'workflow id (default migration-<name>)')
    .action(async (opts: { file: string; id?: string }, cmd: Command) => {
      const spec = loadSpecFile(opts.file);
      await withTemporal(cmd.optsWithGlobals<GlobalOptions>(), async ({ client, settings }) => {
        const { workflowId, runId } = await startMigration(client, settings.taskQueue, spec, opts.id);
        io.out(`started ${workflowId} (run ${runId}) on task queue ${settings.taskQueue}`);
        io.out(`follow it:  kafka-migrate status ${workflowId} --watch`);
        io.out(`Temporal UI: ${workflowUiUrl(settings.address, settings.namespace, workflowId)}`);
      });
    });
}
