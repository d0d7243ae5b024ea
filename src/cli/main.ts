#!/usr/bin/env node
/** kafka-migrate: start, watch, steer and report migrations (each one a Temporal workflow). */
import { Command, CommanderError } from 'commander';
import { SpecError } from '../config/spec';
import { registerActionCommands } from './actionCommands';
import { processIo, type Io } from './io';
import { registerReadOnlyCommands } from './readOnlyCommands';
import { registerReportCommand } from './reportCommand';
import { registerStartCommand } from './startCommand';
import { registerStatusCommands } from './statusCommands';
import { CliError, EXIT } from './temporalClient';
import { addTemporalConnectionOptions } from './temporalOptions';
import { registerWindowCommands } from './windowCommands';

export function buildProgram(io: Io = processIo): Command {
  const program = new Command('kafka-migrate')
    .description('Move Kafka workloads to AutoMQ (or any Kafka-compatible cluster) as a durable Temporal workflow')
    .option('--task-queue <name>', 'task queue of the workers (env KM_TASK_QUEUE, default "kafka-migrate")')
    .option('--timeout <seconds>', 'how long to wait for a worker to answer a query or an action', '30')
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 failure (or a failed preflight), 2 bad input (spec, flags), 3 refused by the workflow,
4 unknown migration, 5 Temporal unreachable or no worker answering.`,
    )
    // Subcommands inherit these (commander copies them when .command() creates one).
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s), outputError: (s, write) => write(s) })
    .showHelpAfterError('(add --help for usage)');
  addTemporalConnectionOptions(program);
  registerStartCommand(program, io);
  registerStatusCommands(program, io);
  registerActionCommands(program, io);
  registerWindowCommands(program, io);
  registerReportCommand(program, io);
  registerReadOnlyCommands(program, io);
  return program;
}

/** Runs one command line (argv without node and script); resolves to the exit code, never exits. */
export async function run(argv: string[], io: Io = processIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    return reportError(e, io);
  }
}

function reportError(e: unknown, io: Io): number {
  if (e instanceof CommanderError) {
    // Help and version are "errors" to commander; usage errors were already printed by it.
    return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
  }
  if (e instanceof SpecError) {
    io.err(`${e.message}\n(fix the spec and run again; examples/demo.yaml documents every field)`);
    return EXIT.badInput;
  }
  if (e instanceof CliError) {
    io.err(e.exitCode === EXIT.refused ? e.message : `error: ${e.message}`);
    return e.exitCode;
  }
  io.err(`error: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  return EXIT.failure;
}

if (require.main === module) {
  void run(process.argv.slice(2)).then((code) => process.exit(code));
}
