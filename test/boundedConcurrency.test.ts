/** mapLimitSettled: bounded, ordered, and nothing left running behind a failure. */
import { mapLimitSettled } from '../src/cutover/boundedConcurrency';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('keeps at most `limit` calls in flight and returns results in input order', async () => {
  let inFlight = 0;
  let peak = 0;
  const results = await mapLimitSettled([30, 5, 20, 1, 10, 2, 15], 3, async (ms, i) => {
    peak = Math.max(peak, ++inFlight);
    await sleep(ms);
    inFlight--;
    return `${i}:${ms}`;
  });
  expect(results).toEqual(['0:30', '1:5', '2:20', '3:1', '4:10', '5:2', '6:15']);
  expect(peak).toBe(3);
  expect(await mapLimitSettled([], 8, async () => 1)).toEqual([]);
});

test('after a failure: starts nothing new, waits for the calls in flight, throws the earliest item failure', async () => {
  const started: number[] = [];
  const finished: number[] = [];
  const failure = await mapLimitSettled([0, 1, 2, 3, 4, 5], 3, async (i) => {
    started.push(i);
    // Item 2 fails first, item 1 fails later: the error of item 1 (earlier in the input) is the one thrown.
    await sleep(i === 2 ? 5 : i === 1 ? 30 : 60);
    finished.push(i);
    if (i === 1 || i === 2) throw new Error(`item ${i}`);
    return i;
  }).catch((e: Error) => e);
  expect(failure).toEqual(new Error('item 1'));
  expect(started).toEqual([0, 1, 2]);
  // Item 0 was in flight when item 2 failed: it was awaited before the call returned.
  expect(finished.sort()).toEqual([0, 1, 2]);
});
