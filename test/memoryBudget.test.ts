/**
 * The copy's per-process memory budget: arrival-order reservations, and, against the real clusters, several
 * copies sharing one small budget stay within it, copy exactly, and give every byte back at the end.
 */
import { copyPartitionsUntil } from '../src/copy/copyPartitions';
import { createTopicsOnTarget } from '../src/copy/targetTopics';
import { MemoryBudget, recordCost } from '../src/copy/memoryBudget';
import { stackSpec, uniqueSuffix } from './helpers/stack';
import { content, createSourceTopic, produceToSource, readPartition, sourceEndOffsets } from './helpers/copyFixtures';

describe('MemoryBudget', () => {
  test('grants what is free between min and want, and serves waiters in arrival order', async () => {
    const budget = new MemoryBudget(100);
    expect(await budget.reserve(10, 70)).toBe(70);
    const order: string[] = [];
    const a = budget.reserve(50, 50).then((n) => order.push(`a${n}`));
    const b = budget.reserve(5, 5).then((n) => order.push(`b${n}`)); // would fit now, but a came first
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    budget.release(30); // 60 free
    await Promise.all([a, b]);
    expect(order).toEqual(['a50', 'b5']);
    expect(budget.used).toBe(95);
  });

  test('an oversized request waits for the whole budget instead of forever; charges may exceed the limit', async () => {
    const budget = new MemoryBudget(100);
    budget.charge(120);
    expect(budget.used).toBe(120);
    expect(budget.peak).toBe(120);
    let granted = 0;
    const big = budget.reserve(500, 500).then((n) => (granted = n));
    budget.release(60);
    await new Promise((r) => setImmediate(r));
    expect(granted).toBe(0);
    budget.release(60);
    await big;
    expect(granted).toBe(100);
  });

  test('an aborted wait rejects, frees its place in line and charges nothing', async () => {
    const budget = new MemoryBudget(10);
    budget.charge(10);
    const controller = new AbortController();
    const waiting = budget.reserve(5, 5, controller.signal);
    const next = budget.reserve(1, 1);
    controller.abort(new Error('copy closed'));
    await expect(waiting).rejects.toThrow('copy closed');
    budget.release(1);
    expect(await next).toBe(1);
    expect(budget.used).toBe(10);
  });

  test('rejects a limit that is not a positive number', () => {
    expect(() => new MemoryBudget(0)).toThrow(/positive/);
  });

  test('the process budget comes from KM_COPY_MEMORY_MB, and a bad value names the variable and what it expects', () => {
    const saved = process.env.KM_COPY_MEMORY_MB;
    const budgetWith = (value: string | undefined) => {
      let limit: number | undefined;
      jest.isolateModules(() => {
        if (value === undefined) delete process.env.KM_COPY_MEMORY_MB;
        else process.env.KM_COPY_MEMORY_MB = value;
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- re-read with a changed environment
        limit = (require('../src/copy/memoryBudget') as typeof import('../src/copy/memoryBudget')).processCopyBudget().limitBytes;
      });
      return limit;
    };
    try {
      expect(budgetWith(undefined)).toBe(128 * 1024 * 1024);
      expect(budgetWith('256')).toBe(256 * 1024 * 1024);
      expect(() => budgetWith('lots')).toThrow('KM_COPY_MEMORY_MB must be a number of MiB >= 16 (the copy\'s memory budget per worker process), got "lots"');
      expect(() => budgetWith('8')).toThrow(/got "8"/);
    } finally {
      if (saved === undefined) delete process.env.KM_COPY_MEMORY_MB;
      else process.env.KM_COPY_MEMORY_MB = saved;
    }
  });
});

test('three copies sharing a 4 MiB budget stay within it, copy exactly and release everything', async () => {
  const s = uniqueSuffix();
  const topics = [0, 1, 2].map((i) => `membudget-${s}-${i}`);
  const value = Buffer.alloc(1024, 7);
  for (const topic of topics) {
    await createSourceTopic(topic, 2);
    await produceToSource(
      topic,
      Array.from({ length: 3000 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value, headers: { n: String(i) } })),
    );
  }
  const budget = new MemoryBudget(4 * 1024 * 1024);
  const runs = topics.map(async (topic) => {
    const spec = stackSpec({ name: `membudget-${s}-${topic.slice(-1)}` });
    await createTopicsOnTarget(spec, spec.name, [topic]);
    const stopAt = await sourceEndOffsets(topic);
    return copyPartitionsUntil({
      source: spec.source,
      target: spec.target,
      migration: spec.name,
      partitions: [0, 1].map((partition) => ({ topic, partition })),
      stopAt,
      maxBatchBytes: 512 * 1024,
      budget,
    });
  });
  const progress = (await Promise.all(runs)).flat();
  expect(progress.reduce((n, p) => n + p.recordsCopied, 0)).toBe(9000);
  // 9 MB of values went through; at most one fetch response beyond the reservations is in the budget at once.
  expect(budget.peak).toBeGreaterThan(recordCost(1024) * 100);
  expect(budget.peak).toBeLessThanOrEqual(4 * 1024 * 1024 * 1.05);
  expect(budget.used).toBe(0);
  for (const topic of topics) {
    for (const partition of [0, 1]) {
      const source = await readPartition('source', topic, partition);
      const target = await readPartition('target', topic, partition, { committed: false });
      expect(target.map(content)).toEqual(source.map(content));
    }
  }
}, 120_000);
