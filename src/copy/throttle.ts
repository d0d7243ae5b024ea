/**
 * Byte-rate throttle for reads from the source: a token bucket shared by every copy running in this worker
 * process for the same migration, so that concurrent activities together stay under the rate.
 */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();

  constructor(readonly bytesPerSecond: number) {
    this.tokens = bytesPerSecond; // one second of burst
  }

  /** Takes `bytes` tokens, going into debt if needed, and waits until the debt is paid. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
    this.tokens -= bytes;
    if (this.tokens >= 0) return;
    const waitMs = (-this.tokens / this.bytesPerSecond) * 1000;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, waitMs);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

const shared = new Map<string, TokenBucket>();

/** The process-wide bucket of a migration (undefined when unthrottled); a changed rate replaces it. */
export function sharedThrottle(migration: string, bytesPerSecond: number): TokenBucket | undefined {
  if (!(bytesPerSecond > 0)) return undefined;
  const existing = shared.get(migration);
  if (existing && existing.bytesPerSecond === bytesPerSecond) return existing;
  const bucket = new TokenBucket(bytesPerSecond);
  shared.set(migration, bucket);
  return bucket;
}
