/**
 * Bounded concurrency for steps that must not leave work running behind a failure: after the first failure
 * no new item starts, the ones in flight are awaited (so nothing still writes once the caller has moved on,
 * e.g. closed the connection or reported the failure), and the failure of the earliest item is thrown, so
 * the error does not depend on timing.
 */
export async function mapLimitSettled<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  const failures = new Map<number, unknown>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && failures.size === 0) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (e) {
        failures.set(i, e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failures.size > 0) throw failures.get(Math.min(...failures.keys()));
  return results;
}
