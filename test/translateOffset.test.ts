/** Pure offset-map logic: runs, translation, identity. */
import { appendMapping, clipRunsToCheckpoint, hasIdenticalOffsets } from '../src/copy/offsetRuns';
import { translateOffset, OffsetTranslationError } from '../src/copy/translateOffset';
import type { OffsetRun, PartitionOffsetMap } from '../src/types/copy';

function mapOf(pairs: [number, number][], sourceStart: number, sourceNext: number, targetNext: number): PartitionOffsetMap {
  const runs: OffsetRun[] = [];
  for (const [s, t] of pairs) appendMapping(runs, s, t);
  return {
    migration: 'm',
    topic: 't',
    partition: 0,
    runs,
    checkpoint: { sourceStart, sourceNext, targetNext, recordsCopied: pairs.length, bytesCopied: 0, updatedAt: '' },
  };
}

test('runs start at every source gap and translation picks the first copied record at or after the offset', () => {
  // source 5,6,7 | gap 8-9 | 10,11 | gap 12 (e.g. a commit marker) ; copy started at log start 3
  const map = mapOf(
    [
      [5, 0],
      [6, 1],
      [7, 2],
      [10, 3],
      [11, 4],
    ],
    3,
    13,
    5,
  );
  expect(map.runs).toEqual([
    { sourceStart: 5, targetStart: 0, count: 3 },
    { sourceStart: 10, targetStart: 3, count: 2 },
  ]);
  expect([3, 4, 5, 7, 8, 9, 10, 11, 12, 13].map((o) => translateOffset(map, o))).toEqual([0, 0, 0, 2, 3, 3, 3, 4, 5, 5]);
  expect(() => translateOffset(map, 2)).toThrow(/below the first copied source offset 3/);
  expect(() => translateOffset(map, 14)).toThrow(/only source offsets below 13 are copied so far/);
  const err = (() => {
    try {
      translateOffset(map, 14);
    } catch (e) {
      return e as OffsetTranslationError;
    }
  })();
  expect(err?.reason).toBe('not-copied-yet');
  expect(hasIdenticalOffsets(map)).toBe(false);
});

test('identical offsets: one run from 0 and nothing skipped at the end; empty partitions too', () => {
  expect(
    hasIdenticalOffsets(
      mapOf(
        [
          [0, 0],
          [1, 1],
          [2, 2],
        ],
        0,
        3,
        3,
      ),
    ),
  ).toBe(true);
  expect(
    hasIdenticalOffsets(
      mapOf(
        [
          [0, 0],
          [1, 1],
          [2, 2],
        ],
        0,
        4,
        3,
      ),
    ),
  ).toBe(false); // trailing marker
  expect(hasIdenticalOffsets(mapOf([], 0, 0, 0))).toBe(true);
  expect(hasIdenticalOffsets(mapOf([[1, 1]], 1, 2, 2))).toBe(false);
  expect(() => translateOffset({ topic: 't', partition: 0, runs: [], checkpoint: null }, 0)).toThrow(/nothing has been copied yet/);
});

test('mappings must grow; stored runs ahead of their checkpoint are clipped to it', () => {
  const runs: OffsetRun[] = [];
  appendMapping(runs, 10, 0);
  expect(() => appendMapping(runs, 9, 1)).toThrow(/out of order/);
  expect(
    clipRunsToCheckpoint(
      [
        { sourceStart: 0, targetStart: 0, count: 10 },
        { sourceStart: 20, targetStart: 10, count: 5 },
      ],
      22,
      12,
    ),
  ).toEqual([
    { sourceStart: 0, targetStart: 0, count: 10 },
    { sourceStart: 20, targetStart: 10, count: 2 },
  ]);
  expect(
    clipRunsToCheckpoint(
      [
        { sourceStart: 0, targetStart: 0, count: 10 },
        { sourceStart: 20, targetStart: 10, count: 5 },
      ],
      15,
      10,
    ),
  ).toEqual([{ sourceStart: 0, targetStart: 0, count: 10 }]);
});
