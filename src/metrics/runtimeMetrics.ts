/**
 * The worker's Prometheus endpoint: Temporal's runtime (Core) serves it, with the SDK's own metrics (task
 * latencies, slots, polls, ...) and kafka-migrate's (src/metrics/copyMetrics.ts from activities,
 * src/workflows/batchMetrics.ts from workflows), all on one address, at `/metrics`. Set by
 * `--metrics-address` or KM_METRICS_ADDRESS (`host:port`, e.g. `0.0.0.0:9464`); unset: no endpoint.
 */
import { Runtime, type RuntimeOptions } from '@temporalio/worker';

export const METRICS_ADDRESS_ENV = 'KM_METRICS_ADDRESS';

/** `host:port` from the flag or KM_METRICS_ADDRESS, checked; undefined when neither is set. */
export function metricsAddress(flag?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const raw = (flag ?? env[METRICS_ADDRESS_ENV] ?? '').trim();
  if (!raw) return undefined;
  const source = flag !== undefined ? '--metrics-address' : METRICS_ADDRESS_ENV;
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(raw);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new Error(`${source}: "${raw}" is not an address to serve Prometheus metrics on: expected host:port, e.g. 0.0.0.0:9464 or 127.0.0.1:9464`);
  }
  return raw;
}

/** Runtime options that export metrics to Prometheus at `address` (counters get the usual `_total` suffix). */
export function prometheusRuntimeOptions(address: string): Pick<RuntimeOptions, 'telemetryOptions'> {
  return { telemetryOptions: { metrics: { prometheus: { bindAddress: address, countersTotalSuffix: true } } } };
}

/**
 * Installs the Temporal runtime of this process, with the Prometheus endpoint when an address is given. Must run
 * before the first connection (the runtime is created once per process).
 */
export function installRuntime(address: string | undefined): void {
  // Without an address the runtime keeps its defaults (it would be created with them on the first connection).
  if (address) Runtime.install(prometheusRuntimeOptions(address));
}
