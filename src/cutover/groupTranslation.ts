/**
 * The in-memory half of offset translation: one group's committed source offsets, through the offset maps,
 * to what must be committed on the target and the report lines. No I/O: the caller fetched the offsets and
 * loaded the maps, so every group is translated (or refused) before anything is committed.
 */
import { ApplicationFailure } from '@temporalio/common';
import { OffsetTranslationError, translateOffset } from '../copy/translateOffset';
import type { PartitionOffsetMap } from '../types/copy';
import type { PartitionOffsetTranslation } from '../types/cutover';
import type { GroupOffset } from './commitGroupOffsets';
import { comparePartitionKeys, parsePartitionKey } from './endOffsets';
import type { FailureType } from '../types/failureTypes';

export const OFFSETS_NOT_COPIED = 'OffsetsNotCopiedYet' satisfies FailureType;

/** "topic:partition" -> committed offset, or null when the group has none there. */
export type CommittedOffsets = Map<string, number | null>;

export interface GroupTranslation {
  partitions: PartitionOffsetTranslation[];
  withoutOffset: string[];
  /** Partitions without a committed offset on either cluster (not listed in `partitions`). */
  uncommitted: number;
  toCommit: GroupOffset[];
}

/** The partitions whose offset map the translation of this group needs (those with a committed offset). */
export function partitionsToTranslate(committed: CommittedOffsets): string[] {
  return [...committed].filter(([, offset]) => offset !== null).map(([key]) => key);
}

/**
 * Translates one group, partitions in "topic:partition" order. `mapOf` must know every partition of
 * partitionsToTranslate(committed). Throws a retryable OffsetsNotCopiedYet when an offset lies beyond what
 * is copied (the drain has not reached it). `partitions`: every partition of the batch ("topic:partition"); those
 * without a committed offset on either side are counted (`uncommitted`), not listed. Without it, the keys of
 * `committed` are the batch's partitions.
 */
export function translateGroup(
  group: string,
  committed: CommittedOffsets,
  onTarget: CommittedOffsets,
  mapOf: (key: string) => PartitionOffsetMap,
  partitions: ReadonlySet<string> = new Set(committed.keys()),
): GroupTranslation {
  const rows: PartitionOffsetTranslation[] = [];
  const withoutOffset: string[] = [];
  const toCommit: GroupOffset[] = [];
  /** kafkajs has no OffsetDelete: an offset a consumer already committed on the target can only be reported. */
  const leftover = (key: string) => {
    const existing = onTarget.get(key);
    return typeof existing === 'number'
      ? `; WARNING: the target already has offset ${existing} committed for this group (a consumer ran there): remove it with kafka-consumer-groups --delete-offsets --group ${group} --topic ${key} if auto.offset.reset should decide`
      : '';
  };
  // Nothing committed on either side: nothing to do and nothing to warn about, so counted rather than listed
  // (most of a large batch's partitions are not the group's).
  const listed = new Set<string>();
  for (const [key, offset] of committed) if (offset !== null && partitions.has(key)) listed.add(key);
  for (const [key, offset] of onTarget) if (typeof offset === 'number' && partitions.has(key)) listed.add(key);
  const uncommitted = partitions.size - listed.size;
  for (const key of [...listed].sort(comparePartitionKeys)) {
    const { topic, partition } = parsePartitionKey(key);
    const sourceOffset = committed.get(key) ?? null;
    if (sourceOffset === null) {
      withoutOffset.push(key);
      rows.push({
        topic,
        partition,
        sourceOffset: null,
        targetOffset: null,
        identical: true,
        note: `no committed offset on the source: none committed on the target, the consumer's auto.offset.reset applies${leftover(key)}`,
      });
      continue;
    }
    let targetOffset: number;
    try {
      targetOffset = translateOffset(mapOf(key), sourceOffset);
    } catch (e) {
      if (e instanceof OffsetTranslationError && e.reason === 'below-copied-range') {
        // The source consumer would hit OFFSET_OUT_OF_RANGE and apply auto.offset.reset: leaving the target
        // uncommitted reproduces that exactly (earliest = first copied record, latest = end).
        withoutOffset.push(key);
        rows.push({
          topic,
          partition,
          sourceOffset,
          targetOffset: null,
          identical: false,
          note: `${e.message}: none committed on the target, the consumer's auto.offset.reset applies as it would on the source${leftover(key)}`,
        });
        continue;
      }
      if (e instanceof OffsetTranslationError) {
        throw ApplicationFailure.retryable(`group "${group}": ${e.message}`, OFFSETS_NOT_COPIED);
      }
      throw e;
    }
    rows.push({ topic, partition, sourceOffset, targetOffset, identical: sourceOffset === targetOffset });
    toCommit.push({ topic, partition, offset: targetOffset });
  }
  return { partitions: rows, withoutOffset, uncommitted, toCommit };
}
