import { Client, Connection, isGrpcServiceError, WorkflowNotFoundError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { migrationWorkflowId } from '../workflows/ids';
import type { TemporalSettings } from '../worker/settings';
import {
  diagnoseTemporalConnectError,
  loadTemporalConnection,
  temporalConnectOptions,
  TemporalConnectionError,
  type TemporalConnectionConfig,
  type TemporalConnectionFlags,
} from '../config/temporalConnection';

/** gRPC status codes we map (numeric: @grpc/grpc-js is not a direct dependency). */
const grpcStatus = { CANCELLED: 1, DEADLINE_EXCEEDED: 4, FAILED_PRECONDITION: 9, UNAVAILABLE: 14 } as const;

/** Exit codes: 0 ok, 1 failure, 2 bad input, 3 refused by the workflow, 4 not found, 5 Temporal unreachable. */
export const EXIT = { ok: 0, failure: 1, badInput: 2, refused: 3, notFound: 4, unavailable: 5 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The global options every command accepts (flags win over the environment). */
export interface GlobalOptions extends TemporalConnectionFlags {
  /** Seconds to wait for a query or an update to be answered by a worker. */
  timeout?: string;
}

export interface TemporalSession {
  client: Client;
  settings: TemporalSettings;
  /** Milliseconds a query/update may take before we say that no worker answers. */
  rpcTimeoutMs: number;
  close: () => Promise<void>;
}

/** Connects to Temporal for one CLI command; the caller closes it. */
export async function connectClient(overrides: GlobalOptions = {}): Promise<TemporalSession> {
  let temporal: TemporalConnectionConfig;
  try {
    temporal = loadTemporalConnection(overrides);
  } catch (e) {
    if (e instanceof TemporalConnectionError) throw new CliError(e.message, EXIT.badInput);
    throw e;
  }
  const settings: TemporalSettings = { address: temporal.address, namespace: temporal.namespace, taskQueue: temporal.taskQueue };
  const rpcTimeoutMs = parseTimeout(overrides.timeout);
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...temporalConnectOptions(temporal), connectTimeout: '5s' });
  } catch (e) {
    const explained = await diagnoseTemporalConnectError(e, temporal);
    const hint = explained.startsWith('cannot reach') ? '; start it with "npm run stack:up" or set TEMPORAL_ADDRESS / --address' : '';
    throw new CliError(`${explained}${hint}`, EXIT.unavailable);
  }
  return { client: new Client({ connection, namespace: settings.namespace }), settings, rpcTimeoutMs, close: () => connection.close() };
}

function parseTimeout(value: string | undefined): number {
  if (value === undefined) return 30_000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new CliError(`--timeout: expected a number of seconds, got "${value}"`, EXIT.badInput);
  return seconds * 1000;
}

/** Runs fn with a connected client, always closing it, and turns Temporal errors into one-line CliErrors. */
export async function withTemporal<T>(opts: GlobalOptions, fn: (session: TemporalSession) => Promise<T>): Promise<T> {
  const session = await connectClient(opts);
  try {
    return await fn(session);
  } catch (e) {
    throw toCliError(e, session);
  } finally {
    await session.close().catch(() => undefined);
  }
}

/** A call that ran into the deadline withinDeadline gave it. */
class CallDeadlineReached extends Error {
  constructor(override readonly cause: unknown) {
    super('the call did not end before its deadline');
    this.name = 'CallDeadlineReached';
  }
}

/** How early a CANCELLED may come and still be the deadline: a timer may fire a millisecond early. */
const DEADLINE_MARGIN_MS = 50;

/**
 * client.withDeadline, with both of a passed deadline's faces made one. grpc-js reports such a call either as
 * DEADLINE_EXCEEDED or, when the SDK's own abort at that moment wins the race, as CANCELLED "Call cancelled" (2 of
 * 15 queries without a worker on the dev server). The CLI cancels no call otherwise, so CANCELLED at or after the
 * deadline is the deadline.
 */
export async function withinDeadline<T>(session: TemporalSession, ms: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ms;
  try {
    return await session.client.withDeadline(deadline, fn);
  } catch (e) {
    if (Date.now() >= deadline - DEADLINE_MARGIN_MS && hasGrpcCode(e, grpcStatus.CANCELLED)) throw new CallDeadlineReached(e);
    throw e;
  }
}

