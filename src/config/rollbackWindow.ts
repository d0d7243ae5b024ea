/**
 * `cutover.rollbackWindow`: how long a batch stays revertible after its clients moved to the target. Pure and
 * workflow-safe. `off` (the default) keeps the old behaviour: the batch is final once verified. A duration is
 * whole minutes, hours or days (`90m`, `72h`, `7d`); `until-finalize` keeps the window open until
 * `kafka-migrate finalize`.
 */
export const ROLLBACK_WINDOW_PATTERN = /^(off|until-finalize|[1-9][0-9]{0,5}[mhd])$/;

export const ROLLBACK_WINDOW_HELP = 'expected "off", "until-finalize" or a duration of whole minutes, hours or days (e.g. "90m", "72h", "7d")';

/** Longest window: a year (the reverse sync's history is bounded by continue-as-new, not by the window). */
const MAX_MS = 366 * 24 * 3600_000;

/** The window in ms: 0 when off, Infinity until finalize; undefined for a value the pattern refuses. */
export function rollbackWindowMs(value: string | undefined): number | undefined {
  if (value === undefined || value === 'off') return 0;
  if (value === 'until-finalize') return Infinity;
  if (!ROLLBACK_WINDOW_PATTERN.test(value)) return undefined;
  const n = Number(value.slice(0, -1));
  const unit = { m: 60_000, h: 3600_000, d: 24 * 3600_000 }[value.slice(-1) as 'm' | 'h' | 'd'];
  const ms = n * unit;
  return ms > MAX_MS ? undefined : ms;
}
