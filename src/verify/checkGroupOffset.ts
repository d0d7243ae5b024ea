/**
 * One group's offset on one partition after translation: the target offset must be what the offset map gives,
 * and, checked independently of the map, it must point at the copy of the record the source offset points at
 * (the first record at or after it), or at the end of the target range when the source offset was at the end.
 */
import { OffsetTranslationError, translateOffset } from '../copy/translateOffset';
import type { PartitionOffsetMap } from '../types/copy';
import type { GroupPartitionVerification } from '../types/verify';
import type { ProbeHit } from './comparePartition';

export interface GroupOffsetFacts {
  topic: string;
  partition: number;
  sourceOffset: number | null;
  targetOffset: number | null;
  map: PartitionOffsetMap | null;
  /** First source record at/after sourceOffset (null: at the end), from the partition walk. */
  sourceHit: ProbeHit | undefined;
  /** First target record at/after targetOffset (null: at the end), from the partition walk. */
  targetHit: ProbeHit | undefined;
  /** End of the compared target range (after the cutover: the copy's end). */
  targetEnd: number;
  /**
   * After the cutover only (the target's end when verification began): a target offset past the translated one is
   * the group consuming on the target since it moved (the clients may write and commit while verification runs,
   * past this end too): accepted, and said so. A target offset behind the translated one is still a mismatch.
   */
  targetLiveEnd?: number;
}

export function checkGroupOffset(f: GroupOffsetFacts): GroupPartitionVerification {
  const base = { topic: f.topic, partition: f.partition, sourceOffset: f.sourceOffset, targetOffset: f.targetOffset };
  const fail = (expected: number | null, detail: string) => ({ ...base, expectedTargetOffset: expected, ok: false, detail });
  if (f.sourceOffset === null) {
    if (f.targetOffset === null)
      return { ...base, expectedTargetOffset: null, ok: true, detail: 'no committed offset on either side (auto.offset.reset applies)' };
    return fail(null, `the target has offset ${f.targetOffset} committed but the source has none`);
  }
  if (!f.map) return fail(null, 'no offset map for this partition');
  let expected: number | null;
  try {
    expected = translateOffset(f.map, f.sourceOffset);
  } catch (e) {
    if (!(e instanceof OffsetTranslationError) || e.reason !== 'below-copied-range') return fail(null, (e as Error).message);
    expected = null; // below what was copied: left uncommitted on purpose, auto.offset.reset applies
  }
  if (f.targetLiveEnd !== undefined && expected !== null && f.targetOffset !== null && f.targetOffset > expected) {
    return {
      ...base,
      expectedTargetOffset: expected,
      ok: true,
      detail: `translated to ${expected}; the group has consumed on the target since (now at ${f.targetOffset})`,
    };
  }
  if (f.targetOffset !== expected) {
    return fail(
      expected,
      `target offset ${f.targetOffset ?? 'none'} but source offset ${f.sourceOffset} translates to ${expected ?? 'none (below the copied range)'}`,
    );
  }
  if (expected === null)
    return { ...base, expectedTargetOffset: null, ok: true, detail: 'source offset below the copied range: left uncommitted (auto.offset.reset applies)' };
  if (f.sourceHit === undefined || f.targetHit === undefined) return fail(expected, 'the records at the offsets were not read');
  if (f.sourceHit === null) {
    return f.targetOffset === f.targetEnd
      ? { ...base, expectedTargetOffset: expected, ok: true, detail: 'at the end on both sides' }
      : fail(expected, `the source offset is at the end of the partition but target offset ${f.targetOffset} is not the target end ${f.targetEnd}`);
  }
  if (f.targetHit === null)
    return fail(
      expected,
      `source offset ${f.sourceOffset} points at record ${f.sourceHit.offset} but target offset ${f.targetOffset} is at the end of the target`,
    );
  if (f.sourceHit.digest !== f.targetHit.digest) {
    return fail(
      expected,
      `source offset ${f.sourceOffset} points at record ${f.sourceHit.offset} but target offset ${f.targetOffset} points at a different record (target ${f.targetHit.offset})`,
    );
  }
  return {
    ...base,
    expectedTargetOffset: expected,
    ok: true,
    detail: `points at the copy of source record ${f.sourceHit.offset} (target ${f.targetHit.offset})`,
  };
}
