/**
 * The one retry back-off of the activities and the copy engine: exponential, capped, jittered ("equal
 * jitter": each delay is drawn in [(1 - jitter) × d, d] for the exponential step d, so it keeps a floor and
 * concurrent retries spread out). Temporal's retry policies retry whole activities; this retries one call
 * inside an activity (a leader move, a coordinator loading, a topic deleted mid-listing).
 */

export interface BackoffPolicy {
  /** The delay after the first failure, before jitter. */
  initialMs: number;
  /** The cap of the delay, before jitter. */
  maxMs: number;
  /** Growth per failure; 2 unless told. */
  factor?: number;
  /** The share of each delay drawn at random, 0..1; 0.5 unless told (0: no jitter). */
  jitter?: number;
}

/** The delay after the `failure`-th consecutive failure (1-based). `random` returns [0, 1). */
export function backoffDelay(policy: BackoffPolicy, failure: number, random: () => number = Math.random): number {
  const factor = policy.factor ?? 2;
  const jitter = Math.min(Math.max(policy.jitter ?? 0.5, 0), 1);
  const step = Math.min(policy.maxMs, policy.initialMs * factor ** Math.max(failure - 1, 0));
  return Math.round(step * (1 - jitter * random()));
}

/** Waits ms; rejects with the signal's reason (or an AbortError) as soon as it is aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? Object.assign(new Error('aborted'), { name: 'AbortError' });
}

export interface RetryOptions extends BackoffPolicy {
  /** Attempts in all, the first included; unlimited unless told (then give a deadline). */
  maxAttempts?: number;
  /** Give up once this many ms have passed since the first attempt (the last error is thrown). */
  maxElapsedMs?: number;
  /** Whether this error may be retried; every error unless told. */
  retryIf?: (error: unknown, attempt: number) => boolean;
  /** Called before each wait (e.g. refresh metadata); its failure is ignored. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => unknown;
  /** Stops the retries: a wait ends at once with the signal's reason, and no new attempt starts. */
  signal?: AbortSignal;
  /** For tests. */
  random?: () => number;
}

/**
 * Runs fn until it succeeds, the error is not retryable, the attempts or the time are used up, or the signal
 * is aborted; throws the last error (or the signal's reason). fn gets the attempt number, 1-based.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    try {
      return await fn(attempt);
    } catch (e) {
      if (options.retryIf && !options.retryIf(e, attempt)) throw e;
      if (options.maxAttempts !== undefined && attempt >= options.maxAttempts) throw e;
      const delay = backoffDelay(options, attempt, options.random);
      if (options.maxElapsedMs !== undefined && Date.now() - started + delay > options.maxElapsedMs) throw e;
      try {
        await options.onRetry?.(e, attempt, delay);
      } catch {
        // a failed refresh must not hide the error being retried
      }
      await sleep(delay, options.signal);
    }
  }
}
