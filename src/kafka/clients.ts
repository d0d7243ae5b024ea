/**
 * Builds kafkajs clients from spec connections. The SASL password and the TLS material are resolved here, on the worker, and
 * handed only to kafkajs; kafkajs' own log lines go through a logger that never prints credentials.
 */
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { resolveSecret } from '../config/secrets';
import type { ClusterConnection } from '../config/spec';
import { registerKafkajsCodecs } from '../copy/kafkajsCodecs';
import { installBrokerVersionFallback } from '../copy/kafkaInternals';
import { onCluster } from './clusterRole';
import { kafkaTlsOptions } from './tlsOptions';

// Verification, inventory sampling and preflight read through kafkajs consumers: every client this module
// builds can read snappy, lz4 and zstd batches too.
registerKafkajsCodecs();
// Kafka 0.9 brokers answer no ApiVersions: every client picks versions from 0.9.0's table instead (kafkaInternals.ts).
installBrokerVersionFallback();

export type ClusterRole = 'source' | 'target';

export interface ClientOptions {
  /** Distinguishes the client in broker logs and quotas. */
  clientIdSuffix?: string;
  /** kafkajs retries; 0 for probes that must fail fast. */
  retries?: number;
  /** No kafkajs log lines: for requests whose failures the caller handles and reports itself. */
  quiet?: boolean;
}

const KAFKAJS_LOG_LEVEL = (() => {
  switch ((process.env.KM_KAFKAJS_LOG ?? 'error').toLowerCase()) {
    case 'nothing':
      return logLevel.NOTHING;
    case 'warn':
      return logLevel.WARN;
    case 'info':
      return logLevel.INFO;
    case 'debug':
      return logLevel.DEBUG;
    default:
      return logLevel.ERROR;
  }
})();

/** kafkajs log lines, without any field that could carry a credential. */
function redactingLogCreator() {
  return ({ namespace, level, label, log }: LogEntry) => {
    const { message, broker, error } = log as { message?: string; broker?: string; error?: string };
    const line = `[kafkajs ${label}] ${namespace}: ${message ?? ''}${broker ? ` broker=${broker}` : ''}${error ? ` error=${error}` : ''}`;
    if (level <= logLevel.ERROR) console.error(line);
    else console.log(line);
  };
}

export function saslOptions(conn: ClusterConnection, role: ClusterRole): SASLOptions | undefined {
  if (!conn.sasl) return undefined;
  const password = resolveSecret(conn.sasl.password, `${role}.sasl.password`);
  const mechanism = conn.sasl.mechanism.toLowerCase() as 'plain' | 'scram-sha-256' | 'scram-sha-512';
  return { mechanism, username: conn.sasl.username, password } as SASLOptions;
}

export function kafkaConfig(conn: ClusterConnection, role: ClusterRole, options: ClientOptions = {}): KafkaConfig {
  return {
    clientId: options.clientIdSuffix ? `${conn.clientId}-${options.clientIdSuffix}` : conn.clientId,
    brokers: conn.bootstrapServers,
    ssl: kafkaTlsOptions(conn, role),
    sasl: saslOptions(conn, role),
    connectionTimeout: conn.connectionTimeoutMs,
    requestTimeout: conn.requestTimeoutMs,
    logLevel: options.quiet ? logLevel.NOTHING : KAFKAJS_LOG_LEVEL,
    logCreator: redactingLogCreator,
    retry: { retries: options.retries ?? 5, initialRetryTime: 200, maxRetryTime: 5000 },
  };
}

export function createKafka(conn: ClusterConnection, role: ClusterRole, options: ClientOptions = {}): Kafka {
  return new Kafka(kafkaConfig(conn, role, options));
}

/** Runs fn with a connected admin client and always disconnects it; its errors are tagged with the role (clusterRole). */
export async function withAdmin<T>(
  conn: ClusterConnection,
  role: ClusterRole,
  fn: (admin: ReturnType<Kafka['admin']>) => Promise<T>,
  options: ClientOptions = {},
): Promise<T> {
  const admin = createKafka(conn, role, options).admin();
  await onCluster(role, () => admin.connect());
  try {
    return await onCluster(role, () => fn(admin));
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
