/** The jittered exponential back-off (src/retry/backoff.ts) and the explicit cluster role of Kafka errors. */
import { ApplicationFailure } from '@temporalio/common';
import { backoffDelay, retry, sleep } from '../src/retry/backoff';
import { clusterRoleOf, failureOnTaggedCluster, onCluster, tagClusterRole } from '../src/kafka/clusterRole';
import type { ClusterConnection } from '../src/config/spec';

describe('backoffDelay', () => {
  const policy = { initialMs: 100, maxMs: 1000 };

  test('without jitter: doubles from initialMs and stops at maxMs', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map((n) => backoffDelay({ ...policy, jitter: 0 }, n))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(backoffDelay({ initialMs: 100, maxMs: 10_000, factor: 3, jitter: 0 }, 3)).toBe(900);
  });

  test('jitter draws each delay in [(1 - jitter) × step, step]', () => {
    // random() in [0, 1): 0 gives the full step, ~1 the floor.
    expect(backoffDelay(policy, 3, () => 0)).toBe(400);
    expect(backoffDelay(policy, 3, () => 0.999999)).toBe(200);
    expect(backoffDelay({ ...policy, jitter: 1 }, 3, () => 0.999999)).toBe(0);
    for (let failure = 1; failure <= 8; failure++) {
      const step = Math.min(1000, 100 * 2 ** (failure - 1));
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(policy, failure);
        expect(d).toBeGreaterThanOrEqual(step / 2);
        expect(d).toBeLessThanOrEqual(step);
      }
    }
  });

  test('the jitter spreads delays (not one fixed value)', () => {
    const seen = new Set(Array.from({ length: 50 }, () => backoffDelay(policy, 4)));
    expect(seen.size).toBeGreaterThan(10);
  });
});

