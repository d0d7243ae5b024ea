/**
 * Activity: the inventory of the source cluster, read as the migration user. Writes the full inventory to
 * `<reports.dir>/<name>/inventory.{json,md}` and returns the compact summary the plan is built from.
 * Read-only (it never commits an offset or changes a config), so it also runs standalone
 * (`kafka-migrate inventory -f spec.yaml`), outside any workflow.
 */
import type { MigrationSpec } from '../config/spec';
import { toKafkaFailure } from '../kafka/errors';
import { isToolGroup } from '../kafka/toolGroups';
import { assembleInventory } from '../inventory/assemble';
import { collectGroups } from '../inventory/groups';
import { sampleLastRecords } from '../inventory/lastRecords';
import { activityProgress } from '../inventory/progress';
import { summarizeInventory } from '../inventory/summary';
import { collectTopics } from '../inventory/topics';
import { renderInventoryMarkdown } from '../reports/inventoryReport';
import { writeAndStoreReport } from '../reports/writeReport';
import type { Inventory, InventorySummary } from '../types/inventory';

/** Records read at the end of each partition: the last one's timestamp, all of them for the size estimate. */
const SAMPLE_RECORDS_PER_PARTITION = 5;
/** Past this, partitions whose tail has not arrived are reported instead of waited for. */
const SAMPLE_DEADLINE_MS = 20_000;

/** The private group of the inventory's tail reader; such groups are the tool's own and never inventoried. */
export function inventoryGroupPrefix(spec: Pick<MigrationSpec, 'source'>): string {
  return `${spec.source.clientId}-inventory-`;
}

/** Activity: the inventory, written to the migration's reports folder, summarised for the plan. */
export async function collectInventory(input: { spec: MigrationSpec }): Promise<InventorySummary> {
  const { spec } = input;
  const inventory = await takeInventory(spec);
  const progress = activityProgress();
  const counts = { topics: inventory.topics.length, groups: inventory.groups.length };
  progress('writing-report', counts);
  // Storing a copy on the target may take its retries when the target is slow: keep heartbeating meanwhile.
  const beat = setInterval(() => progress('writing-report', counts), 5000);
  try {
    const files = await writeAndStoreReport({ spec, fileStem: 'inventory', json: inventory, markdown: renderInventoryMarkdown(inventory) });
    return summarizeInventory(inventory, files);
  } finally {
    clearInterval(beat);
  }
}

/** Reads the full inventory of the source, writing nothing (`kafka-migrate inventory` decides where it goes). */
export async function takeInventory(spec: MigrationSpec): Promise<Inventory> {
  const progress = activityProgress();
  const started = Date.now();
  try {
    const ownGroups = inventoryGroupPrefix(spec);
    const [found, groups] = await Promise.all([
      collectTopics(spec.source, progress),
      collectGroups(spec.source, (id) => isToolGroup(id, spec.source.clientId), progress),
    ]);
    const metadataMs = Date.now() - started;
    const targets = found.topics
      .filter((t) => !t.name.startsWith('__'))
      .flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition, earliestOffset: p.earliestOffset, latestOffset: p.latestOffset })));
    const deadlineMs = SAMPLE_DEADLINE_MS + targets.length;
    const { samples, unfinished, groupNotDeleted } = await sampleLastRecords(spec.source, targets, {
      // unique per run: a retried attempt never waits for the session of a crashed one to expire
      groupId: `${ownGroups}${spec.name}-${Date.now().toString(36)}`,
      samplePerPartition: SAMPLE_RECORDS_PER_PARTITION,
      deadlineMs,
      progress,
    });
    const phases = { metadataMs, lastRecordsMs: Date.now() - started - metadataMs };
    const warnings = [...found.warnings];
    if (groupNotDeleted) {
      warnings.push(
        `the inventory's own group could not be deleted after its read (${groupNotDeleted}): grant the migration user DELETE on groups prefixed ${spec.source.clientId}-`,
      );
    }
    if (unfinished.length) {
      warnings.push(
        `${unfinished.length} partition(s) did not return their last record within ${Math.round(deadlineMs / 1000)}s (${unfinished.slice(0, 10).join(', ')}${unfinished.length > 10 ? ', ...' : ''}): their last-write time is unknown`,
      );
    }
    return assembleInventory({
      spec,
      now: Date.now(),
      durationMs: Date.now() - started,
      phases,
      cluster: found.cluster,
      topics: found.topics,
      samples,
      groups,
      warnings,
    });
  } catch (e) {
    throw toKafkaFailure(e, spec.source, 'source', 'collectInventory');
  }
}
