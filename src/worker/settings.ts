/** Where the worker and the CLI find Temporal: flags win over the environment, which wins over defaults. */
import { TASK_QUEUE_DEFAULT } from '../workflows/ids';

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
}

export function temporalSettings(overrides: Partial<TemporalSettings> = {}): TemporalSettings {
  return {
    address: overrides.address ?? process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: overrides.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: overrides.taskQueue ?? process.env.KM_TASK_QUEUE ?? TASK_QUEUE_DEFAULT,
  };
}
