/**
 * A query or update that outlives the CLI's --timeout ends as "no worker answered" (exit 5) whichever way grpc-js
 * reports the passed deadline: DEADLINE_EXCEEDED, or CANCELLED "Call cancelled" when the SDK's abort at the deadline
 * wins the race (seen in CI: `status` of a migration no worker polls exited 1 instead of 5). A CANCELLED before the
 * deadline is not the deadline and is passed on as it is.
 */
import type { Client } from '@temporalio/client';
import { answeredByWorker, CliError, EXIT, withinDeadline, type TemporalSession } from '../src/cli/temporalClient';
import { temporalSettings } from '../src/worker/settings';

/** A session whose client runs the call as it is (the deadline is what the call below does with it). */
function session(rpcTimeoutMs: number): TemporalSession {
  const client = { withDeadline: <R>(_deadline: number, fn: () => Promise<R>) => fn() } as unknown as Client;
  return { client, settings: temporalSettings({ taskQueue: 'q' }), rpcTimeoutMs, close: async () => undefined };
}

/** The error shape @temporalio/client gives a failed query: a ServiceError whose cause is the grpc-js error. */
function grpcError(code: number, details: string): Error {
  const grpc = Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
  return Object.assign(new Error('Failed to query Workflow'), { name: 'ServiceError', cause: grpc });
}

const failAfter = (ms: number, e: Error) => () => new Promise<never>((_, reject) => setTimeout(() => reject(e), ms));

test.each([
  ['CANCELLED (the abort won the race)', 1, 'CANCELLED: Call cancelled'],
  ['DEADLINE_EXCEEDED', 4, 'DEADLINE_EXCEEDED: Deadline exceeded after 0.050s'],
])('a call that ends past its deadline with %s: no worker answered, exit 5', async (_what, code, details) => {
  const e = await answeredByWorker(session(50), 'status of migration-x', failAfter(80, grpcError(code, details))).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(CliError);
  expect(e).toMatchObject({ exitCode: EXIT.unavailable, message: expect.stringMatching(/^status of migration-x: no worker answered within 0\.05 s/) });
});

test('a CANCELLED before the deadline is passed on unchanged', async () => {
  const cancelled = grpcError(1, 'CANCELLED: Call cancelled');
  await expect(withinDeadline(session(5_000), 5_000, failAfter(10, cancelled))).rejects.toBe(cancelled);
});
