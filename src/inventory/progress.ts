/**
 * Progress of a long inventory: heartbeats when running as a Temporal activity (so a stuck worker is
 * noticed and a cancellation is delivered), a no-op when called standalone (`kafka-migrate inventory`).
 */
import { Context } from '@temporalio/activity';

export type ProgressFn = (stage: string, details?: Record<string, unknown>) => void;

export function activityProgress(): ProgressFn {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    ctx = undefined; // not inside an activity
  }
  return (stage, details = {}) => ctx?.heartbeat({ stage, ...details });
}
