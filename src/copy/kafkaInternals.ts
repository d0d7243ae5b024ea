/**
 * The few kafkajs internals the copy engine builds on. kafkajs has no manual partition assignment and its
 * record (de)serialisation loses header order, so the engine speaks Fetch and Produce itself over kafkajs'
 * cluster (bootstrap, SASL, metadata, leader lookup, connection pools, retries of the connection layer).
 * Everything reached through here is checked once, so a kafkajs upgrade that moves it fails loudly.
 */
import type { Kafka } from 'kafkajs';
import { KAFKA_0_9_APIS } from '../kafka/kafkaVersion';

/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs internals have no typed exports */
const apiKeys: { Fetch: number; Produce: number; OffsetFetch: number } = require('kafkajs/src/protocol/requests/apiKeys');
const fetchRequests: unknown = require('kafkajs/src/protocol/requests/fetch');
const { createErrorFromCode: kafkajsError } = require('kafkajs/src/protocol/error') as {
  createErrorFromCode(code: number): Error & { type: string; retriable: boolean; code: number };
};

export interface ProtocolRequest {
  request: { apiKey: number; apiVersion: number; apiName: string; encode(): Promise<unknown>; expectResponse?: () => boolean };
  response: { decode(payload: Buffer): Promise<unknown>; parse(data: unknown): Promise<unknown> };
  requestTimeout?: number;
}

export interface InternalBroker {
  nodeId: number;
  versions: Record<number, { minVersion: number; maxVersion: number }>;
  lookupRequest(apiKey: number, definition: unknown): (args: Record<string, unknown>) => ProtocolRequest;
  connectionPool: { send(request: ProtocolRequest): Promise<unknown> };
  initProducerId(args: { transactionalId?: string; transactionTimeout: number }): Promise<{ producerId: string; producerEpoch: number }>;
}

export interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  isConnected(): boolean;
  refreshMetadata(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number | null }[];
  findBroker(args: { nodeId: number }): Promise<InternalBroker>;
  findControllerBroker(): Promise<InternalBroker>;
  /** ListOffsets of many topics, one request per leader broker (the cluster's isolation level: read_committed). */
  fetchTopicsOffset(
    topics: { topic: string; partitions: { partition: number }[]; fromBeginning?: boolean }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
  findGroupCoordinator(args: { groupId: string }): Promise<GroupCoordinatorBroker>;
}

/** kafkajs' broker as a group coordinator: OffsetFetch (v1-v4; kafkajs throws on a partition's error code) and OffsetCommit. */
export interface GroupCoordinatorBroker {
  versions?: Record<number, { minVersion: number; maxVersion: number }>;
  offsetFetch(args: {
    groupId: string;
    topics: { topic: string; partitions: { partition: number }[] }[];
  }): Promise<{ responses: { topic: string; partitions: { partition: number; offset: string }[] }[] }>;
  offsetCommit(args: {
    groupId: string;
    groupGenerationId: number;
    memberId: string;
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
  }): Promise<unknown>;
}

export class KafkaErrorCode extends Error {
  constructor(
    readonly code: number,
    readonly type: string,
    readonly retriable: boolean,
    message: string,
  ) {
    super(message);
    this.name = 'KafkaProtocolError';
  }
}

/** A Kafka error code as an error carrying kafkajs' type name (e.g. NOT_LEADER_OR_FOLLOWER) and retriability. */
export function errorFromCode(code: number, context: string): KafkaErrorCode {
  const e = kafkajsError(code);
  return new KafkaErrorCode(code, e.type, e.retriable, `${context}: ${e.type} (${e.message})`);
}

/** A kafkajs cluster (not a producer/consumer) from a configured Kafka instance. */
export function createInternalCluster(kafka: Kafka): InternalCluster {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const create = symbol ? (kafka as unknown as Record<symbol, unknown>)[symbol] : undefined;
  if (typeof create !== 'function') {
    throw new Error('unsupported kafkajs version: the copy engine needs kafkajs 2.2.x (private:Kafka:createCluster not found)');
  }
  const cluster = (create as (args: object) => InternalCluster)({ allowAutoTopicCreation: false, maxInFlightRequests: null });
  for (const m of ['connect', 'refreshMetadata', 'addMultipleTargetTopics', 'findTopicPartitionMetadata', 'findBroker'] as const) {
    if (typeof cluster[m] !== 'function') throw new Error(`unsupported kafkajs version: cluster.${m} missing`);
  }
  return cluster;
}

