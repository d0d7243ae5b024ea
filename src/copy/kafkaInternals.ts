/**
 * The few kafkajs internals the copy engine builds on. kafkajs has no manual partition assignment and its
 * record (de)serialisation loses header order, so the engine speaks Fetch and Produce itself over kafkajs'
 * cluster (bootstrap, SASL, metadata, leader lookup, connection pools, retries of the connection layer).
 * Everything reached through here is checked once, so a kafkajs upgrade that moves it fails loudly.
 */
import type { Kafka } from 'kafkajs';

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

export { apiKeys, fetchRequests };
