/**
 * Short admin activities (group checks, offset translation, topic creation, fences, reports) and verification
 * (whose preparation and group checks run between its own progress heartbeats) heartbeat every
 * second while they run, so that a worker killed in the middle of a cutover step is noticed within the
 * heartbeat timeout and the step retried at once, instead of after its whole start-to-close timeout.
 */
import { Context } from '@temporalio/activity';
import { lastProgressOf } from '../cutover/activityContext';

export function keepAlive<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  const wrapped = async (...args: A): Promise<R> => {
    let ctx: Context | undefined;
    try {
      ctx = Context.current();
    } catch {
      return fn(...args); // called outside an activity (tests, CLI)
    }
    // Repeats the activity's own latest progress (heartbeatProgress), so the UI keeps showing it.
    const timer = setInterval(() => ctx!.heartbeat(lastProgressOf(ctx!)), 1000);
    try {
      return await fn(...args);
    } finally {
      clearInterval(timer);
    }
  };
  // The activity's name in Temporal is its export name; keep the function's own name for stack traces.
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  return wrapped;
}