function hasGrpcCode(e: unknown, code: number): boolean {
  for (let cur = e as { code?: unknown; cause?: unknown } | undefined, depth = 0; cur && depth < 5; cur = cur.cause as typeof cur, depth++) {
    if (cur.code === code) return true;
  }
  return false;
}

/** Bounds a query/update: without a worker polling, Temporal would hold the call until its own deadline. */
export async function answeredByWorker<T>(
  session: TemporalSession,
  what: string,
  fn: () => Promise<T>,
  taskQueue?: string,
  actionDeadline?: string,
): Promise<T> {
  // An action not taken in time is void (the workflow refuses it after its deadline): say so plainly.
  const void_ = actionDeadline ? `; the action was NOT applied and will not be applied later (it expired at ${actionDeadline})` : '';
  try {
    return await withinDeadline(session, session.rpcTimeoutMs, fn);
  } catch (e) {
    if (isNoPoller(e)) {
      const queue = taskQueue ? `task queue ${taskQueue}` : "the workflow's task queue";
      throw new CliError(
        `${what}: no worker polls ${queue}; start one there ("KM_TASK_QUEUE=${taskQueue ?? '<queue>'} npm run worker")${void_}`,
        EXIT.unavailable,
      );
    }
    if (isDeadline(e)) {
      throw new CliError(
        `${what}: no worker answered within ${session.rpcTimeoutMs / 1000} s; is a worker polling the workflow's task queue? Start one with "npm run worker" (KM_TASK_QUEUE), or raise --timeout${void_}`,
        EXIT.unavailable,
      );
    }
    throw e;
  }
}

/** Temporal answers a query at once with FAILED_PRECONDITION when nobody polls the task queue. */
function isNoPoller(e: unknown): boolean {
  for (let cur = e as { code?: number; message?: string; cause?: unknown } | undefined, depth = 0; cur && depth < 5; cur = cur.cause as typeof cur, depth++) {
    if (cur.code === grpcStatus.FAILED_PRECONDITION && /no poller/i.test(cur.message ?? '')) return true;
  }
  return false;
}

function isDeadline(e: unknown): boolean {
  if (e instanceof WorkflowUpdateRPCTimeoutOrCancelledError || e instanceof CallDeadlineReached) return true;
  if (isGrpcServiceError(e) && e.code === grpcStatus.DEADLINE_EXCEEDED) return true;
  const cause = (e as { cause?: unknown })?.cause;
  return !!cause && cause !== e && isDeadline(cause);
}

function toCliError(e: unknown, session: TemporalSession): unknown {
  if (e instanceof CliError) return e;
  if (e instanceof WorkflowNotFoundError) {
    return new CliError(
      `no workflow ${e.workflowId ?? ''} in namespace ${session.settings.namespace}; "kafka-migrate list" shows the migrations`,
      EXIT.notFound,
    );
  }
  if (isGrpcServiceError(e) && e.code === grpcStatus.UNAVAILABLE) {
    return new CliError(`lost Temporal at ${session.settings.address} (${e.details}); check "npm run stack:status"`, EXIT.unavailable);
  }
  if (isDeadline(e)) return new CliError(`Temporal at ${session.settings.address} did not answer in time; retry, or raise --timeout`, EXIT.unavailable);
  return e;
}

/** Accepts a workflow id or a migration name (`demo` for `migration-demo`). */
export async function resolveMigrationId(client: Client, id: string): Promise<string> {
  for (const candidate of id.startsWith('migration-') ? [id] : [migrationWorkflowId(id), id]) {
    try {
      await client.workflow.getHandle(candidate).describe();
      return candidate;
    } catch (e) {
      if (!(e instanceof WorkflowNotFoundError)) throw e;
    }
  }
  throw new CliError(
    `no migration "${id}" (tried ${id.startsWith('migration-') ? id : `${migrationWorkflowId(id)} and ${id}`}); "kafka-migrate list" shows the migrations`,
    EXIT.notFound,
  );
}
