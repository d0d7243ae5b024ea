/** resume: what the batch ledger says an earlier run finished is adopted (src/workflows/adoptFinishedBatches.ts). */
import type { LedgerEntry, MigrationPlan, MigrationStatus, PlanBatch } from '../src/types';
import { adoptFinishedBatches } from '../src/workflows/adoptFinishedBatches';

const batch = (number: number, topics: string[]): PlanBatch => ({
  number,
  name: `s${number}`,
  systems: [`s${number}`],
  priority: 'non-core',
  topics: topics.map((name) => ({ name, partitions: 1 })) as PlanBatch['topics'],
  groups: [],
});
const entry = (topics: string[], state: LedgerEntry['state'], excludedTopics?: string[]): LedgerEntry => ({
  number: 9,
  name: 'old',
  topics,
  state,
  at: '2026-12-01T00:00:00Z',
  workflowId: 'w',
  ...(excludedTopics ? { excludedTopics } : {}),
});

test('completed, accepted, rolled-back and clients-moved batches are adopted by their topics; others run again', () => {
  const plan = { batches: [batch(1, ['a', 'b']), batch(2, ['c']), batch(3, ['d']), batch(4, ['e']), batch(5, ['f'])] } as MigrationPlan;
  const status = { batches: plan.batches.map((b) => ({ number: b.number, name: b.name, workflowId: `w${b.number}`, state: 'pending' })) } as MigrationStatus;
  const clientsMoved = new Set<number>();
  const excluded = new Map<number, string[]>();
  adoptFinishedBatches(
    status,
    plan,
    [
      entry(['b', 'a'], 'completed'),
      entry(['c'], 'rolled-back', ['c2']),
      entry(['d'], 'clientsMoved'),
      entry(['e'], 'accepted-with-mismatches'),
      entry(['zz'], 'completed'),
    ],
    clientsMoved,
    excluded,
    2,
  );
  expect(status.batches.map((b) => b.state)).toEqual(['completed', 'rolled-back', 'pending', 'accepted-with-mismatches', 'pending']);
  expect([...clientsMoved]).toEqual([3]);
  expect(excluded.get(2)).toEqual(['c2']);
  expect(status.resumedFrom).toEqual({ runsBefore: 2, adoptedBatches: [1, 2, 3, 4] });
});
