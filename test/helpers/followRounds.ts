/**
 * Follow rounds a workflow test holds back: a stalled round copies nothing until the workflow cancels it (records
 * written meanwhile are left to the drain), and the rounds that do copy are counted, so that a test can wait until
 * none of them still runs.
 */
import { Context } from '@temporalio/activity';
import { until } from './until';

export class FollowRounds {
  /** Migrations whose follow rounds stall until cancelled. */
  readonly stalled = new Set<string>();
  /** Migrations of which a stalled round has started (so the round before it has ended). */
  private readonly stalledStarted = new Set<string>();
  /** Copying follow rounds running now, per migration. */
  private readonly running = new Map<string, number>();

  async stallUntilCancelled(migration: string): Promise<never> {
    this.stalledStarted.add(migration);
    const ctx = Context.current();
    for (;;) {
      ctx.heartbeat();
      await ctx.sleep(500); // rejects with CancelledFailure once the workflow cancels the round
    }
  }

  async counted<T>(migration: string, copy: () => Promise<T>): Promise<T> {
    this.running.set(migration, (this.running.get(migration) ?? 0) + 1);
    try {
      return await copy();
    } finally {
      this.running.set(migration, (this.running.get(migration) ?? 1) - 1);
    }
  }

  /**
   * Stalls the migration's follow rounds and resolves once a stalled one has started and no copying one still runs
   * (a round scheduled before the stall may start its activity after it). Records written after this wait for the drain.
   */
  async holdBack(migration: string, timeoutMs = 120_000): Promise<void> {
    this.stalled.add(migration);
    await until(
      async () => this.stalledStarted.has(migration) && !this.running.get(migration),
      (ok) => ok,
      'a stalled follow round started, no copying one running',
      timeoutMs,
    );
  }

  release(migration: string): void {
    this.stalled.delete(migration);
  }
}
