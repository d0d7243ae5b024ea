/**
 * Read-only looks at the clusters, run by a worker for `kafka-migrate preflight -f` and `inventory -f`, and for
 * `report` the reports kept in the target's report store (the operator's machine needs no secrets and no broker
 * access): short workflows that run the migration's preflight checks, take its inventory, or read stored reports,
 * and return the result. They start no migration, write no report and have their
 * own workflow ids (`kafka-migrate-look-...`); nothing in them is an operator step.
 */
import type { Duration, RetryPolicy } from '@temporalio/common';
import { proxyActivities, type ActivityFailure } from '@temporalio/workflow';
import type * as activities from '../activities';
import type { MigrationSpec } from '../config/spec';
import { NON_RETRYABLE_FAILURE_TYPES } from '../types/failureTypes';
import { PREFLIGHT_CHECKS, type CheckResult } from '../types/preflight';
import { withSummaries } from './activitySummaries';

export interface LookInput {
  spec: MigrationSpec;
}

/** One preflight check: its result, or why it could not run (after a few attempts). */
export interface LookedCheck {
  name: string;
  result?: CheckResult;
  error?: string;
}

// A look answers an operator waiting at a terminal: a few quick attempts, then say what went wrong.
const retry: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '5s',
  maximumAttempts: 3,
  nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES],
};

function failureMessage(e: unknown): string {
  const cause = (e as ActivityFailure).cause ?? e;
  return cause instanceof Error ? cause.message : String(cause);
}

export async function preflightLookWorkflow(input: LookInput): Promise<{ checks: LookedCheck[] }> {
  const { spec } = input;
  const context = `read-only preflight of ${spec.name}`;
  const quick = withSummaries(proxyActivities<typeof activities>({ startToCloseTimeout: '2 minutes', retry }), context);
  const sampling = withSummaries(
    proxyActivities<typeof activities>({ startToCloseTimeout: `${Math.ceil(spec.thresholds.capacitySampleSeconds) + 120}s` as Duration, retry }),
    context,
  );
  const settled = await Promise.allSettled(
    PREFLIGHT_CHECKS.map((name) => (name === 'checkCapacity' ? sampling : quick)[name]({ spec }) as Promise<CheckResult>),
  );
  return {
    checks: settled.map((s, i) =>
      s.status === 'fulfilled' ? { name: PREFLIGHT_CHECKS[i], result: s.value } : { name: PREFLIGHT_CHECKS[i], error: failureMessage(s.reason) },
    ),
  };
}

/** The inventory, gzipped JSON (src/activities/readOnly.ts). Its activity's failure fails the look; the CLI prints its cause. */
export async function inventoryLookWorkflow(input: LookInput): Promise<Uint8Array> {
  const { spec } = input;
  const long = withSummaries(
    proxyActivities<typeof activities>({ startToCloseTimeout: '30 minutes', heartbeatTimeout: '60s', retry }),
    `read-only inventory of ${spec.name}`,
  );
  return long.inventoryLook({ spec });
}

export interface StoredReportsLookInput extends LookInput {
  /** The report file stems `report` could not read on its own machine. */
  fileStems: string[];
}

/** One page of stored reports (src/activities/readOnly.ts StoredReportsPage, gzipped JSON); the CLI asks again for `rest`. */
export async function storedReportsLookWorkflow(input: StoredReportsLookInput): Promise<Uint8Array> {
  const { spec } = input;
  const quick = withSummaries(
    proxyActivities<typeof activities>({ startToCloseTimeout: '5 minutes', heartbeatTimeout: '60s', retry }),
    `read-only look at the stored reports of ${spec.name}`,
  );
  return quick.storedReportsLook({ target: spec.target, migration: spec.name, fileStems: input.fileStems });
}