/** The highest version of an API both kafkajs' connection layer and the broker accept, within [min, max]. */
export function negotiatedVersion(broker: InternalBroker, apiKey: number, min: number, max: number): number {
  const v = broker.versions?.[apiKey];
  if (!v) throw new Error(`broker ${broker.nodeId} did not advertise API ${apiKey}`);
  const version = Math.min(v.maxVersion, max);
  if (version < min || version < v.minVersion) {
    throw new Error(
      `broker ${broker.nodeId} supports API ${apiKey} versions ${v.minVersion}-${v.maxVersion}; the copy engine needs ${min}+ (Kafka 0.11 or newer)`,
    );
  }
  return version;
}

/**
 * Brokers before 0.10 have no ApiVersions, which kafkajs sends first on every connection: 0.9.0.1 never answers it
 * (its request thread fails on the unknown API key, logs ArrayIndexOutOfBounds and leaves the connection waiting),
 * older ones close the connection. Like librdkafka's `broker.version.fallback`, a broker that does not answer
 * ApiVersions but answers Metadata v0 on a fresh connection is taken as 0.9.0 and given that release's version table,
 * so kafkajs picks the versions 0.9 knows. Remembered per broker address for 10 minutes (later connections skip the
 * probe). SASL there would need SaslHandshake (0.10+): 0.9 has only GSSAPI, which kafka-migrate does not support.
 */
type VersionTable = Record<number, { minVersion: number; maxVersion: number }>;

/** Kafka 0.9.0's client APIs in kafkajs' shape (src/kafka/kafkaVersion.ts holds the table). */
export const KAFKA_0_9_0_VERSIONS: Readonly<VersionTable> = Object.freeze(
  Object.fromEntries(Object.entries(KAFKA_0_9_APIS).map(([key, [minVersion, maxVersion]]) => [key, { minVersion, maxVersion }])),
);

const FALLBACK_REMEMBERED_MS = 10 * 60_000;
const fallbackBrokers = new Map<string, number>();

interface KafkajsBroker {
  brokerAddress: string;
  connectionPool: {
    sasl?: { mechanism?: string };
    connectionTimeout: number;
    pool: { socket?: { destroyed: boolean; destroy(): void; once(event: 'close', listener: () => void): void }; rejectRequests(error: Error): void }[];
    destroy(): Promise<void>;
    getConnection(): Promise<unknown>;
    send(request: ProtocolRequest): Promise<unknown>;
  };
  apiVersions(): Promise<VersionTable>;
}

/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs internals have no typed exports */
const BrokerClass: { prototype: KafkajsBroker } = require('kafkajs/src/broker');
const metadataRequests: {
  protocol(args: { version: number }): (args: { topics: string[]; allowAutoTopicCreation: boolean }) => ProtocolRequest;
} = require('kafkajs/src/protocol/requests/metadata');
const { KafkaJSNonRetriableError } = require('kafkajs/src/errors') as { KafkaJSNonRetriableError: new (message: string) => Error };
/* eslint-enable @typescript-eslint/no-require-imports */

/** True when the broker at host:port was found to have no ApiVersions (0.9) in the last 10 minutes. */
export function usesVersionFallback(address: string): boolean {
  const at = fallbackBrokers.get(address);
  return at !== undefined && Date.now() - at < FALLBACK_REMEMBERED_MS;
}

function noAnswer(e: unknown): boolean {
  const name = (e as { name?: string }).name ?? '';
  return name === 'KafkaJSRequestTimeoutError' || name === 'KafkaJSConnectionClosedError';
}

function gssapiOnly(broker: KafkajsBroker): Error {
  return new KafkaJSNonRetriableError(
    `broker ${broker.brokerAddress} answers no ApiVersions request: it is Kafka 0.9 or older, whose only SASL mechanism is GSSAPI (Kerberos), ` +
      `which kafka-migrate does not support; connect to its PLAINTEXT or SSL listener without sasl, or upgrade the brokers to 0.10.0+ (SASL/PLAIN) or 0.10.2+ (SCRAM)`,
  );
}

