/**
 * The quiet check's rule (src/cutover/quietCheck.ts), with a scripted source: "quiet" only once the end offsets were
 * proven still for the whole period, from the answer of the sample that last saw a change until the moment the latest
 * equal sample was asked for; writes that go on answer "not quiet" with the partitions that moved.
 */
import { watchUntilQuiet } from '../src/cutover/quietCheck';
import type { PartitionOffsets } from '../src/types/cutover';

interface Sample {
  askedAt: number;
  answeredAt: number;
  offsets: PartitionOffsets;
}

/** A source whose end offsets come from `offsetsAt(n)` for the n-th sample (0-based); records when each was asked and answered. */
function scriptedSource(offsetsAt: (n: number) => PartitionOffsets, sampleMs = 20) {
  const samples: Sample[] = [];
  const sample = async (): Promise<PartitionOffsets> => {
    const askedAt = Date.now();
    await new Promise((r) => setTimeout(r, sampleMs));
    const offsets = offsetsAt(samples.length);
    samples.push({ askedAt, answeredAt: Date.now(), offsets });
    return offsets;
  };
  return { sample, samples };
}

/** The stillness the samples prove at the end: from the answer of the last sample that differed from its predecessor (or the first). */
function provenStillMs(samples: Sample[]): number {
  let from = samples[0].answeredAt;
  for (let i = 1; i < samples.length; i++) if (JSON.stringify(samples[i].offsets) !== JSON.stringify(samples[i - 1].offsets)) from = samples[i].answeredAt;
  return samples[samples.length - 1].askedAt - from;
}

test('a still source is quiet only after the samples prove the whole period, and its end offsets are the drain targets', async () => {
  const src = scriptedSource(() => ({ 'a:0': 5, 'a:1': 7 }));
  const r = await watchUntilQuiet(src.sample, { quietSeconds: 0.4, pollMs: 100 });
  expect(r).toMatchObject({ quiet: true, endOffsets: { 'a:0': 5, 'a:1': 7 }, changed: [] });
  expect(provenStillMs(src.samples)).toBeGreaterThanOrEqual(400);
  expect(src.samples.length).toBeGreaterThanOrEqual(5); // the first, then one every 100 ms for 400 ms
});

test('a write early in the period restarts it from the answer that saw it; the partition is reported as moved', async () => {
  const src = scriptedSource((n) => ({ 'a:0': n < 2 ? 5 : 6, 'a:1': 7 }));
  const r = await watchUntilQuiet(src.sample, { quietSeconds: 0.3, pollMs: 100, maxSeconds: 5 });
  expect(r).toMatchObject({ quiet: true, endOffsets: { 'a:0': 6, 'a:1': 7 }, changed: ['a:0'] });
  expect(provenStillMs(src.samples)).toBeGreaterThanOrEqual(300);
  // The period counts from the answer of the sample that saw the write, not from the start.
  const sawWrite = src.samples.findIndex((s) => s.offsets['a:0'] === 6);
  expect(src.samples[src.samples.length - 1].askedAt - src.samples[sawWrite].answeredAt).toBeGreaterThanOrEqual(300);
});

test('writes that go on answer not quiet within the watch limit, naming every partition that moved', async () => {
  const src = scriptedSource((n) => ({ 'a:0': n, 'a:1': 7, 'b:0': n % 2 }));
  const r = await watchUntilQuiet(src.sample, { quietSeconds: 0.3, pollMs: 100 });
  expect(r.quiet).toBe(false);
  expect(r.changed).toEqual(['a:0', 'b:0']);
  expect(provenStillMs(src.samples)).toBeLessThan(300);
});

test('a sample slower than the poll interval polls again at once, and still proves the whole period', async () => {
  const src = scriptedSource(() => ({ 'a:0': 1 }), 150);
  const r = await watchUntilQuiet(src.sample, { quietSeconds: 0.3, pollMs: 100, maxSeconds: 5 });
  expect(r.quiet).toBe(true);
  expect(provenStillMs(src.samples)).toBeGreaterThanOrEqual(300);
});
