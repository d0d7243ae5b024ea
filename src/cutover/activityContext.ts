/**
 * Heartbeats and cancellation for code that runs inside an activity, and also when called directly (tests,
 * scripts): outside an activity context both are no-ops.
 */
import { Context } from '@temporalio/activity';

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Reports progress to Temporal (throttled by the SDK); a no-op outside an activity. */
export function heartbeatProgress(details: unknown): void {
  const ctx = currentContext();
  if (!ctx) return;
  lastDetails.set(ctx, details);
  ctx.heartbeat(details);
}

/** The latest progress each running activity reported: keepAlive's timer repeats it instead of clearing it. */
const lastDetails = new WeakMap<Context, unknown>();

export function lastProgressOf(ctx: Context): unknown {
  return lastDetails.get(ctx);
}

/** Throws the activity's cancellation as soon as it is requested; a no-op outside an activity. */
export function throwIfCancelled(): void {
  const signal = currentContext()?.cancellationSignal;
  if (signal?.aborted) throw signal.reason ?? new Error('activity cancelled');
}

/** Sleeps ms, waking early (with the cancellation error) when the activity is cancelled. */
export async function sleepUnlessCancelled(ms: number): Promise<void> {
  const signal = currentContext()?.cancellationSignal;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort(): void {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error('activity cancelled'));
    }
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
