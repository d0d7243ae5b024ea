/**
 * An idempotent producer for the copy: one producer id per copy run, one batch per partition per request.
 * Sequence numbers make the broker keep per-partition order across pipelined requests and de-duplicate a
 * resent batch (after a timeout or a leader change); if a resend cannot be ordered (a later batch arrives
 * first) the broker refuses it and the write fails, and the next run reconciles the target tail. Offsets the broker assigned are returned so
 * that the engine can check them against its own expectation.
 */
import { encodeRecordBatch, type ProducerIdentity } from './recordBatchCodec';
import { sendProduce, type ProducePartitionData } from './produceProtocol';
import { errorFromCode, type InternalCluster } from './kafkaInternals';
import type { KafkaRecord } from './kafkaRecord';
import { NonRetryableCopyError } from './copyErrors';
import { partitionKey } from '../types/copy';
import { onCluster } from '../kafka/clusterRole';
import { retry, type BackoffPolicy } from '../retry/backoff';

const MAX_ATTEMPTS = 10;
/** Between produce passes (leader moves, metadata refresh): 200 ms doubling to 3 s. */
const PRODUCE_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 3000 };
/** InitProducerId while the coordinator loads: 100 ms doubling to 2 s, for up to 60 s. */
const INIT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 2000 };
const INT32_MAX = 2147483647;
const MESSAGE_TOO_LARGE = 10;
const RECORD_LIST_TOO_LARGE = 18;
const INVALID_RECORD = 87;
const CORRUPT_MESSAGE = 2;

export interface WriteBatch {
  topic: string;
  partition: number;
  records: KafkaRecord[];
}

export interface WriteResult {
  topic: string;
  partition: number;
  baseOffset: number;
  count: number;
}

function nextSequence(sequence: number, increment: number): number {
  return sequence > INT32_MAX - increment ? increment - (INT32_MAX - sequence) - 1 : sequence + increment;
}

/** A produce pass left partitions unwritten (no leader, a retriable error): another pass may write them. */
class ProduceIncomplete extends Error {
  constructor(
    readonly stale: boolean,
    readonly lastError: unknown,
    readonly pendingKeys: string[],
  ) {
    super((lastError as Error)?.message ?? `no leader for ${pendingKeys.join(', ')}`);
  }
}

/** Writes to the target cluster: every error it raises is tagged with the target's role (clusterRole). */
export class IdempotentWriter {
  private producer: ProducerIdentity | undefined;
  private readonly sequences = new Map<string, number>();

  constructor(
    private readonly kafka: InternalCluster,
    private readonly timeoutMs: number,
  ) {}

  async init(topics: string[]): Promise<void> {
    await onCluster('target', () => this.initProducer(topics));
  }

  private async initProducer(topics: string[]): Promise<void> {
    await this.kafka.addMultipleTargetTopics(topics);
    const broker = await this.kafka.findControllerBroker().catch(async () => {
      const meta = this.kafka.findTopicPartitionMetadata(topics[0]);
      return this.kafka.findBroker({ nodeId: meta[0].leader! });
    });
    const { producerId, producerEpoch } = await initProducerIdWithRetry(() => broker.initProducerId({ transactionTimeout: 60000 }));
    this.producer = { producerId: Number(producerId), producerEpoch };
  }

  async addTopics(topics: string[]): Promise<void> {
    await onCluster('target', () => this.kafka.addMultipleTargetTopics(topics));
  }

  /** Writes each batch (records in order) to its partition; resolves once all are acknowledged by all replicas. */
  async write(batches: WriteBatch[]): Promise<WriteResult[]> {
    return onCluster('target', () => this.produce(batches));
  }

