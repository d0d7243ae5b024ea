/**
 * The durable source -> target offset map: the compacted topic `__kafka_migrate_offsets` on the target.
 * Keys (compaction keeps the latest value of each):
 *   v1|<migration>|<topic>|<partition>|checkpoint   -> OffsetCheckpoint + runCount
 *   v1|<migration>|<topic>|<partition>|runs|<chunk> -> runs [chunk*RUNS_PER_CHUNK, +RUNS_PER_CHUNK)
 *   v1|<migration>|<topic>|owner                    -> the migration created/adopted this target topic
 * A target topic the migration deletes (abort, exclude-topic --delete-target) is forgotten with tombstones for
 * all of its keys: a later resume creates and copies it afresh instead of meeting checkpoints of a topic
 * that no longer exists.
 * A checkpoint and the run chunks it needs travel in the same record batch, after the copied records are
 * acknowledged; on load, runs are clipped to the checkpoint so the checkpoint is always the truth.
 */
import { ConfigResourceTypes, type Admin, type ITopicConfig } from 'kafkajs';
import type { ClusterConnection } from '../config/spec';
import type { OffsetCheckpoint, OffsetRun, PartitionOffsetMap } from '../types/copy';
import { partitionKey } from '../types/copy';
import { clipRunsToCheckpoint } from './offsetRuns';
import { NO_HEADERS, type KafkaRecord } from './kafkaRecord';
import { PartitionReader } from './partitionReader';
import { READ_UNCOMMITTED } from './fetchProtocol';
import type { InternalCluster } from './kafkaInternals';
import { NonRetryableCopyError } from './copyErrors';

export const OFFSET_STORE_TOPIC = '__kafka_migrate_offsets';
export const RUNS_PER_CHUNK = 256;

export interface TopicOwnership {
  action: 'created' | 'adopted';
  partitions: number;
  at: string;
}

type StoredCheckpoint = OffsetCheckpoint & { runCount: number };

/**
 * Compaction that actually runs: the broker never cleans the active segment, and by default a segment rolls
 * only after 7 days or 1 GB. Checkpoints are rewritten many times a second during a copy, so without these the
 * store grows without bound and every copy round, translation and verification reads all of it.
 */
export const OFFSET_STORE_CONFIGS: Record<string, string> = {
  'cleanup.policy': 'compact',
  'segment.ms': String(10 * 60_000),
  'segment.bytes': String(64 * 1024 * 1024),
  'min.cleanable.dirty.ratio': '0.1',
};

/** Creates the store topic (compacted, one partition) unless it exists; gives an older one these configs. */
export async function ensureOffsetStoreTopic(admin: Admin, replicationFactor: number | undefined): Promise<void> {
  const existing = await admin.listTopics();
  if (existing.includes(OFFSET_STORE_TOPIC)) {
    await alignOffsetStoreConfigs(admin);
    return;
  }
  const topic: ITopicConfig = {
    topic: OFFSET_STORE_TOPIC,
    numPartitions: 1,
    replicationFactor: replicationFactor ?? -1,
    configEntries: Object.entries(OFFSET_STORE_CONFIGS).map(([name, value]) => ({ name, value })),
  };
  try {
    await admin.createTopics({ topics: [topic], waitForLeaders: true });
  } catch (e) {
    if ((e as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS' && !/already exists/i.test((e as Error).message)) throw e;
  }
}

/** A store topic made before these configs existed gets them (once; a no-op when they are already set). */
async function alignOffsetStoreConfigs(admin: Admin): Promise<void> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: OFFSET_STORE_TOPIC, configNames: Object.keys(OFFSET_STORE_CONFIGS) }],
  });
  const current = new Map(described.resources[0]?.configEntries.map((e) => [e.configName, e.configValue]) ?? []);
  if (Object.entries(OFFSET_STORE_CONFIGS).every(([name, value]) => current.get(name) === value)) return;
  // AlterConfigs replaces the topic's whole set of overrides: the store has no others.
  await admin.alterConfigs({
    validateOnly: false,
    resources: [
      {
        type: ConfigResourceTypes.TOPIC,
        name: OFFSET_STORE_TOPIC,
        configEntries: Object.entries(OFFSET_STORE_CONFIGS).map(([name, value]) => ({ name, value })),
      },
    ],
  });
}

function keyPrefix(migration: string, topic: string, partition: number): string {
  return `v1|${migration}|${topic}|${partition}|`;
}

