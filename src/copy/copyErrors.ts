/**
 * Failures of the copy engine that retrying cannot fix (the activity wrapper turns them into
 * non-retryable ApplicationFailures). Everything else thrown by the engine is retryable.
 */
import type { COPY_FAILURE_TYPES } from '../types/failureTypes';

/** The integrity faults of the copy engine; their meanings are listed in FAILURE_TYPES (src/types/failureTypes.ts). */
export type CopyFailureType = (typeof COPY_FAILURE_TYPES)[number];

export class NonRetryableCopyError extends Error {
  constructor(
    readonly type: CopyFailureType,
    message: string,
    /** The topics concerned, for the failure's details (`{ topics }`): what an operator may exclude. */
    readonly topics?: string[],
  ) {
    super(message);
    this.name = 'NonRetryableCopyError';
  }
}
