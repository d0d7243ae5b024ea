/** The rollback window's pure parts: the spec field, and the exact target -> source offset translation. */
import { rollbackWindowMs } from '../src/config/rollbackWindow';
import { parseSpec, SpecError } from '../src/config/spec';
import { invertMap, targetToSource } from '../src/rollback/translateBack';
import type { PartitionOffsetMap } from '../src/types/copy';

const minimal = (cutover: object) => ({
  name: 'm1',
  source: { bootstrapServers: ['127.0.0.1:19093'] },
  target: { bootstrapServers: ['127.0.0.1:29092'] },
  cutover,
});

function issuesOf(raw: unknown): string[] {
  try {
    parseSpec(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as SpecError).issues;
  }
  throw new Error('expected the spec to be rejected');
}

const checkpoint = (sourceStart: number, sourceNext: number, targetNext: number) => ({
  sourceStart,
  sourceNext,
  targetNext,
  recordsCopied: 0,
  bytesCopied: 0,
  updatedAt: '',
});

describe('cutover.rollbackWindow', () => {
  test('durations, off and until-finalize; absent is off', () => {
    expect(rollbackWindowMs(undefined)).toBe(0);
    expect(rollbackWindowMs('off')).toBe(0);
    expect(rollbackWindowMs('90m')).toBe(90 * 60_000);
    expect(rollbackWindowMs('72h')).toBe(72 * 3600_000);
    expect(rollbackWindowMs('7d')).toBe(7 * 24 * 3600_000);
    expect(rollbackWindowMs('until-finalize')).toBe(Infinity);
    for (const bad of ['72', '72 hours', '0h', '1.5h', '-1d', '400d', 'forever']) expect(rollbackWindowMs(bad)).toBeUndefined();
    expect(parseSpec(minimal({ rollbackWindow: '72h' })).cutover.rollbackWindow).toBe('72h');
    expect(parseSpec(minimal({})).cutover.rollbackWindow).toBeUndefined();
  });

  test('a bad value names the field and what is expected; a window with fenceWithAcl is refused', () => {
    expect(issuesOf(minimal({ rollbackWindow: '72 hours' })).join('\n')).toMatch(/cutover\.rollbackWindow.*"off", "until-finalize" or a duration/);
    expect(issuesOf(minimal({ rollbackWindow: '1d', fenceWithAcl: true })).join('\n')).toMatch(/cutover\.rollbackWindow.*fenceWithAcl/);
    expect(parseSpec(minimal({ rollbackWindow: 'off', fenceWithAcl: true })).cutover.fenceWithAcl).toBe(true);
  });
});

describe('target -> source offsets at a rollback', () => {
  // Forward: source 10..19 copied (a compacted gap at 14..15, a transaction marker at 19) to target 0..7.
  const forward: PartitionOffsetMap = {
    migration: 'm',
    topic: 't',
    partition: 0,
    runs: [
      { sourceStart: 10, targetStart: 0, count: 4 },
      { sourceStart: 16, targetStart: 4, count: 3 },
    ],
    checkpoint: checkpoint(10, 20, 7),
  };
  // Reverse: clients wrote target 7..11, plus a commit marker at 10 (read_committed skips it): copied to source 20..23.
  const reverse: PartitionOffsetMap = {
    migration: 'm.reverse',
    topic: 't',
    partition: 0,
    runs: [
      { sourceStart: 7, targetStart: 20, count: 3 },
      { sourceStart: 11, targetStart: 23, count: 1 },
    ],
    checkpoint: checkpoint(7, 12, 24),
  };

  test('below the forward end: the forward map read backwards', () => {
    expect(invertMap(forward).checkpoint).toMatchObject({ sourceNext: 7, targetNext: 20 });
    expect([0, 3, 4, 6].map((o) => targetToSource(forward, reverse, o))).toEqual([
      { offset: 10, via: 'forward-map' },
      { offset: 13, via: 'forward-map' },
      { offset: 16, via: 'forward-map' },
      { offset: 18, via: 'forward-map' },
    ]);
  });

  test('at or beyond it: the reverse map; a consumer at the end resumes at the source end', () => {
    expect([7, 9, 10, 11, 12].map((o) => targetToSource(forward, reverse, o).offset)).toEqual([20, 22, 23, 23, 24]);
    expect(targetToSource(forward, reverse, 7).via).toBe('reverse-map');
  });

  test('an offset beyond what was copied back is refused (drain first)', () => {
    expect(() => targetToSource(forward, reverse, 13)).toThrow(/beyond what the reverse sync copied back/);
  });
});
