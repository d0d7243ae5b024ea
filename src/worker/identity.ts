/**
 * The name this process goes by as a worker: Temporal's worker identity (shown in the UI's pending activities)
 * and the name errors give when this worker lacks a secret or a file. `KM_WORKER_IDENTITY` overrides the
 * default `<pid>@<host>` (e.g. a pod name).
 */
import { hostname } from 'node:os';

export function workerIdentity(): string {
  return process.env.KM_WORKER_IDENTITY?.trim() || `${process.pid}@${hostname()}`;
}
