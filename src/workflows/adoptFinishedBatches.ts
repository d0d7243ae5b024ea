/**
 * `resume`: what an earlier run of the same migration finished, read from the batch ledger (src/resume/batchLedger.ts),
 * is adopted instead of run again. Matching is by the batch's planned topics. Workflow-safe (pure).
 */
import type { LedgerEntry, MigrationPlan, MigrationStatus } from '../types';

/**
 * Marks ledger batches in the status: completed / accepted-with-mismatches / rolled-back are adopted as they are
 * (never copied again); clientsMoved batches are only verified (their clients may use the target).
 */
export function adoptFinishedBatches(
  status: MigrationStatus,
  plan: MigrationPlan,
  ledger: LedgerEntry[],
  clientsMovedIn: Set<number>,
  excludedBefore: Map<number, string[]>,
  runsBefore: number,
): void {
  const key = (topics: string[]) => [...topics].sort().join('\n');
  const byTopics = new Map(ledger.map((e) => [key(e.topics), e]));
  const adopted: number[] = [];
  for (const [i, b] of plan.batches.entries()) {
    const entry = byTopics.get(key(b.topics.map((t) => t.name)));
    if (!entry) continue;
    adopted.push(b.number);
    if (entry.excludedTopics?.length) {
      excludedBefore.set(b.number, entry.excludedTopics);
      status.batches[i].excludedTopics = entry.excludedTopics;
    }
    if (entry.state === 'clientsMoved') clientsMovedIn.add(b.number);
    else status.batches[i].state = entry.state;
  }
  status.resumedFrom = { runsBefore, adoptedBatches: adopted };
}
