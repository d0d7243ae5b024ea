/**
 * Where the worker and the CLI find Temporal: address, namespace and task queue of the one connection
 * module (src/config/temporalConnection.ts: temporal.toml profile, TEMPORAL_* variables, then flags).
 */
import { loadTemporalConnection, type TemporalConnectionFlags } from '../config/temporalConnection';

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
}

export function temporalSettings(overrides: TemporalConnectionFlags = {}): TemporalSettings {
  const { address, namespace, taskQueue } = loadTemporalConnection(overrides);
  return { address, namespace, taskQueue };
}
