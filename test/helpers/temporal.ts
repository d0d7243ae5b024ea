/** An in-process worker on a private task queue, connected to the real Temporal dev server. */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { createWorker } from '../../src/worker/createWorker';
import { temporalSettings, type TemporalSettings } from '../../src/worker/settings';
import { BUNDLE_PATH } from './globalSetup';
import { uniqueSuffix } from './stack';

let runtimeInstalled = false;

export interface TestTemporal {
  settings: TemporalSettings;
  client: Client;
  worker: Worker;
  /** Resolves when the worker has stopped. */
  running: Promise<void>;
  shutdown(): Promise<void>;
}

/** `workflowBundlePath`: a bundle of other workflow code (versioning tests); default the bundle of globalSetup. */
export async function startTestWorker(options: { activities?: object; taskQueue?: string; workflowBundlePath?: string } = {}): Promise<TestTemporal> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
    runtimeInstalled = true;
  }
  const settings = temporalSettings({ taskQueue: options.taskQueue ?? `km-test-${uniqueSuffix()}` });
  const nativeConnection = await NativeConnection.connect({ address: settings.address });
  const { worker } = await createWorker({
    settings,
    connection: nativeConnection,
    workflowBundle: { codePath: options.workflowBundlePath ?? BUNDLE_PATH },
    activities: options.activities,
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: settings.address });
  const client = new Client({ connection, namespace: settings.namespace });
  return {
    settings,
    client,
    worker,
    running,
    async shutdown() {
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await connection.close();
    },
  };
}
