/** The group-offset check of verification: strict before the cutover, and after it a group that consumed on is not a mismatch. */
import { checkGroupOffset, type GroupOffsetFacts } from '../src/verify/checkGroupOffset';
import type { PartitionOffsetMap } from '../src/types/copy';

const map: PartitionOffsetMap = {
  migration: 'm',
  topic: 't',
  partition: 0,
  runs: [{ sourceStart: 0, targetStart: 0, count: 100 }],
  checkpoint: { sourceStart: 0, sourceNext: 100, targetNext: 100, recordsCopied: 100, bytesCopied: 1000, updatedAt: '2026-12-01T00:00:00Z' },
};
const hit = { offset: 40, digest: 'd40' };
const facts = (targetOffset: number, extra: Partial<GroupOffsetFacts> = {}): GroupOffsetFacts => ({
  topic: 't',
  partition: 0,
  sourceOffset: 40,
  targetOffset,
  map,
  sourceHit: hit,
  targetHit: targetOffset === 40 ? hit : undefined,
  targetEnd: 100,
  ...extra,
});

test('the translated offset pointing at the same record passes', () => {
  expect(checkGroupOffset(facts(40))).toMatchObject({ ok: true, expectedTargetOffset: 40 });
});

test('before the cutover, any other target offset is a mismatch', () => {
  expect(checkGroupOffset(facts(55))).toMatchObject({ ok: false, detail: 'target offset 55 but source offset 40 translates to 40' });
});

test('after the cutover, a group that consumed on the target (also past the end seen when verification began) passes, and says so', () => {
  expect(checkGroupOffset(facts(150, { targetLiveEnd: 140 }))).toMatchObject({
    ok: true,
    expectedTargetOffset: 40,
    detail: 'translated to 40; the group has consumed on the target since (now at 150)',
  });
});

test('after the cutover, a target offset behind the translated one is still a mismatch', () => {
  expect(checkGroupOffset(facts(30, { targetLiveEnd: 140 }))).toMatchObject({ ok: false, detail: 'target offset 30 but source offset 40 translates to 40' });
});
