/**
 * What the inventory phase finds on the source cluster. `Inventory` is the full record written to
 * `reports/<name>/inventory.json`; `InventorySummary` is the compact form an activity returns to a workflow
 * (no per-partition detail, no committed offsets) and what the plan is built from.
 */

/** Where a non-default config value comes from (Kafka's DescribeConfigs `config_source`). */
export type ConfigSourceName = 'topic' | 'dynamic-broker' | 'dynamic-default-broker' | 'static-broker' | 'default' | 'broker-logger' | 'unknown';

export interface TopicConfigEntry {
  name: string;
  /** null for a sensitive value (never copied into a report). */
  value: string | null;
  source: ConfigSourceName;
  readOnly: boolean;
  sensitive: boolean;
}

export interface PartitionInventory {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  earliestOffset: number;
  latestOffset: number;
  /** latest - earliest: an upper bound on compacted topics and with transaction markers. */
  records: number;
  /** Timestamp (ms) of the partition's last record; null when it holds none or it could not be read. */
  lastRecordTimestamp: number | null;
  /** Records read at the end of the partition to estimate record sizes. */
  sampledRecords: number;
  sampledBytes: number;
}

/** Topic flags: `inactive` = no write for thresholds.inactiveDays and no group consuming it. */
export type TopicFlag = 'inactive';
/** Group flags: `unclaimed` = no member and no committed offset on an existing topic. */
export type GroupFlag = 'unclaimed';

export interface TopicInventory {
  name: string;
  /** Owned by the cluster (`__consumer_offsets`, `__transaction_state`, ...): never migrated. */
  internal: boolean;
  partitions: number;
  replicationFactor: number;
  /** Every config whose value is not Kafka's default (topic overrides and broker-level settings). */
  configs: TopicConfigEntry[];
  timestampType: 'CreateTime' | 'LogAppendTime' | null;
  cleanupPolicy: string | null;
  records: number;
  /** Estimated payload bytes (key + value + headers): records x the average sampled record size. */
  bytes: number;
  avgRecordBytes: number | null;
  lastRecordTimestamp: number | null;
  lastRecordAt: string | null;
  partitionDetails: PartitionInventory[];
  /** The business system the topic belongs to; null = unassigned. */
  system: string | null;
  /** Groups with committed offsets on it or members subscribed to it. */
  groups: string[];
  flags: TopicFlag[];
  flagReasons: Partial<Record<TopicFlag, string>>;
}

export interface GroupMemberInventory {
  memberId: string;
  clientId: string;
  host: string;
  /** Topics of the member's subscription (consumer protocol only). */
  subscription: string[];
  assignment: { topic: string; partitions: number[] }[];
}

export interface GroupOffsetInventory {
  topic: string;
  partition: number;
  committedOffset: number;
  /** The partition's latest offset; null when the topic or partition no longer exists. */
  latestOffset: number | null;
  lag: number | null;
}

export interface GroupInventory {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: GroupMemberInventory[];
  /** Existing topics it consumes: committed offsets, member subscriptions and assignments. */
  topics: string[];
  /** Topics it has committed offsets on or subscribes to that do not exist (or are not visible). */
  missingTopics: string[];
  offsets: GroupOffsetInventory[];
  totalLag: number;
  /** Systems of the topics it consumes (or of the group rules when it consumes no assigned topic). */
  systems: string[];
  flags: GroupFlag[];
  flagReasons: Partial<Record<GroupFlag, string>>;
}

export interface SystemInventory {
  name: string;
  priority: 'core' | 'non-core';
  topics: string[];
  groups: string[];
  partitions: number;
  records: number;
  bytes: number;
}

export interface InventoryCluster {
  clusterId: string;
  controllerId: number | null;
  brokers: { nodeId: number; host: string; port: number }[];
}

/** Where the inventory's time went: cluster metadata, offsets, configs and groups (together), then the last records. */
export interface InventoryPhases {
  metadataMs: number;
  lastRecordsMs: number;
}

export interface Inventory {
  migration: string;
  collectedAt: string;
  durationMs: number;
  phases?: InventoryPhases;
  cluster: InventoryCluster;
  inactiveDays: number;
  topics: TopicInventory[];
  groups: GroupInventory[];
  systems: SystemInventory[];
  unassigned: { topics: string[]; groups: string[] };
  warnings: string[];
}

export interface TopicSummary {
  name: string;
  internal: boolean;
  partitions: number;
  replicationFactor: number;
  records: number;
  bytes: number;
  lastRecordAt: string | null;
  system: string | null;
  flags: TopicFlag[];
  flagReasons: Partial<Record<TopicFlag, string>>;
}

export interface GroupSummary {
  groupId: string;
  state: string;
  protocolType: string;
  members: number;
  topics: string[];
  missingTopics: string[];
  totalLag: number;
  systems: string[];
  flags: GroupFlag[];
  flagReasons: Partial<Record<GroupFlag, string>>;
}

export interface InventoryTotals {
  topics: number;
  partitions: number;
  records: number;
  bytes: number;
  groups: number;
  inactiveTopics: number;
  unclaimedGroups: number;
}

/** What collectInventory returns: small enough for a workflow (well under 1 MB for 1,000 topics). */
export interface InventorySummary {
  migration: string;
  collectedAt: string;
  durationMs: number;
  phases?: InventoryPhases;
  clusterId: string;
  totals: InventoryTotals;
  topics: TopicSummary[];
  groups: GroupSummary[];
  systems: SystemInventory[];
  unassigned: { topics: string[]; groups: string[] };
  warnings: string[];
  /** Absolute paths of the full inventory (JSON) and its Markdown rendering. */
  reportFiles: { jsonPath: string; markdownPath: string };
}
