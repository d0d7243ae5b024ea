/**
 * Every ApplicationFailure type that activities and workflows throw, each with whether Temporal may retry it
 * and what it means. Pure constants (no Node or kafkajs imports): the workflows derive their retry policies'
 * `nonRetryableErrorTypes` from it. test/failureTypes.unit.test.ts scans src/ and fails on a thrown type that
 * is not listed here, on a listed type nobody throws, and on a throw whose retryability differs from its entry.
 *
 * A non-retryable failure of an activity stops its step: the batch (or the migration) blocks and waits for the
 * operator's retry, exclude-topic or abort. A retryable one is retried by the activity's retry policy first.
 */

export interface FailureTypeInfo {
  /** Whether a retry of the same activity can succeed without anyone changing anything. */
  readonly retryable: boolean;
  /** Where it is thrown: by an activity, or by workflow code (then no retry policy applies to it). */
  readonly thrownBy: 'activity' | 'workflow';
  /** What it means, in one line. */
  readonly meaning: string;
}

export const FAILURE_TYPES = {
  // Configuration faults (src/kafka/errors.ts, src/activities/connectivity.ts): the message says what to fix.
  KafkaAuthenticationFailed: {
    retryable: false,
    thrownBy: 'activity',
    meaning: 'a cluster refused the credentials (SASL): fix the username or the password reference',
  },
  KafkaAuthorizationFailed: { retryable: false, thrownBy: 'activity', meaning: 'the migration user lacks a permission (ACL) on a cluster: grant it' },
  SecretUnavailable: { retryable: false, thrownBy: 'activity', meaning: 'a secret reference (file, environment variable) of the spec cannot be read' },
  InvalidConfiguration: { retryable: false, thrownBy: 'activity', meaning: 'the spec cannot work as written (e.g. source and target are the same cluster)' },
  KafkaUnavailable: {
    retryable: true,
    thrownBy: 'activity',
    meaning: 'a cluster could not be reached or answered with a transient error (the message names the cluster)',
  },
  InvalidReportName: { retryable: false, thrownBy: 'activity', meaning: 'a report file stem has characters a file name must not have' },

  // Topics and groups of a batch (src/copy/sourceTopicMissing.ts, src/cutover/activeGroups.ts).
  SourceTopicMissing: { retryable: false, thrownBy: 'activity', meaning: 'a topic of the batch no longer exists on the source; details[0] is `{ topics }`' },
  TargetTopicMissing: {
    retryable: false,
    thrownBy: 'activity',
    meaning: 'a topic (or partition) of the batch does not exist on the target; details[0] is `{ topics }`',
  },
  GroupActive: { retryable: false, thrownBy: 'activity', meaning: 'a group of the batch is not Empty on the source; details[0] is `{ groups }`' },
  GroupActiveOnTarget: {
    retryable: false,
    thrownBy: 'activity',
    meaning: 'a group has members on the target and offsets there that the translation would overwrite; details[0] is `{ groups }`',
  },
  OffsetsNotCopiedYet: {
    retryable: true,
    thrownBy: 'activity',
    meaning: "a group's committed offset is beyond what the copy has reached: the copy catches up",
  },

  // Integrity faults of the copy engine (src/copy/copyErrors.ts): retrying cannot fix them.
  TargetWrittenByOthers: {
    retryable: false,
    thrownBy: 'activity',
    meaning: 'records on the target that the migration did not write: someone else writes to the target topic',
  },
  TargetTruncated: { retryable: false, thrownBy: 'activity', meaning: 'the target partition is shorter than the durable checkpoint: truncated or recreated' },
  SourceRecordsLost: { retryable: false, thrownBy: 'activity', meaning: 'source records were deleted (retention) before they were copied' },
  TargetTopicExists: { retryable: false, thrownBy: 'activity', meaning: 'a target topic exists and the existingTopicPolicy forbids using it' },
  RecordRejected: { retryable: false, thrownBy: 'activity', meaning: 'the target refuses a record or batch (too large, invalid)' },
  OffsetStoreCorrupt: { retryable: false, thrownBy: 'activity', meaning: 'the offset-map store on the target is inconsistent' },
  SourceBatchUnreadable: {
    retryable: false,
    thrownBy: 'activity',
    meaning: 'a source batch cannot be decoded (old message format, unknown codec, corrupt data)',
  },

  // The rollback window (src/rollback/): the reverse sync or a rollback cannot be exact.
  RollbackNotPossible: {
    retryable: false,
    thrownBy: 'activity',
    meaning: 'a rollback window cannot copy back or translate exactly (no forward copy, source written since the cutover, offset beyond the copy)',
  },
  FenceNotLifted: {
    retryable: true,
    thrownBy: 'activity',
    meaning: "the cutover's DENY WRITE fence could not be lifted for the window's reverse sync (its writes would be denied): retried",
  },

  // Thrown by workflow code: they block the step (or refuse an operator action) directly.
  EmptyPlan: {
    retryable: false,
    thrownBy: 'workflow',
    meaning: 'the inventory found nothing to migrate: the migration blocks until topics exist and it is retried',
  },
  DrainIncomplete: { retryable: true, thrownBy: 'workflow', meaning: 'the drain ended with partitions behind the captured end offsets: retry the step' },
  UnknownBatchStep: { retryable: false, thrownBy: 'workflow', meaning: 'a batch was resumed at a step this code does not know (a defect)' },
  ActionRefused: { retryable: false, thrownBy: 'workflow', meaning: "an operator action's validator refused it; details[0] is the evidence" },
} as const satisfies Record<string, FailureTypeInfo>;

export type FailureType = keyof typeof FAILURE_TYPES;

const ALL = Object.keys(FAILURE_TYPES) as FailureType[];

/** Every type Temporal must not retry: the `nonRetryableErrorTypes` of every activity retry policy. */
export const NON_RETRYABLE_FAILURE_TYPES: readonly FailureType[] = ALL.filter((t) => !FAILURE_TYPES[t].retryable);

/** The listed types a retry may cure. */
export const RETRYABLE_FAILURE_TYPES: readonly FailureType[] = ALL.filter((t) => FAILURE_TYPES[t].retryable);

export function isFailureType(type: string): type is FailureType {
  return Object.prototype.hasOwnProperty.call(FAILURE_TYPES, type);
}

export const SOURCE_TOPIC_MISSING = 'SourceTopicMissing' satisfies FailureType;
export const TARGET_TOPIC_MISSING = 'TargetTopicMissing' satisfies FailureType;
export const GROUP_ACTIVE = 'GroupActive' satisfies FailureType;
export const GROUP_ACTIVE_ON_TARGET = 'GroupActiveOnTarget' satisfies FailureType;

/** The types of the copy engine's NonRetryableCopyError (src/copy/copyErrors.ts). */
export const COPY_FAILURE_TYPES = [
  'TargetWrittenByOthers',
  'TargetTruncated',
  'SourceRecordsLost',
  'TargetTopicMissing',
  'TargetTopicExists',
  'RecordRejected',
  'OffsetStoreCorrupt',
  'SourceBatchUnreadable',
] as const satisfies readonly FailureType[];

/** details[0] of SourceTopicMissing and TargetTopicMissing. */
export interface MissingTopicsDetails {
  topics: string[];
}

/** details[0] of GroupActive and GroupActiveOnTarget. */
export interface ActiveGroupsDetails {
  groups: { group: string; state: string; members: { memberId: string; clientId: string; host: string }[] }[];
}
