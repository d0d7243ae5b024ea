/**
 * The data of the crash and chaos suites: a few topics on the source (one with its log start moved above 0, so
 * that offsets differ on the target), a producer that keeps writing during the copy, a live consumer group and
 * a lagging group with committed offsets in the middle of the partitions. Set up through the super-user
 * listener; the migration itself reads the source as `migrator`.
 */
import { Kafka, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';
import { createTopicsReady } from '../../src/kafka/topicsReady';
import { SOURCE_ADMIN_BOOTSTRAP, TARGET_BOOTSTRAP, sourceAdminKafka, targetKafka } from './stack';

export interface CrashWorldOptions {
  prefix: string;
  topics: number;
  partitions: number;
  recordsPerPartition: number;
  valueBytes: number;
  /** Records deleted from the head of the first topic's partitions (deleteRecords) before the migration. */
  trimmedRecords: number;
}

export interface CrashWorld extends CrashWorldOptions {
  topicNames: string[];
  liveGroup: string;
  laggingGroup: string;
  /** Topics a scenario created on the source later (deleted with the world). */
  createdTopics: string[];
}

export const pkey = (topic: string, partition: number) => `${topic}:${partition}`;

export function defineCrashWorld(options: CrashWorldOptions): CrashWorld {
  return {
    ...options,
    topicNames: Array.from({ length: options.topics }, (_, i) => `${options.prefix}t${i}`),
    liveGroup: `${options.prefix}live`,
    laggingGroup: `${options.prefix}lagging`,
    createdTopics: [],
  };
}

/** A deterministic pseudo-random generator (mulberry32), so that a failing run can be replayed by its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sourceKafka(clientId: string): Kafka {
  // Generous retries: the chaos suite restarts the source broker under this producer.
  return new Kafka({
    clientId,
    brokers: [SOURCE_ADMIN_BOOTSTRAP],
    logLevel: logLevel.NOTHING,
    retry: { retries: 30, initialRetryTime: 300, maxRetryTime: 5000 },
  });
}

/**
 * Writes records with a per-partition sequence (in the key, a header and the value) to every partition of the
 * world's topics. Idempotent, so that a broker restart under it does not duplicate records on the source.
 */
export class SequencedProducer {
  private producer?: Producer;
  private readonly next = new Map<string, number>();
  /** The topics written to and their partition counts (a scenario may add, drop or grow topics). */
  private readonly topics = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  sent = 0;
  failures = 0;

  constructor(private readonly world: CrashWorld) {
    for (const t of world.topicNames) this.topics.set(t, world.partitions);
  }

  async connect(): Promise<void> {
    this.producer = sourceKafka(`crash-producer-${this.world.prefix}`).producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await this.producer.connect();
  }

  /** Writes `perPartition` records to every partition, in sends of at most `chunk` records. */
  async write(perPartition: number, chunk = 2000): Promise<void> {
    for (let done = 0; done < perPartition; done += chunk) {
      const n = Math.min(chunk, perPartition - done);
      const topicMessages = [...this.topics].map(([topic, partitions]) => ({
        topic,
        messages: Array.from({ length: partitions }, (_, partition) => Array.from({ length: n }, () => this.record(topic, partition))).flat(),
      }));
      await this.producer!.sendBatch({ topicMessages, acks: -1 });
      this.sent += topicMessages.reduce((sum, t) => sum + t.messages.length, 0);
    }
  }

  /** Keeps writing `perPartition` records to every partition every `intervalMs` until stopped. */
  startSteady(perPartition: number, intervalMs: number): void {
    this.timer = setInterval(() => {
      this.writing = this.writing.then(() => this.write(perPartition).catch(() => void this.failures++));
    }, intervalMs);
  }

  /** Runs `change` between two writes (none in flight). */
  private between(change: () => Promise<void> | void): Promise<void> {
    const done = this.writing.then(change);
    this.writing = done.catch(() => undefined);
    return done;
  }

  /**
   * A change of the topics written to, between two writes, on a NEW kafkajs producer: the old one keeps every
   * topic it wrote to in its metadata requests (one deleted on the source stalls its sends for good) and drops
   * records for partitions its metadata does not know yet.
   */
  private change(apply: () => void): Promise<void> {
    return this.between(async () => {
      await this.producer?.disconnect().catch(() => undefined);
      apply();
      await this.connect();
    });
  }

  /** Stops writing to `topic` (e.g. before it is deleted); resolves once no write to it is in flight. */
  dropTopic(topic: string): Promise<void> {
    return this.change(() => void this.topics.delete(topic));
  }

  /** Writes to `topic` (just created) from the next write on. */
  addTopic(topic: string, partitions: number): Promise<void> {
    return this.change(() => void this.topics.set(topic, partitions));
  }

  /** Writes to `partitions` partitions of `topic` from the next write on (partitions were just added). */
  setPartitions(topic: string, partitions: number): Promise<void> {
    return this.change(() => void this.topics.set(topic, partitions));
  }

  /** Stops the steady writes after the one in progress (a producer shutting down flushes what it holds). */
  async stop(timeoutMs = 180000): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`the producer's writes did not end within ${timeoutMs / 1000}s (a send hangs)`)), timeoutMs)),
    );
    await Promise.race([this.writing, hung]).finally(() => clearTimeout(timer));
  }

  async disconnect(): Promise<void> {
    await this.stop().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
  }

  private record(topic: string, partition: number) {
    const k = pkey(topic, partition);
    const seq = this.next.get(k) ?? 0;
    this.next.set(k, seq + 1);
    const head = `${topic}|${partition}|${seq}|`;
    return {
      partition,
      key: `${partition}-${seq}`,
      value: head + 'x'.repeat(Math.max(0, this.world.valueBytes - head.length)),
      headers: { seq: String(seq), bin: Buffer.from([seq & 0xff, 0, 0xff]) },
    };
  }
}