  private async produce(batches: WriteBatch[]): Promise<WriteResult[]> {
    const producer = this.producer;
    if (!producer) throw new Error('IdempotentWriter.init() was not called');
    const pending = batches
      .filter((b) => b.records.length > 0)
      .map((b) => {
        const key = partitionKey(b.topic, b.partition);
        // Sequences are reserved when a batch is encoded, so that several writes may be in flight: the broker
        // appends an idempotent producer's batches in sequence order (up to 5 in flight per partition).
        const sequence = this.sequences.get(key) ?? 0;
        this.sequences.set(key, nextSequence(sequence, b.records.length));
        return { ...b, key, sequence, bytes: encodeRecordBatch(b.records, 0, b.records.length, producer, sequence) };
      });
    const results: WriteResult[] = [];
    const pass = async () => {
      const perLeader = new Map<number, typeof pending>();
      let stale = false;
      for (const b of pending) {
        const leader = this.kafka.findTopicPartitionMetadata(b.topic).find((m) => m.partitionId === b.partition)?.leader;
        if (leader === undefined || leader === null || leader < 0) {
          stale = true;
          continue;
        }
        perLeader.set(leader, [...(perLeader.get(leader) ?? []), b]);
      }
      let lastError: unknown;
      const done = new Set<string>();
      await Promise.all(
        [...perLeader].map(async ([nodeId, group]) => {
          try {
            const broker = await this.kafka.findBroker({ nodeId });
            const topics = new Map<string, ProducePartitionData[]>();
            for (const b of group) topics.set(b.topic, [...(topics.get(b.topic) ?? []), { partition: b.partition, batch: b.bytes }]);
            const response = await sendProduce(broker, topics, this.timeoutMs);
            for (const r of response) {
              const b = group.find((g) => g.topic === r.topic && g.partition === r.partition);
              if (!b) continue;
              if (r.errorCode === 0) {
                results.push({ topic: b.topic, partition: b.partition, baseOffset: r.baseOffset, count: b.records.length });
                done.add(b.key);
                continue;
              }
              const where = `produce to target partition ${b.topic}:${b.partition}`;
              if ([MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE, INVALID_RECORD, CORRUPT_MESSAGE].includes(r.errorCode)) {
                const e = errorFromCode(r.errorCode, where);
                throw new NonRetryableCopyError(
                  'RecordRejected',
                  `${e.message}: a batch of ${b.records.length} records (${b.bytes.length} bytes) from source offset ${b.records[0].offset} was refused; raise max.message.bytes on the target topic (and message.max.bytes on the target brokers) to at least the source's`,
                );
              }
              const e = errorFromCode(r.errorCode, where);
              if (!e.retriable) throw e;
              stale = true;
              lastError = e;
            }
          } catch (e) {
            if (e instanceof NonRetryableCopyError || (e as { retriable?: boolean }).retriable === false) throw e;
            stale = true;
            lastError = e;
          }
        }),
      );
      for (let i = pending.length - 1; i >= 0; i--) if (done.has(pending[i].key)) pending.splice(i, 1);
      if (pending.length > 0)
        throw new ProduceIncomplete(
          stale,
          lastError,
          pending.map((p) => p.key),
        );
    };
    if (pending.length === 0) return results;
    try {
      await retry(pass, {
        ...PRODUCE_BACKOFF,
        maxAttempts: MAX_ATTEMPTS,
        retryIf: (e) => e instanceof ProduceIncomplete,
        onRetry: (e) => (e as ProduceIncomplete).stale && this.kafka.refreshMetadata(),
      });
    } catch (e) {
      if (e instanceof ProduceIncomplete) throw new Error(`produce to the target failed after ${MAX_ATTEMPTS} attempts: ${e.message}`);
      throw e;
    }
    return results;
  }
}

/**
 * InitProducerId on a fresh cluster answers COORDINATOR_LOAD_IN_PROGRESS (or NOT_AVAILABLE) while the transaction
 * state topic is being created and loaded: retriable, so retry for up to 60 s before giving up.
 */
async function initProducerIdWithRetry<T>(init: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  return retry(init, {
    ...INIT_BACKOFF,
    maxElapsedMs: timeoutMs,
    retryIf: (e) => {
      const err = e as { retriable?: boolean; type?: string };
      return err.retriable === true || /COORDINATOR|NOT_ENOUGH_REPLICAS/.test(err.type ?? '');
    },
  });
}