function storeRecord(key: string, value: unknown): KafkaRecord {
  const k = Buffer.from(key, 'utf8');
  const v = Buffer.from(JSON.stringify(value), 'utf8');
  return { offset: -1, timestamp: Date.now(), key: k, value: v, headers: NO_HEADERS, size: k.length + v.length };
}

/**
 * Store records for a partition's new state: the run chunks from the one holding `firstChangedRun` on, then
 * the checkpoint (last, so a reader never sees a checkpoint without its runs).
 */
export function offsetMapRecords(map: PartitionOffsetMap, firstChangedRun: number): KafkaRecord[] {
  const cp = map.checkpoint;
  if (!cp) return [];
  const prefix = keyPrefix(map.migration, map.topic, map.partition);
  const out: KafkaRecord[] = [];
  for (let chunk = Math.floor(Math.max(firstChangedRun, 0) / RUNS_PER_CHUNK); chunk * RUNS_PER_CHUNK < map.runs.length; chunk++) {
    const runs = map.runs.slice(chunk * RUNS_PER_CHUNK, (chunk + 1) * RUNS_PER_CHUNK).map((r) => [r.sourceStart, r.targetStart, r.count]);
    out.push(storeRecord(`${prefix}runs|${chunk}`, { runs }));
  }
  const stored: StoredCheckpoint = { ...cp, runCount: map.runs.length };
  out.push(storeRecord(`${prefix}checkpoint`, stored));
  return out;
}

/** A tombstone for one store key (compaction removes the key's older values, then the tombstone). */
export function tombstoneRecord(key: string): KafkaRecord {
  const k = Buffer.from(key, 'utf8');
  return { offset: -1, timestamp: Date.now(), key: k, value: null, headers: NO_HEADERS, size: k.length };
}

export function ownershipRecord(migration: string, topic: string, ownership: TopicOwnership): KafkaRecord {
  return storeRecord(`v1|${migration}|${topic}|owner`, ownership);
}

/** Everything the store holds for one migration, read to the end of the store topic. */
export class OffsetStoreSnapshot {
  constructor(
    readonly migration: string,
    private readonly maps: Map<string, PartitionOffsetMap>,
    private readonly owners: Map<string, TopicOwnership>,
    private readonly keys: Map<string, string[]> = new Map(),
  ) {}

  /** The map of a partition; empty (no checkpoint) when nothing was copied yet. */
  get(topic: string, partition: number): PartitionOffsetMap {
    const m = this.maps.get(partitionKey(topic, partition));
    return m
      ? { ...m, runs: m.runs.map((r) => ({ ...r })), checkpoint: m.checkpoint && { ...m.checkpoint } }
      : { migration: this.migration, topic, partition, runs: [], checkpoint: null };
  }

  owner(topic: string): TopicOwnership | undefined {
    return this.owners.get(topic);
  }

  partitions(): PartitionOffsetMap[] {
    return [...this.maps.values()];
  }

  /** Every store key this migration holds for a topic (its checkpoints, run chunks and ownership). */
  keysOf(topic: string): string[] {
    return this.keys.get(topic) ?? [];
  }
}

/** What the store holds for one migration, as records are applied in store order (latest value per key wins). */
class StoredMigrationState {
  private readonly prefix: string;
  private readonly checkpoints = new Map<string, StoredCheckpoint>();
  private readonly chunks = new Map<string, Map<number, OffsetRun[]>>();
  private readonly owners = new Map<string, TopicOwnership>();
  /** Topic -> its live store keys (for forgetting a deleted topic). */
  private readonly keys = new Map<string, Set<string>>();
  /** Keys whose latest value is not what the store writes (altered by hand): key -> what is wrong. */
  private readonly corrupt = new Map<string, { topic: string; problem: string }>();

  constructor(readonly migration: string) {
    this.prefix = `v1|${migration}|`;
  }

