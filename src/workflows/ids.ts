/** Readable workflow ids, as operators see them in the Temporal UI. */
export const TASK_QUEUE_DEFAULT = 'kafka-migrate';

export function migrationWorkflowId(name: string): string {
  return `migration-${name}`;
}

export function batchWorkflowId(name: string, batchNumber: number, system: string): string {
  return `migration-${name}-batch-${batchNumber}-${system}`;
}
