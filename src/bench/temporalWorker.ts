/** An in-process worker with the real activities on a private task queue of the local Temporal server. */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createWorker } from '../worker/createWorker';
import { temporalSettings, type TemporalSettings } from '../worker/settings';
import { loadTemporalConnection, temporalConnectOptions } from '../config/temporalConnection';

let runtimeInstalled = false;

export interface BenchTemporal {
  settings: TemporalSettings;
  client: Client;
  shutdown(): Promise<void>;
}

export async function startBenchWorker(taskQueue: string): Promise<BenchTemporal> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
    runtimeInstalled = true;
  }
  const temporal = loadTemporalConnection({ taskQueue });
  const settings = temporalSettings({ taskQueue });
  const nativeConnection = await NativeConnection.connect(temporalConnectOptions(temporal));
  // No pre-built bundle: the workflows are bundled from dist/workflows (takes a few seconds).
  const { worker } = await createWorker({ settings, connection: nativeConnection });
  const running = worker.run();
  const connection = await Connection.connect(temporalConnectOptions(temporal));
  return {
    settings,
    client: new Client({ connection, namespace: settings.namespace }),
    async shutdown() {
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await connection.close();
    },
  };
}
