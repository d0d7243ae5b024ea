/** Builds a worker that runs kafka-migrate's workflows and activities on one task queue. */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import * as activities from '../activities';
import type { TemporalSettings } from './settings';
import { loadTemporalConnection, temporalConnectOptions, type TemporalConnectionConfig } from '../config/temporalConnection';
import { workerIdentity } from './identity';

export interface CreateWorkerOptions {
  settings: TemporalSettings;
  /** A pre-built bundle (tests bundle once); otherwise the workflows are bundled from source. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  connection?: NativeConnection;
  /** TLS, API key and metadata of the connection; default: loaded from the profile and environment for settings. */
  temporal?: TemporalConnectionConfig;
  maxConcurrentActivityTaskExecutions?: number;
  /** Replaces the real activities (workflow signal-path tests script the Kafka side). */
  activities?: object;
}

export async function createWorker(options: CreateWorkerOptions): Promise<{ worker: Worker; connection: NativeConnection; ownsConnection: boolean }> {
  const ownsConnection = !options.connection;
  const connection =
    options.connection ?? (await NativeConnection.connect(temporalConnectOptions(options.temporal ?? loadTemporalConnection(options.settings))));
  const worker = await Worker.create({
    connection,
    namespace: options.settings.namespace,
    taskQueue: options.settings.taskQueue,
    identity: workerIdentity(),
    activities: options.activities ?? activities,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 32,
    // Copy activities are long-running and heartbeat; give them time to stop cleanly on shutdown.
    shutdownGraceTime: '10s',
    // Heartbeats carry progress and deliver cancellation (a copy round is cancelled as soon as an operator
    // signal arrives): send them often, not the SDK's default of every 30-60 s.
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
  });
  return { worker, connection, ownsConnection };
}