  apply(rec: KafkaRecord): void {
    const key = rec.key?.toString('utf8');
    if (!key?.startsWith(this.prefix)) return;
    const parts = key.split('|'); // v1, migration, topic, (partition, kind[, chunk] | owner)
    if (!rec.value) {
      this.forget(key, parts);
      return;
    }
    if (!this.keys.has(parts[2])) this.keys.set(parts[2], new Set());
    this.keys.get(parts[2])!.add(key);
    // A value of the wrong shape is remembered, not thrown here: a later valid value of the key supersedes it
    // (the operator's repair), and snapshot() reports what is still wrong, naming the key.
    let value: unknown;
    try {
      value = JSON.parse(rec.value.toString('utf8'));
    } catch {
      this.markCorrupt(key, parts[2], 'its value is not JSON');
      return;
    }
    if (parts[3] === 'owner') {
      this.owners.set(parts[2], value as TopicOwnership);
    } else if (parts[4] === 'checkpoint') {
      if (!isStoredCheckpoint(value))
        return this.markCorrupt(key, parts[2], 'its value is not a checkpoint (sourceStart, sourceNext, targetNext, runCount: whole numbers)');
      this.checkpoints.set(partitionKey(parts[2], Number(parts[3])), value);
    } else if (parts[4] === 'runs') {
      const runs = (value as { runs?: unknown }).runs;
      if (!isRunTuples(runs)) return this.markCorrupt(key, parts[2], 'its value is not a run chunk ({ runs: [[sourceStart, targetStart, count], ...] })');
      const k = partitionKey(parts[2], Number(parts[3]));
      if (!this.chunks.has(k)) this.chunks.set(k, new Map());
      this.chunks.get(k)!.set(
        Number(parts[5]),
        runs.map(([sourceStart, targetStart, count]) => ({ sourceStart, targetStart, count })),
      );
    }
    this.corrupt.delete(key);
  }

  private markCorrupt(key: string, topic: string, problem: string): void {
    const partition = key.split('|')[3];
    this.corrupt.set(key, { topic, problem: partition === 'owner' ? `ownership of ${topic}: ${problem}` : `offset map of ${topic}:${partition}: ${problem}` });
  }

  /** A tombstone: the key's value is gone. */
  private forget(key: string, parts: string[]): void {
    this.keys.get(parts[2])?.delete(key);
    this.corrupt.delete(key);
    if (parts[3] === 'owner') this.owners.delete(parts[2]);
    else if (parts[4] === 'checkpoint') this.checkpoints.delete(partitionKey(parts[2], Number(parts[3])));
    else if (parts[4] === 'runs') this.chunks.get(partitionKey(parts[2], Number(parts[3])))?.delete(Number(parts[5]));
  }

  /** Maps built fresh (callers mutate them); each checkpoint's runs clipped to it. */
  snapshot(): OffsetStoreSnapshot {
    if (this.corrupt.size) {
      const [key, c] = [...this.corrupt][0];
      throw new NonRetryableCopyError(
        'OffsetStoreCorrupt',
        `${OFFSET_STORE_TOPIC} key ${key} (migration ${this.migration}) was altered: ${c.problem}${this.corrupt.size > 1 ? ` (and ${this.corrupt.size - 1} more keys)` : ''}; write the key's last valid value back (or a tombstone for a topic to copy again), then retry`,
        [...new Set([...this.corrupt.values()].map((x) => x.topic))],
      );
    }
    const maps = new Map<string, PartitionOffsetMap>();
    for (const [k, cp] of this.checkpoints) {
      const sep = k.lastIndexOf(':');
      const topic = k.slice(0, sep);
      const partition = Number(k.slice(sep + 1));
      const byChunk = this.chunks.get(k) ?? new Map<number, OffsetRun[]>();
      const runs: OffsetRun[] = [];
      for (let c = 0; c * RUNS_PER_CHUNK < cp.runCount; c++) {
        const chunk = byChunk.get(c);
        if (!chunk) {
          throw new NonRetryableCopyError(
            'OffsetStoreCorrupt',
            `offset map of ${topic}:${partition} (migration ${this.migration}) in ${OFFSET_STORE_TOPIC} misses run chunk ${c} of ${Math.ceil(cp.runCount / RUNS_PER_CHUNK)}: the store topic was altered`,
            [topic],
          );
        }
        runs.push(...chunk);
      }
      const { runCount, ...checkpoint } = cp;
      maps.set(k, {
        migration: this.migration,
        topic,
        partition,
        runs: clipRunsToCheckpoint(runs.slice(0, runCount), cp.sourceNext, cp.targetNext),
        checkpoint,
      });
    }
    return new OffsetStoreSnapshot(this.migration, maps, new Map(this.owners), new Map([...this.keys].map(([t, k]) => [t, [...k]])));
  }
}

const isWhole = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