/** Creates the topics, writes the initial records, trims the first topic and commits the lagging group. */
export async function seedCrashWorld(world: CrashWorld, producer: SequencedProducer): Promise<void> {
  const admin = sourceAdminKafka().admin();
  await admin.connect();
  try {
    await createTopicsReady(
      admin,
      world.topicNames.map((topic) => ({ topic, numPartitions: world.partitions, replicationFactor: 1 })),
      60000,
    );
    await producer.connect();
    await producer.write(world.recordsPerPartition);
    const first = world.topicNames[0];
    await admin.fetchTopicMetadata({ topics: [first] }); // kafkajs' deleteTopicRecords needs the metadata loaded
    await admin.deleteTopicRecords({
      topic: first,
      partitions: Array.from({ length: world.partitions }, (_, partition) => ({ partition, offset: String(world.trimmedRecords) })),
    });
    // The lagging group stopped long ago somewhere in the middle of each partition (Empty: no members).
    for (const topic of world.topicNames) {
      const offsets = await admin.fetchTopicOffsets(topic);
      await admin.setOffsets({
        groupId: world.laggingGroup,
        topic,
        partitions: offsets.map((o) => ({ partition: o.partition, offset: String(Math.floor((Number(o.low) + Number(o.high)) / 2) + o.partition * 7) })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}

/** A consumer group that reads the world's topics on the source and commits as it goes, until stopped. */
export async function startLiveConsumer(world: CrashWorld, topics = world.topicNames): Promise<Consumer> {
  const consumer = sourceKafka(`crash-consumer-${world.prefix}`).consumer({ groupId: world.liveGroup, sessionTimeout: 30000, heartbeatInterval: 3000 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    autoCommitInterval: 1000,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      for (const m of batch.messages) resolveOffset(m.offset);
      await heartbeat();
    },
  });
  return consumer;
}

/** Records on the target of the world's topics (or `topics`) over the records on the source when the copy began (0..1+). */
export async function copiedFraction(world: CrashWorld, sourceTotal: number, admin: Admin, topics = world.topicNames): Promise<number> {
  let copied = 0;
  for (const topic of topics) {
    for (const o of await admin.fetchTopicOffsets(topic)) copied += Number(o.high) - Number(o.low);
  }
  return copied / sourceTotal;
}

export async function sourceRecordCount(world: CrashWorld, topics = world.topicNames): Promise<number> {
  const admin = sourceAdminKafka().admin();
  await admin.connect();
  try {
    let n = 0;
    for (const topic of topics) for (const o of await admin.fetchTopicOffsets(topic)) n += Number(o.high) - Number(o.low);
    return n;
  } finally {
    await admin.disconnect();
  }
}

/** Deletes what the world created on both clusters (topics; groups where they exist). */
export async function deleteCrashWorld(world: CrashWorld): Promise<void> {
  for (const [cluster, kafka] of [
    ['source', sourceAdminKafka()],
    ['target', targetKafka()],
  ] as const) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const existing = new Set(await admin.listTopics());
      const mine = [...world.topicNames, ...world.createdTopics].filter((t) => existing.has(t));
      if (mine.length) await admin.deleteTopics({ topics: mine, timeout: 60000 });
      await admin.deleteGroups([world.liveGroup, world.laggingGroup]).catch(() => undefined);
    } catch (e) {
      console.warn(`cleaning up ${world.prefix}* on the ${cluster} failed: ${String(e)}`);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

export const targetAdmin = (): Admin =>
  new Kafka({ clientId: 'km-crash-progress', brokers: [TARGET_BOOTSTRAP], logLevel: logLevel.NOTHING, retry: { retries: 2 } }).admin();
