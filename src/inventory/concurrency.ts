/** Bounded concurrency and retry helpers: the inventory talks to many topics and groups without flooding the brokers. */
import { retry } from '../retry/backoff';

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Maps items with at most `limit` calls in flight; results keep the input order. Fails on the first error. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A topic that does not exist (any more): deleted while the inventory ran. */
export function isUnknownTopic(e: unknown): boolean {
  // kafkajs wraps the broker's error when its own retries give up
  for (let cur = e as { type?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; cur && depth < 5; depth++) {
    if (cur.type === 'UNKNOWN_TOPIC_OR_PARTITION') return true;
    cur = (cur.cause ?? cur.originalError) as typeof cur;
  }
  return false;
}

/**
 * Retries an operation that failed with a retriable Kafka error (leader moving, metadata not yet
 * propagated after a topic creation): some kafkajs admin calls give up on these at once. A missing topic
 * is not retried: callers handle it (the topic was deleted).
 */
export async function retryRetriable<T>(fn: () => Promise<T>, attempts = 6, delayMs = 250): Promise<T> {
  return retry(fn, {
    initialMs: delayMs,
    maxMs: delayMs * 8,
    maxAttempts: attempts,
    retryIf: (e) => (e as { retriable?: boolean }).retriable === true && !isUnknownTopic(e),
  });
}