/** kafkajs' own ApiVersions, or undefined when the broker does not answer within `ms` (or closes the connection). */
async function apiVersionsWithin(broker: KafkajsBroker, original: () => Promise<VersionTable>, ms: number): Promise<VersionTable | undefined> {
  const answer = original.call(broker);
  answer.catch(() => undefined); // after a fallback the stuck request fails when its connection is replaced
  let timer: NodeJS.Timeout | undefined;
  const silent = new Promise<'silent'>((resolve) => (timer = setTimeout(() => resolve('silent'), ms)));
  try {
    const first = await Promise.race([answer, silent]);
    return first === 'silent' ? undefined : first;
  } catch (e) {
    if (!noAnswer(e)) throw e;
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

async function freshConnection(broker: KafkajsBroker): Promise<void> {
  const sockets = broker.connectionPool.pool.map((c) => c.socket).filter((sk) => sk && !sk.destroyed);
  const closed = sockets.map((sk) => new Promise<void>((resolve) => sk!.once('close', resolve)));
  // kafkajs' disconnect waits for in-flight requests: the unanswered ApiVersions would hold it for the request timeout.
  for (const c of broker.connectionPool.pool) c.rejectRequests(new Error(`broker ${broker.brokerAddress} answers no ApiVersions`));
  await broker.connectionPool.destroy();
  for (const sk of sockets) sk!.destroy(); // 0.9 does not close its side of the stuck connection
  await Promise.race([Promise.all(closed), new Promise((resolve) => setTimeout(resolve, broker.connectionPool.connectionTimeout))]);
  await new Promise((resolve) => setTimeout(resolve, 10)); // kafkajs' own end handler runs its disconnect
  await broker.connectionPool.getConnection();
}

let fallbackInstalled = false;

/** Idempotent: makes every kafkajs connection fall back to Kafka 0.9.0's version table when ApiVersions gets no answer. */
export function installBrokerVersionFallback(): void {
  if (fallbackInstalled) return;
  const original = BrokerClass.prototype?.apiVersions;
  const poolShape = require('kafkajs/src/network/connectionPool') as { prototype: Record<string, unknown> }; // eslint-disable-line @typescript-eslint/no-require-imports
  if (
    typeof original !== 'function' ||
    typeof metadataRequests?.protocol !== 'function' ||
    typeof KafkaJSNonRetriableError !== 'function' ||
    typeof poolShape?.prototype?.destroy !== 'function' ||
    typeof poolShape.prototype.getConnection !== 'function' ||
    typeof (require('kafkajs/src/network/connection') as { prototype: Record<string, unknown> }).prototype.rejectRequests !== 'function' // eslint-disable-line @typescript-eslint/no-require-imports
  ) {
    throw new Error(
      'unsupported kafkajs version: Broker.apiVersions, the Metadata request or KafkaJSNonRetriableError not found (version fallback for Kafka 0.9)',
    );
  }
  BrokerClass.prototype.apiVersions = async function (this: KafkajsBroker): Promise<VersionTable> {
    if (usesVersionFallback(this.brokerAddress)) {
      if (this.connectionPool.sasl) throw gssapiOnly(this);
      return { ...KAFKA_0_9_0_VERSIONS };
    }
    // kafkajs waits the request timeout (30 s by default) for ApiVersions; a broker that answers it does so at once.
    const first = await apiVersionsWithin(this, original, this.connectionPool.connectionTimeout);
    if (first) return first;
    // A fresh connection (the old one waits forever for its answer); an unreachable or hung broker fails here too.
    // The old sockets must be closed first: kafkajs' end handler of an old socket would disconnect the new one.
    await freshConnection(this);
    // A modern broker that was only slow (a GC pause, a loaded machine) answers a second ApiVersions: taking it for 0.9
    // would fetch without isolation (aborted transactions copied) for the next 10 minutes.
    const second = await apiVersionsWithin(this, original, 2 * this.connectionPool.connectionTimeout);
    if (second) return second;
    await freshConnection(this);
    const metadata = metadataRequests.protocol({ version: 0 })({ topics: [], allowAutoTopicCreation: false });
    await this.connectionPool.send({ ...metadata, requestTimeout: this.connectionPool.connectionTimeout }); // fails for a hung broker
    fallbackBrokers.set(this.brokerAddress, Date.now());
    if (this.connectionPool.sasl) throw gssapiOnly(this);
    return { ...KAFKA_0_9_0_VERSIONS };
  };
  fallbackInstalled = true;
}

export { apiKeys, fetchRequests };
