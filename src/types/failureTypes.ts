/**
 * Every failure type an activity throws as non-retryable. Pure constants (no Node imports): the workflows
 * import them for their retry policies (`nonRetryableErrorTypes`) and to decide that a batch is blocked.
 */

/** Configuration faults (src/kafka/errors.ts): the message says what to fix in the spec or on the cluster. */
export const NON_RETRYABLE_TYPES = {
  authentication: 'KafkaAuthenticationFailed',
  authorization: 'KafkaAuthorizationFailed',
  secret: 'SecretUnavailable',
  config: 'InvalidConfiguration',
} as const;

/** A topic of the batch no longer exists on the source; details[0] is `{ topics: string[] }`. */
export const SOURCE_TOPIC_MISSING = 'SourceTopicMissing';
/** A topic (or partition) of the batch does not exist on the target; details[0] is `{ topics: string[] }`. */
export const TARGET_TOPIC_MISSING = 'TargetTopicMissing';
/** A group of the batch is not Empty on the source; details[0] is `{ groups: GroupActivity[] }`. */
export const GROUP_ACTIVE = 'GroupActive';
/** A group of the batch has members on the target and its offsets there differ from the translation. */
export const GROUP_ACTIVE_ON_TARGET = 'GroupActiveOnTarget';

/** Integrity faults of the copy engine (src/copy/copyErrors.ts), retrying cannot fix them. */
export const COPY_FAILURE_TYPES = [
  'TargetWrittenByOthers',
  'TargetTruncated',
  'SourceRecordsLost',
  TARGET_TOPIC_MISSING,
  'TargetTopicExists',
  'RecordRejected',
  'OffsetStoreCorrupt',
  'SourceBatchUnreadable',
] as const;

/** The types that stop a batch until the operator decides (retry, exclude-topic, abort). */
export const BLOCKING_FAILURE_TYPES: readonly string[] = [
  ...new Set<string>([SOURCE_TOPIC_MISSING, TARGET_TOPIC_MISSING, GROUP_ACTIVE, GROUP_ACTIVE_ON_TARGET, ...COPY_FAILURE_TYPES, ...Object.values(NON_RETRYABLE_TYPES)]),
];

/** details[0] of SourceTopicMissing and TargetTopicMissing. */
export interface MissingTopicsDetails {
  topics: string[];
}

/** details[0] of GroupActive and GroupActiveOnTarget. */
export interface ActiveGroupsDetails {
  groups: { group: string; state: string; members: { memberId: string; clientId: string; host: string }[] }[];
}