function isStoredCheckpoint(v: unknown): v is StoredCheckpoint {
  const c = v as Partial<StoredCheckpoint> | null;
  return !!c && typeof c === 'object' && isWhole(c.sourceStart) && isWhole(c.sourceNext) && isWhole(c.targetNext) && isWhole(c.runCount);
}

function isRunTuples(v: unknown): v is [number, number, number][] {
  return Array.isArray(v) && v.every((r) => Array.isArray(r) && r.length === 3 && r.every(isWhole));
}

/** Applies the store records in [from, to) of one partition of the store topic, in order. */
async function readStoreRange(cluster: InternalCluster, partition: number, from: number, to: number, state: StoredMigrationState): Promise<void> {
  if (to <= from) return;
  const reader = new PartitionReader(cluster, [{ topic: OFFSET_STORE_TOPIC, partition, position: from, stopAt: to }], {
    isolationLevel: READ_UNCOMMITTED,
    partitionFetchBytes: 4 * 1024 * 1024,
    maxBufferedBytes: 8 * 1024 * 1024,
    maxWaitMs: 100,
    cluster: 'target',
  });
  reader.start();
  try {
    let position = from;
    while (position < to) {
      await reader.waitForData(1000);
      const taken = reader.take(OFFSET_STORE_TOPIC, partition, Number.MAX_SAFE_INTEGER, (r) => r.size);
      if (!taken) continue;
      position = taken.nextOffset;
      for (const rec of taken.records) state.apply(rec);
    }
  } finally {
    await reader.close();
  }
}

interface CachedStore {
  state: StoredMigrationState;
  /** Store partition -> the next offset to read. */
  next: Map<number, number>;
  readAt: number;
}

/**
 * Reads of the store are incremental within a worker process: every copy round, translation and verification
 * starts by reading it, and a batch of 200 partitions starts 25 copy activities at once. Applying only the
 * records appended since the last read gives exactly what a full read gives (compaction only removes records
 * a later one with the same key supersedes, or a tombstone together with what it deletes); a recreated store topic or
 * an entry older than CACHE_MAX_AGE_MS is read again from its start.
 */
const CACHE_MAX_AGE_MS = 30 * 60_000;
const storeCache = new Map<string, Promise<CachedStore | undefined>>();

/** The key of a target cluster in the store cache: its bootstrap servers. */
export function targetIdOf(target: Pick<ClusterConnection, 'bootstrapServers'>): string {
  return [...target.bootstrapServers].sort().join(',');
}

/**
 * Everything the store holds for `migration`, read to the store topic's current end. `targetId` (the target's
 * bootstrap servers) keys the process-wide incremental cache; without it the store is read from its start.
 */
export async function readOffsetStore(cluster: InternalCluster, admin: Admin, migration: string, targetId?: string): Promise<OffsetStoreSnapshot> {
  const key = targetId === undefined ? undefined : `${targetId}\u0000${migration}`;
  const previous = key === undefined ? undefined : storeCache.get(key);
  // One read at a time per key: concurrent callers each continue from where the one before them ended.
  const reading = (async (): Promise<CachedStore | undefined> => {
    const cached = await previous?.catch(() => undefined);
    const topics = await admin.listTopics();
    if (!topics.includes(OFFSET_STORE_TOPIC)) return undefined;
    const offsets = await admin.fetchTopicOffsets(OFFSET_STORE_TOPIC);
    const usable =
      cached !== undefined &&
      Date.now() - cached.readAt < CACHE_MAX_AGE_MS &&
      offsets.every((o) => {
        const next = cached.next.get(o.partition) ?? 0;
        return next >= Number(o.low) && next <= Number(o.high);
      });
    const entry: CachedStore = usable ? cached : { state: new StoredMigrationState(migration), next: new Map(), readAt: Date.now() };
    for (const o of offsets) {
      const from = usable ? (entry.next.get(o.partition) ?? Number(o.low)) : Number(o.low);
      await readStoreRange(cluster, o.partition, from, Number(o.high), entry.state);
      entry.next.set(o.partition, Math.max(from, Number(o.high)));
    }
    return entry;
  })();
  if (key !== undefined) {
    storeCache.set(key, reading);
    // A failed read leaves no half-applied entry behind: the next caller starts from scratch.
    reading.catch(() => {
      if (storeCache.get(key) === reading) storeCache.delete(key);
    });
  }
  const entry = await reading;
  return entry ? entry.state.snapshot() : new OffsetStoreSnapshot(migration, new Map(), new Map());
}
