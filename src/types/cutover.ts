/** Types of the cutover activities (src/activities/cutover.ts). Offsets are JS numbers; keys are "topic:partition". */

/** "topic:partition" -> offset. */
export type PartitionOffsets = Record<string, number>;

export interface QuietCheckResult {
  /** True when no partition's end offset moved during the last `quietSeconds`. */
  quiet: boolean;
  /** The end offsets (read_committed) at the end of the check: what a drain must reach. */
  endOffsets: PartitionOffsets;
  /** Partitions whose end offset moved while the check was watching ("topic:partition"), sorted. */
  changed: string[];
  /** How long the check watched, in seconds. */
  observedSeconds: number;
}

export type GroupStateName = 'Empty' | 'Stable' | 'PreparingRebalance' | 'CompletingRebalance' | 'Dead' | 'Unknown' | string;

export interface GroupMember {
  memberId: string;
  clientId: string;
  host: string;
}

export interface GroupState {
  group: string;
  cluster: 'source' | 'target';
  /** 'Dead' for a group the coordinator does not know (never used, or expired). */
  state: GroupStateName;
  protocolType: string;
  protocol: string;
  members: GroupMember[];
}

/** One DENY WRITE binding on a source topic: principal User:*, host *, pattern LITERAL. */
export interface FenceAcl {
  topic: string;
  principal: 'User:*';
  host: '*';
  operation: 'WRITE';
  permission: 'DENY';
  patternType: 'LITERAL';
}

/** One binding of a rollback window's fence (src/cutover/windowFence.ts): always LITERAL on one topic, any host. */
export interface WindowFenceBinding {
  topic: string;
  principal: string;
  host: '*';
  operation: 'WRITE' | 'READ' | 'DESCRIBE';
  permission: 'ALLOW' | 'DENY';
  patternType: 'LITERAL';
}

/** What a rollback window's fence did on the source (fence when the window opens, lift on rollback). */
export interface WindowFenceReport {
  migration: string;
  action: 'fence' | 'lift';
  /** fence: every topic is fenced; lift: every binding this migration owned on these topics is gone. */
  applied: boolean;
  topics: string[];
  /** Principals denied WRITE, per topic (those that held an ALLOW WRITE or ALL matching it, the migrator excepted). */
  denied: { topic: string; principals: string[] }[];
  /** Bindings created (fence) or removed (lift) by this call. */
  changed: WindowFenceBinding[];
  /** Bindings this migration owns on these topics after the call (recorded on the target, __kafka_migrate_fences). */
  owned: WindowFenceBinding[];
  /** Topics the fence cannot close, and why (a wildcard principal may write, ...); the reverse sync detects writes there. */
  unfenceable: { topic: string; reason: string }[];
  /** Why nothing was (or could be) changed, when applied is false. */
  reason?: string;
  /** kafka-acls commands that remove what this migration still owns (finalize leaves the fence in place). */
  removeCommands: string[];
  at: string;
}

export interface FenceReport {
  migration: string;
  action: 'fence' | 'unfence';
  /** False when the ACLs could not be changed (see reason); the workflow then relies on the quiet check. */
  applied: boolean;
  reason?: string;
  topics: string[];
  /** Bindings this call created (fence) or removed (unfence). */
  changed: FenceAcl[];
  /** Bindings this migration owns after the call, recorded durably on the target (__kafka_migrate_fences). */
  owned: FenceAcl[];
  /** Identical bindings someone else had already put in place: never removed by unfence. */
  foreign: FenceAcl[];
  at: string;
}

export interface PartitionOffsetTranslation {
  topic: string;
  partition: number;
  /** The group's committed offset on the source; null when it has none. */
  sourceOffset: number | null;
  /** What was committed on the target; null when nothing was (no source offset). */
  targetOffset: number | null;
  /** Source and target offsets are equal (no translation was needed for this partition). */
  identical: boolean;
  note?: string;
}

export interface GroupOffsetTranslation {
  group: string;
  sourceState: string;
  targetState: string;
  /** Partitions whose translated offset the target holds now (written by this call or an earlier attempt). */
  committed: number;
  /**
   * The target already held exactly the translated offsets (an earlier attempt committed them): nothing was
   * written, and members on the target (a consumer that started early) did not refuse the group.
   */
  alreadyCommitted: boolean;
  /**
   * Listed partitions left without a committed offset on the target (the consumer's auto.offset.reset applies
   * there): a source offset below the copied range, or none on the source while the target holds one.
   */
  withoutOffset: string[];
  /**
   * Partitions of the batch where the group has no committed offset on either cluster: left so (auto.offset.reset
   * applies, as on the source), counted and not listed (200 groups x 2,000 partitions would be 400,000 rows).
   */
  uncommitted: number;
  /** The partitions where the group has a committed offset on the source (or a leftover one on the target). */
  partitions: PartitionOffsetTranslation[];
}

export interface OffsetTranslationReport {
  kind: 'offset-translation';
  migration: string;
  translatedAt: string;
  topics: string[];
  groups: GroupOffsetTranslation[];
  notes: string[];
  /** How long each part of the call took (ms): where the cutover's write pause goes. */
  timingsMs?: Record<string, number>;
}

/**
 * What the workflow keeps of an offset translation: counts and the report's files. The full report lists every
 * group x partition (about 1 MB for 20 groups x 200 partitions) and would swell the history toward its limits.
 */
export interface OffsetTranslationSummary {
  groups: number;
  partitionsCommitted: number;
  /** Groups whose translated offsets the target already held (nothing written for them). */
  groupsAlreadyCommitted: number;
  partitionsWithoutOffset: number;
  notes: string[];
  /** The translation's parts and the report's writing (ms). */
  timingsMs?: Record<string, number>;
  report: { jsonPath: string; markdownPath: string; writtenBy?: string };
}

/** translateOffsetsAndReport with whenNotCopied: an offset the copy has not reached yet; nothing was committed. */
export interface OffsetsNotCopiedYet {
  notCopied: string;
}
