#!/usr/bin/env node
/**
 * The kafka-migrate worker process. Connects to Temporal (a temporal.toml profile, TEMPORAL_* variables or the
 * flags: src/config/temporalConnection.ts) on KM_TASK_QUEUE, runs until SIGINT/SIGTERM, then drains and exits.
 */
import { Command } from 'commander';
import { createWorker } from './createWorker';
import { addTemporalConnectionOptions } from '../cli/temporalOptions';
import { NativeConnection } from '@temporalio/worker';
import {
  describeTemporalConnection,
  diagnoseTemporalConnectError,
  loadTemporalConnection,
  temporalConnectOptions,
  type TemporalConnectionFlags,
} from '../config/temporalConnection';
import { processCopyBudget } from '../copy/memoryBudget';
import { installRuntime, metricsAddress } from '../metrics/runtimeMetrics';
import { applyHostSettings, type HostSettings } from './hostSettings';

async function main(): Promise<void> {
  const program = new Command('kafka-migrate-worker')
    .description('Runs kafka-migrate workflows and activities')
    .option('--task-queue <name>', 'task queue (env KM_TASK_QUEUE)')
    .option('--metrics-address <host:port>', 'serve Prometheus metrics at http://<host:port>/metrics (env KM_METRICS_ADDRESS; default: none)')
    .option('--secrets-dir <dir>', "where this host's { file: } secret references are (env KM_SECRETS_DIR; default: the working directory)")
    .option('--reports-dir <dir>', "this host's reports folder, instead of the spec's reports.dir (env KM_REPORTS_DIR)")
    .option('--identity <name>', 'the name of this worker in Temporal and in errors (env KM_WORKER_IDENTITY; default pid@host)');
  addTemporalConnectionOptions(program);
  program.parse();
  const host = applyHostSettings(program.opts<HostSettings>());
  const temporal = loadTemporalConnection(program.opts<TemporalConnectionFlags>());
  const settings = { address: temporal.address, namespace: temporal.namespace, taskQueue: temporal.taskQueue };
  const budget = processCopyBudget(); // a bad KM_COPY_MEMORY_MB fails here, not in the first copy
  const metrics = metricsAddress(program.opts<{ metricsAddress?: string }>().metricsAddress);
  installRuntime(metrics); // before the first connection: the runtime is created once per process
  // A refused TLS handshake can leave the native connect retrying forever: bound it, then say why.
  const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('Failed to connect before the deadline (30 s)')), 30_000).unref());
  const connection = await Promise.race([NativeConnection.connect(temporalConnectOptions(temporal)), deadline]).catch(async (e: unknown) => {
    throw new Error(await diagnoseTemporalConnectError(e, temporal));
  });
  const { worker } = await createWorker({ settings, connection });
  if (metrics) console.log(`[worker] Prometheus metrics at http://${metrics}/metrics`);
  console.log(
    `[worker] polling ${settings.taskQueue} on ${describeTemporalConnection(temporal)}; copy memory budget ${Math.round(budget.limitBytes / 1048576)} MiB; pid ${process.pid}; identity ${host.identity}; secrets ${host.secretsDir ?? `${process.cwd()} (working directory)`}; reports ${host.reportsDir ?? "the spec's reports.dir"}`,
  );
  // The Temporal runtime turns SIGINT/SIGTERM into a graceful worker shutdown: run() resolves once in-flight tasks end.
  await worker.run();
  await connection.close();
  console.log('[worker] stopped');
}

main().catch((e) => {
  console.error(`[worker] ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
