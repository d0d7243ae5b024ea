#!/usr/bin/env node
/** kafka-migrate: start, watch and steer migrations (each one a Temporal workflow). */
import { Command } from 'commander';
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { loadSpecFile } from '../config/loadSpec';
import { SpecError } from '../config/spec';
import { migrationWorkflowId } from '../workflows/ids';
import { statusQuery } from '../workflows/messages';
import { CliError, connectClient, EXIT } from './temporalClient';

const program = new Command('kafka-migrate')
  .description('Move Kafka workloads to AutoMQ (or any Kafka-compatible cluster) as a durable Temporal workflow')
  .option('--address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS, default 127.0.0.1:7233)')
  .option('--namespace <ns>', 'Temporal namespace (env TEMPORAL_NAMESPACE, default "default")')
  .option('--task-queue <name>', 'task queue of the workers (env KM_TASK_QUEUE, default "kafka-migrate")');

program
  .command('start')
  .description('validate a spec and start its migration workflow')
  .requiredOption('-f, --file <spec>', 'the migration spec (YAML or JSON)')
  .option('--id <workflowId>', 'workflow id (default migration-<name>)')
  .action(async (opts: { file: string; id?: string }) => {
    const spec = loadSpecFile(opts.file);
    const { client, settings, close } = await connectClient(program.opts());
    try {
      const workflowId = opts.id ?? migrationWorkflowId(spec.name);
      const handle = await client.workflow.start('migrationWorkflow', { taskQueue: settings.taskQueue, workflowId, args: [{ spec }] });
      console.log(`started ${workflowId} (run ${handle.firstExecutionRunId}) on task queue ${settings.taskQueue}`);
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) throw new CliError(`a migration with id ${e.workflowId} is already running; use --id or "kafka-migrate status ${e.workflowId}"`, EXIT.badInput);
      throw e;
    } finally {
      await close();
    }
  });

program
  .command('status')
  .description('show the phase and progress of a migration')
  .argument('<id>', 'workflow id (migration-<name>) or migration name')
  .option('--json', 'print the raw status as JSON')
  .action(async (id: string, opts: { json?: boolean }) => {
    const { client, close } = await connectClient(program.opts());
    try {
      const workflowId = await resolveMigrationId(client, id);
      const status = await client.workflow.getHandle(workflowId).query(statusQuery);
      if (opts.json) console.log(JSON.stringify(status, null, 2));
      else {
        console.log(`${workflowId}: phase ${status.phase}${status.waitingFor ? `, waiting for ${status.waitingFor.signal} (${status.waitingFor.reason})` : ''}`);
        if (status.error) console.log(`error: ${status.error}`);
      }
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) throw new CliError(`no migration ${id}; "kafka-migrate list" shows them`, EXIT.notFound);
      throw e;
    } finally {
      await close();
    }
  });

/** Accepts a workflow id or a migration name (`demo` for `migration-demo`). */
async function resolveMigrationId(client: Client, id: string): Promise<string> {
  for (const candidate of id.startsWith('migration-') ? [id] : [id, migrationWorkflowId(id)]) {
    try {
      await client.workflow.getHandle(candidate).describe();
      return candidate;
    } catch (e) {
      if (!(e instanceof WorkflowNotFoundError)) throw e;
    }
  }
  throw new CliError(`no migration ${id}; "kafka-migrate list" shows them`, EXIT.notFound);
}

program.parseAsync().catch((e: unknown) => {
  if (e instanceof SpecError) {
    console.error(e.message);
    process.exit(EXIT.badInput);
  }
  if (e instanceof CliError) {
    console.error(`error: ${e.message}`);
    process.exit(e.exitCode);
  }
  console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(EXIT.failure);
});
