/**
 * Failures of the copy engine that retrying cannot fix (the activity wrapper turns them into
 * non-retryable ApplicationFailures). Everything else thrown by the engine is retryable.
 */
import { COPY_FAILURE_TYPES } from '../types/failureTypes';

export type CopyFailureType =
  /** Records on the target that the migration did not write: someone else writes to the target topic. */
  | 'TargetWrittenByOthers'
  /** The target partition is shorter than the durable checkpoint: truncated or recreated. */
  | 'TargetTruncated'
  /** Source records were deleted (retention) before they were copied. */
  | 'SourceRecordsLost'
  /** The target topic is missing or has fewer partitions than the source. */
  | 'TargetTopicMissing'
  /** A target topic exists and the existingTopicPolicy forbids using it. */
  | 'TargetTopicExists'
  /** A record or batch the target refuses (too large, invalid). */
  | 'RecordRejected'
  /** The offset-map store is inconsistent. */
  | 'OffsetStoreCorrupt'
  /** A source batch cannot be decoded (old message format, unknown codec, corrupt compressed data). */
  | 'SourceBatchUnreadable';

// The workflows' list (COPY_FAILURE_TYPES) and this union must hold the same names: checked at compile time.
type Unlisted = Exclude<CopyFailureType, (typeof COPY_FAILURE_TYPES)[number]>;
type Unknown = Exclude<(typeof COPY_FAILURE_TYPES)[number], CopyFailureType>;
const sameTypes: [Unlisted, Unknown] extends [never, never] ? true : never = true;
void sameTypes;

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