describe('retry', () => {
  const fast = { initialMs: 1, maxMs: 4 };

  test('returns the first success, passing the attempt number', async () => {
    const attempts: number[] = [];
    const v = await retry(
      async (attempt) => {
        attempts.push(attempt);
        if (attempt < 3) throw new Error(`fail ${attempt}`);
        return 'ok';
      },
      { ...fast, maxAttempts: 5 },
    );
    expect(v).toBe('ok');
    expect(attempts).toEqual([1, 2, 3]);
  });

  test('gives up after maxAttempts with the last error', async () => {
    let n = 0;
    await expect(
      retry(
        async () => {
          n++;
          throw new Error(`fail ${n}`);
        },
        { ...fast, maxAttempts: 4 },
      ),
    ).rejects.toThrow('fail 4');
    expect(n).toBe(4);
  });

  test('does not retry an error retryIf refuses', async () => {
    let n = 0;
    const fatal = Object.assign(new Error('fatal'), { retriable: false });
    await expect(
      retry(
        async () => {
          n++;
          throw n === 1 ? Object.assign(new Error('transient'), { retriable: true }) : fatal;
        },
        { ...fast, maxAttempts: 10, retryIf: (e) => (e as { retriable?: boolean }).retriable === true },
      ),
    ).rejects.toBe(fatal);
    expect(n).toBe(2);
  });

  test('gives up when the next wait would pass maxElapsedMs', async () => {
    const started = Date.now();
    let n = 0;
    await expect(
      retry(
        async () => {
          n++;
          throw new Error('down');
        },
        { initialMs: 30, maxMs: 30, jitter: 0, maxElapsedMs: 50 },
      ),
    ).rejects.toThrow('down');
    expect(n).toBe(2); // the wait after the first attempt fits, the one after the second (at >= 30 ms) would end past 50 ms
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('calls onRetry before each wait with the delay, and survives its failure', async () => {
    const calls: [number, number][] = [];
    let n = 0;
    await retry(
      async () => {
        if (++n < 3) throw new Error('again');
      },
      {
        initialMs: 2,
        maxMs: 8,
        jitter: 0,
        maxAttempts: 5,
        onRetry: (_e, attempt, delay) => {
          calls.push([attempt, delay]);
          throw new Error('refresh failed');
        },
      },
    );
    expect(calls).toEqual([
      [1, 2],
      [2, 4],
    ]);
  });

  test('an abort ends the wait at once with the reason and starts no new attempt', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled by the operator');
    let n = 0;
    const started = Date.now();
    const withSignal = retry(
      async () => {
        n++;
        throw new Error('down');
      },
      { initialMs: 10_000, maxMs: 10_000, signal: controller.signal },
    );
    setTimeout(() => controller.abort(reason), 20);
    await expect(withSignal).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(n).toBe(1); // no attempt after the abort
  });

  test('an already aborted signal runs no attempt', async () => {
    const controller = new AbortController();
    controller.abort();
    let n = 0;
    await expect(retry(async () => void n++, { ...fast, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(n).toBe(0);
  });
});

describe('sleep', () => {
  test('resolves after the time; rejects at once on abort', async () => {
    const t0 = Date.now();
    await sleep(30);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    const c = new AbortController();
    const t1 = Date.now();
    const p = sleep(10_000, c.signal);
    c.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(Date.now() - t1).toBeLessThan(1000);
  });
});

describe('cluster role of Kafka errors', () => {
  const spec = {
    source: {
      bootstrapServers: ['src-1:9092'],
      securityProtocol: 'PLAINTEXT',
      clientId: 'km',
      connectionTimeoutMs: 1000,
      requestTimeoutMs: 1000,
    } as ClusterConnection,
    target: {
      bootstrapServers: ['tgt-1:9092'],
      securityProtocol: 'PLAINTEXT',
      clientId: 'km',
      connectionTimeoutMs: 1000,
      requestTimeoutMs: 1000,
    } as unknown as ClusterConnection,
  } as Parameters<typeof failureOnTaggedCluster>[1];

  test('onCluster tags an error once: the innermost role wins', async () => {
    const e = new Error('boom');
    await expect(onCluster('source', () => onCluster('target', () => Promise.reject(e)))).rejects.toBe(e);
    expect(clusterRoleOf(e)).toBe('target');
    expect(clusterRoleOf(tagClusterRole(new Error('x'), 'source'))).toBe('source');
    expect(clusterRoleOf(new Error('x'))).toBeUndefined();
  });

  test('the failure names the tagged cluster', () => {
    const f = failureOnTaggedCluster(tagClusterRole(new Error('connect ECONNREFUSED'), 'target'), spec, 'copyRound') as ApplicationFailure;
    expect(f).toBeInstanceOf(ApplicationFailure);
    expect(f.type).toBe('KafkaUnavailable');
    expect(f.nonRetryable).toBe(false);
    expect(f.message).toContain('target cluster tgt-1:9092');
  });

  test('an untagged error names no cluster, even when its message mentions one', () => {
    const f = failureOnTaggedCluster(new Error('produce to the target failed: connect ECONNREFUSED tgt-1:9092'), spec, 'copyRound') as ApplicationFailure;
    expect(f.type).toBe('KafkaUnavailable');
    expect(f.message).toBe('copyRound: produce to the target failed: connect ECONNREFUSED tgt-1:9092');
    expect(f.message).not.toMatch(/(source|target) cluster/);
  });

  test('an authentication fault stays non-retryable with or without a role', () => {
    const auth = () => Object.assign(new Error('SASL PLAIN authentication failed'), { name: 'KafkaJSSASLAuthenticationError' });
    const tagged = failureOnTaggedCluster(tagClusterRole(auth(), 'source'), spec, 'copyRound') as ApplicationFailure;
    expect(tagged).toMatchObject({ type: 'KafkaAuthenticationFailed', nonRetryable: true });
    expect(tagged.message).toContain('source cluster src-1:9092');
    expect(failureOnTaggedCluster(auth(), spec, 'copyRound')).toMatchObject({ type: 'KafkaAuthenticationFailed', nonRetryable: true });
  });
});
