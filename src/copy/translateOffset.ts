/**
 * Exact translation of a source offset (e.g. a committed group offset) to the target. Pure and
 * workflow-safe: the map comes from `loadOffsetMap`.
 */
import type { PartitionOffsetMap } from '../types/copy';

export class OffsetTranslationError extends Error {
  constructor(
    readonly reason: 'not-copied-yet' | 'below-copied-range' | 'nothing-copied',
    message: string,
  ) {
    super(message);
    this.name = 'OffsetTranslationError';
  }
}

/**
 * The target offset of the first copied record at or after `sourceOffset`, or the checkpoint's targetNext
 * when nothing copied lies between sourceOffset and sourceNext (sourceOffset == sourceNext included).
 * Throws OffsetTranslationError for an offset beyond what is copied or below the first copied record.
 */
export function translateOffset(map: Pick<PartitionOffsetMap, 'topic' | 'partition' | 'runs' | 'checkpoint'>, sourceOffset: number): number {
  const where = `${map.topic}:${map.partition}`;
  const cp = map.checkpoint;
  if (!cp) {
    throw new OffsetTranslationError('nothing-copied', `cannot translate offset ${sourceOffset} of ${where}: nothing has been copied yet`);
  }
  if (sourceOffset > cp.sourceNext) {
    throw new OffsetTranslationError(
      'not-copied-yet',
      `cannot translate offset ${sourceOffset} of ${where}: only source offsets below ${cp.sourceNext} are copied so far (drain the partition first)`,
    );
  }
  const runs = map.runs;
  const lowest = cp.sourceStart;
  if (sourceOffset < lowest) {
    throw new OffsetTranslationError(
      'below-copied-range',
      `cannot translate offset ${sourceOffset} of ${where}: it is below the first copied source offset ${lowest} (the records were deleted on the source before the copy started)`,
    );
  }
  // Binary search: the first run that ends after sourceOffset.
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (runs[mid].sourceStart + runs[mid].count <= sourceOffset) lo = mid + 1;
    else hi = mid;
  }
  if (lo === runs.length) return cp.targetNext;
  const run = runs[lo];
  return sourceOffset <= run.sourceStart ? run.targetStart : run.targetStart + (sourceOffset - run.sourceStart);
}
