/**
 * Inventory time at scale: creates N topics x 10 partitions (a few records each) and M groups with committed
 * offsets on the source, times collectInventory (read as `migrator`, over the whole cluster), and deletes
 * everything right away. Guarded, because every partition holds open files on the source broker: it only
 * runs when the source stays under SOURCE_PARTITION_CEILING partitions and the last run's topics were
 * deleted more than two minutes ago (deleted partitions keep their files open for 60 s).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { collectInventory } from '../activities/inventory';
import { commitGroupOffsets } from '../cutover/commitGroupOffsets';
import { mapLimit } from '../inventory/concurrency';
import { benchSpec, STACK_DIR } from './settings';
import { createTopics, deleteGroups, deleteTopics, partitionCount, withAdminOf } from './topics';

export const SOURCE_PARTITION_CEILING = 15_000;
const COOL_DOWN_MS = 120_000;
const SOURCE_DATA_DIR = join(STACK_DIR, 'source/data');
const PENDING_DELETION_WAIT_MS = 5 * 60_000;

/**
 * Partition directories the local source broker still has to delete ("<topic>-<n>.<id>-delete"): their files
 * count against its open-file limit until they are gone, and a broker restarted before then deletes them again.
 */
export function pendingDeletions(): number {
  return existsSync(SOURCE_DATA_DIR) ? readdirSync(SOURCE_DATA_DIR).filter((d) => d.endsWith('-delete')).length : 0;
}
const LAST_RUN_MARKER = join(tmpdir(), 'km-bench-inventory-deleted-at');

export interface InventoryShape {
  topics: number;
  partitionsPerTopic: number;
  groups: number;
}

export interface InventoryResult {
  shape: InventoryShape;
  seconds: number;
  /** What the inventory saw on the whole cluster (the bench's topics plus everyone else's). */
  cluster: { topics: number; partitions: number; groups: number };
  warnings: number;
  /** Metadata, offsets, configs and groups; then the last record of every partition (s). */
  phases?: { metadataSeconds: number; lastRecordsSeconds: number };
}

export type InventoryOutcome = { ran: true; result: InventoryResult } | { ran: false; skipped: string };

export async function measureInventory(kafka: Kafka, id: string, shape: InventoryShape, say: (l: string) => void): Promise<InventoryOutcome> {
  const before = await withAdminOf(kafka, partitionCount);
  const planned = shape.topics * shape.partitionsPerTopic;
  if (before.partitions + planned >= SOURCE_PARTITION_CEILING) {
    return {
      ran: false,
      skipped: `the source already has ${before.partitions} partitions; ${planned} more would pass the safe ceiling of ${SOURCE_PARTITION_CEILING} (open-file limit)`,
    };
  }
  for (const until = Date.now() + PENDING_DELETION_WAIT_MS; before.partitions + pendingDeletions() + planned >= SOURCE_PARTITION_CEILING;) {
    if (Date.now() > until) {
      return {
        ran: false,
        skipped: `the source broker still deletes ${pendingDeletions()} partition directories; ${planned} more partitions would pass the safe ceiling of ${SOURCE_PARTITION_CEILING} (open-file limit)`,
      };
    }
    say(`  waiting for the source broker to delete ${pendingDeletions()} partition directories first (open-file limit)`);
    await new Promise((r) => setTimeout(r, 10_000));
  }
  const sinceLast = Date.now() - lastDeletion();
  if (sinceLast < COOL_DOWN_MS) {
    const waitMs = COOL_DOWN_MS - sinceLast;
    say(
      `  the previous inventory run deleted its topics ${Math.round(sinceLast / 1000)} s ago: waiting ${Math.round(waitMs / 1000)} s for the broker to release their files`,
    );
    await new Promise((r) => setTimeout(r, waitMs));
  }
  const topics = Array.from({ length: shape.topics }, (_, i) => `kmbench-${id}-inv.t${i}`);
  const groups = Array.from({ length: shape.groups }, (_, i) => `kmbench-${id}-inv-g${i}`);
  const reportsDir = mkdtempSync(join(tmpdir(), 'km-bench-inventory-'));
  try {
    say(
      `  creating ${topics.length} topics x ${shape.partitionsPerTopic} partitions and ${groups.length} groups on the source (source has ${before.partitions} partitions now)`,
    );
    await withAdminOf(kafka, (admin) => createTopics(admin, topics, shape.partitionsPerTopic));
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await mapLimit(topics, 8, (topic) =>
        producer.send({
          topic,
          messages: Array.from({ length: shape.partitionsPerTopic * 3 }, (_, i) => ({
            partition: i % shape.partitionsPerTopic,
            key: `k${i}`,
            value: 'x'.repeat(100),
          })),
        }),
      );
    } finally {
      await producer.disconnect();
    }
    await mapLimit(groups, 8, (group, i) => commitGroupOffsets(kafka, group, [{ topic: topics[i % topics.length], partition: 0, offset: 1 }]));

    const spec = benchSpec({ name: `kmbench-${id}-inv`, reports: { dir: reportsDir } } as never);
    const started = Date.now();
    const summary = await collectInventory({ spec });
    const seconds = (Date.now() - started) / 1000;
    const seen = summary.topics.filter((t) => t.name.startsWith(`kmbench-${id}-inv.`)).length;
    if (seen !== topics.length) throw new Error(`the inventory lists ${seen} of the ${topics.length} benchmark topics`);
    return {
      ran: true,
      result: {
        shape,
        seconds: Math.round(seconds * 10) / 10,
        cluster: { topics: summary.totals.topics, partitions: summary.totals.partitions, groups: summary.totals.groups },
        warnings: summary.warnings.length,
        ...(summary.phases ? { phases: { metadataSeconds: summary.phases.metadataMs / 1000, lastRecordsSeconds: summary.phases.lastRecordsMs / 1000 } } : {}),
      },
    };
  } finally {
    await withAdminOf(kafka, async (admin) => {
      await deleteGroups(admin, groups).catch((e) => say(`  could not delete the inventory groups: ${(e as Error).message}`));
      await deleteTopics(admin, topics).catch((e) => say(`  could not delete the inventory topics: ${(e as Error).message}`));
    });
    writeFileSync(LAST_RUN_MARKER, String(Date.now()));
    rmSync(reportsDir, { recursive: true, force: true });
  }
}

function lastDeletion(): number {
  try {
    return Number(readFileSync(LAST_RUN_MARKER, 'utf8')) || 0;
  } catch {
    return 0;
  }
}
