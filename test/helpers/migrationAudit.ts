/**
 * An audit of a finished migration that trusts nothing of the tool: it reads every partition of both clusters
 * in full with kafkajs' own consumer (its own decoder, not the copy engine's), compares them record for record
 * (digest of key, value, headers and timestamp), and checks every committed group offset on the target against
 * the position of the same source record.
 */
import { createHash } from 'node:crypto';
import { Kafka, logLevel, type Admin, type KafkaMessage } from 'kafkajs';
import { pkey, type CrashWorld } from './crashWorld';
import { SOURCE_ADMIN_BOOTSTRAP, TARGET_BOOTSTRAP } from './stack';

interface Seen {
  offset: number;
  digest: string;
}

export interface PartitionAudit {
  partition: string;
  sourceRecords: number;
  targetRecords: number;
  lost: number;
  duplicated: number;
  /** Target records that are a copy of no source record. */
  foreign: number;
  /** The target holds the source's records in the source's order, nothing else. */
  exact: boolean;
}

export interface GroupOffsetAudit {
  group: string;
  partition: string;
  source: number;
  target: number | null;
  expected: number;
}

export interface MigrationAudit {
  sourceRecords: number;
  targetRecords: number;
  lost: number;
  duplicated: number;
  foreign: number;
  inexactPartitions: string[];
  partitions: PartitionAudit[];
  groupOffsets: GroupOffsetAudit[];
  wrongGroupOffsets: GroupOffsetAudit[];
}

function digest(m: KafkaMessage): string {
  const h = createHash('sha256');
  const part = (b: Buffer | string | null | undefined) => {
    if (b === null || b === undefined) h.update('\u0000null');
    else {
      const buf = Buffer.isBuffer(b) ? b : Buffer.from(b);
      h.update(String(buf.length)).update(':').update(buf);
    }
  };
  part(m.key);
  part(m.value);
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) {
      part(k);
      part(one as Buffer | string | undefined);
    }
  }
  h.update(`@${m.timestamp}`);
  return h.digest('hex');
}

function kafkaFor(cluster: 'source' | 'target'): Kafka {
  return new Kafka({
    clientId: `km-audit-${cluster}`,
    brokers: [cluster === 'source' ? SOURCE_ADMIN_BOOTSTRAP : TARGET_BOOTSTRAP],
    logLevel: logLevel.NOTHING,
  });
}

/** Every committed record of the topics, per partition, read to the high watermarks seen at the start. */
async function readAll(
  cluster: 'source' | 'target',
  topics: string[],
  groupId: string,
  timeoutMs: number,
): Promise<{ records: Map<string, Seen[]>; ends: Map<string, number> }> {
  const kafka = kafkaFor(cluster);
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, number>();
  const records = new Map<string, Seen[]>();
  const remaining = new Set<string>();
  try {
    for (const topic of topics) {
      for (const o of await admin.fetchTopicOffsets(topic)) {
        const k = pkey(topic, o.partition);
        ends.set(k, Number(o.high));
        records.set(k, []);
        if (Number(o.high) > Number(o.low)) remaining.add(k);
      }
    }
  } finally {
    await admin.disconnect();
  }
  if (remaining.size === 0) return { records, ends };
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxBytesPerPartition: 4 * 1024 * 1024, sessionTimeout: 30000 });
  await consumer.connect();
  try {
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const k = pkey(batch.topic, batch.partition);
        const list = records.get(k)!;
        const end = ends.get(k)!;
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset < end) list.push({ offset, digest: digest(m) });
          if (offset + 1 >= end) remaining.delete(k);
        }
        if (remaining.size === 0) finish();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`reading the ${cluster} did not reach the end of ${[...remaining].join(', ')} within ${timeoutMs / 1000}s`)),
        timeoutMs,
      );
    });
    await Promise.race([finished, timeout]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect();
  }
  return { records, ends };
}

function comparePartition(partition: string, source: Seen[], target: Seen[]): PartitionAudit {
  const counts = new Map<string, number>();
  for (const r of source) counts.set(r.digest, (counts.get(r.digest) ?? 0) + 1);
  let foreign = 0;
  let duplicated = 0;
  for (const r of target) {
    const left = counts.get(r.digest);
    if (left === undefined) foreign++;
    else if (left === 0) duplicated++;
    else counts.set(r.digest, left - 1);
  }
  let lost = 0;
  for (const left of counts.values()) lost += left;
  const exact = source.length === target.length && source.every((r, i) => r.digest === target[i].digest);
  return { partition, sourceRecords: source.length, targetRecords: target.length, lost, duplicated, foreign, exact };
}

async function committedOffsets(admin: Admin, groupId: string, topics: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const t of await admin.fetchOffsets({ groupId, topics })) {
    for (const p of t.partitions) if (Number(p.offset) >= 0) out.set(pkey(t.topic, p.partition), Number(p.offset));
  }
  return out;
}

/** The target offset that must stand for source offset `s`: the copy of the first source record at or after it. */
function expectedTargetOffset(s: number, source: Seen[], target: Seen[], targetEnd: number): number {
  const i = source.findIndex((r) => r.offset >= s);
  if (i < 0) return targetEnd;
  return i < target.length ? target[i].offset : -1;
}

/** Audits `topics` (default: the world's topics), e.g. only those a migration migrated (not the excluded ones). */
export async function auditMigration(world: CrashWorld, groups: string[], timeoutMs = 180000, topics = world.topicNames): Promise<MigrationAudit> {
  const readerGroup = `${world.prefix}audit`;
  const [source, target] = await Promise.all([readAll('source', topics, readerGroup, timeoutMs), readAll('target', topics, readerGroup, timeoutMs)]);
  const partitions = [...source.records.keys()].sort().map((k) => comparePartition(k, source.records.get(k)!, target.records.get(k) ?? []));

  const groupOffsets: GroupOffsetAudit[] = [];
  const sourceAdmin = kafkaFor('source').admin();
  const targetAdmin = kafkaFor('target').admin();
  await Promise.all([sourceAdmin.connect(), targetAdmin.connect()]);
  try {
    for (const group of groups) {
      const [s, t] = await Promise.all([committedOffsets(sourceAdmin, group, topics), committedOffsets(targetAdmin, group, topics)]);
      for (const [k, offset] of s) {
        const expected = expectedTargetOffset(offset, source.records.get(k)!, target.records.get(k) ?? [], target.ends.get(k) ?? 0);
        groupOffsets.push({ group, partition: k, source: offset, target: t.get(k) ?? null, expected });
      }
    }
    // The audit's own reader groups are not part of the world: remove them again.
    await Promise.all([sourceAdmin.deleteGroups([readerGroup]).catch(() => undefined), targetAdmin.deleteGroups([readerGroup]).catch(() => undefined)]);
  } finally {
    await Promise.all([sourceAdmin.disconnect(), targetAdmin.disconnect()]);
  }
  const sum = (f: (p: PartitionAudit) => number) => partitions.reduce((n, p) => n + f(p), 0);
  return {
    sourceRecords: sum((p) => p.sourceRecords),
    targetRecords: sum((p) => p.targetRecords),
    lost: sum((p) => p.lost),
    duplicated: sum((p) => p.duplicated),
    foreign: sum((p) => p.foreign),
    inexactPartitions: partitions.filter((p) => !p.exact).map((p) => p.partition),
    partitions,
    groupOffsets,
    wrongGroupOffsets: groupOffsets.filter((g) => g.target !== g.expected || g.expected < 0),
  };
}
