/** Types of the verification activity (src/activities/verify.ts) and its report. */

/** The part of a plan batch verification needs (PlanBatch satisfies it). */
export interface VerifyBatchRef {
  number?: number;
  name?: string;
  topics: { name: string }[];
  groups: string[];
}

export interface SideRange {
  /** Log-start and read_committed end offsets captured when verification started. */
  start: number;
  end: number;
  /** Records read in [start, end) (aborted and control records excluded). */
  records: number;
  /** Order-sensitive sha256 (hex) over key, value, headers and timestamp of every record read. */
  digest: string;
}

export interface PartitionVerification {
  topic: string;
  partition: number;
  source: SideRange;
  target: SideRange;
  /** Counts and digests equal. */
  contentEqual: boolean;
  /** Every source record sits on the target at the offset the offset map gives, and nothing else is there. */
  mapConsistent: boolean;
  /** Timestamps left out of the digest (LogAppendTime topic: the target stamps its own). */
  timestampsIgnored: boolean;
  mismatches: string[];
  /** What was deliberately left out of the comparison, and why. */
  notes: string[];
}

export interface GroupPartitionVerification {
  topic: string;
  partition: number;
  sourceOffset: number | null;
  targetOffset: number | null;
  /** What the offset map translates sourceOffset to. */
  expectedTargetOffset: number | null;
  ok: boolean;
  detail: string;
}

export interface GroupVerification {
  group: string;
  ok: boolean;
  partitions: GroupPartitionVerification[];
}

export interface ConfigDifference {
  key: string;
  source: string | null;
  target: string | null;
}

export interface TopicConfigVerification {
  topic: string;
  ok: boolean;
  /** Topic-level overrides compared (present on either side, minus the profile's unsupported keys). */
  compared: string[];
  /** Source overrides the target profile does not accept: expected to be absent on the target. */
  filtered: string[];
  differences: ConfigDifference[];
}

/** The decoder verification read both sides with (src/verify/independent/index.ts, VERIFICATION_DECODER). */
export interface VerificationDecoder {
  /** 'independent': src/verify/independent, which shares no decoding code with the copy engine. */
  id: 'independent';
  /** Record formats it decodes, e.g. ['v2']. */
  formats: string[];
  /** One line for the Markdown report. */
  description: string;
}

export interface VerificationReport {
  kind: 'verification';
  /** Which decoder read both sides (every report verifyTopics writes has it; absent in older report files). */
  decoder?: VerificationDecoder;
  migration: string;
  batch: { number?: number; name?: string; topics: string[]; groups: string[] };
  verifiedAt: string;
  durationMs: number;
  ok: boolean;
  partitions: PartitionVerification[];
  groups: GroupVerification[];
  configs: TopicConfigVerification[];
  /** Every mismatch in one line each, naming the topic/partition/offset or group. */
  mismatches: string[];
}

/** What the workflow keeps of a verification: the verdict, the first mismatches and the report's files. */
export interface VerificationSummary {
  ok: boolean;
  durationMs: number;
  partitions: number;
  groups: number;
  mismatchCount: number;
  /** At most MISMATCHES_KEPT lines; the report has all of them. */
  mismatches: string[];
  report: { jsonPath: string; markdownPath: string; writtenBy?: string };
}
