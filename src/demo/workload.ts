/**
 * The demo's own applications: producers that keep writing and consumers that keep reading, first on the
 * source (as the `app` user over SASL), then, after cutover, on the target. Every record carries a per-partition
 * sequence number so that a consumer can prove it resumed on the target at exactly the next record.
 */
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';

export interface ClusterAccess {
  brokers: string[];
  sasl?: { username: string; password: string };
}

export function demoKafka(access: ClusterAccess, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: access.brokers,
    sasl: access.sasl ? { mechanism: 'plain', username: access.sasl.username, password: access.sasl.password } : undefined,
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 200 },
  });
}

/**
 * Writes records round-robin over the partitions of some topics, each with a per-partition sequence number in
 * the `demo-seq` header, at a steady rate until stopped. The same object moves from source to target, so the
 * sequence continues across the cutover.
 */
export class DemoProducer {
  private producer: Producer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly seqs = new Map<string, number>();
  private turn = 0;
  sent = 0;
  failures = 0;

  constructor(
    readonly name: string,
    private readonly topics: { name: string; partitions: number }[],
    private readonly recordsPerTick = 20,
  ) {}

  async connect(access: ClusterAccess): Promise<void> {
    this.producer = demoKafka(access, `demo-producer-${this.name}`).producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
  }

  /** Starts writing recordsPerTick records per topic every 100 ms (connecting first if needed). */
  async start(access: ClusterAccess): Promise<void> {
    if (!this.producer) await this.connect(access);
    let busy = false;
    this.timer = setInterval(() => {
      if (busy) return;
      busy = true;
      this.write(this.recordsPerTick)
        .catch(() => void this.failures++)
        .finally(() => (busy = false));
    }, 100);
  }

  /** Writes `perTopic` records to every topic (used for seeding and by the timer). */
  async write(perTopic: number): Promise<void> {
    const topicMessages = this.topics.map((topic) => ({
      topic: topic.name,
      messages: Array.from({ length: perTopic }, () => {
        const partition = this.turn++ % topic.partitions;
        const key = `${topic.name}:${partition}`;
        const n = this.seqs.get(key) ?? 0;
        this.seqs.set(key, n + 1);
        return {
          partition,
          key: n % 5 === 0 ? null : `${this.name}-${n % 97}`,
          value: JSON.stringify({ producer: this.name, n, at: Date.now() }),
          headers: { 'demo-seq': String(n), 'trace-id': Buffer.from([n & 0xff, 0xfe, 0x00, 0x9c]) },
        };
      }),
    }));
    await this.producer!.sendBatch({ topicMessages, acks: -1 });
    this.sent += topicMessages.reduce((s, t) => s + t.messages.length, 0);
  }

  /** Stops writing; resolves once the last in-flight batch is acknowledged. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await new Promise((r) => setTimeout(r, 300));
    await this.producer?.disconnect();
    this.producer = undefined;
  }
}

/** A consumer group member that records, per partition, the first and last offsets it processed. */
export class DemoConsumer {
  private consumer: Consumer | undefined;
  readonly first = new Map<string, { offset: string; seq: string | undefined }>();
  readonly last = new Map<string, { offset: string; seq: string | undefined }>();
  received = 0;

  constructor(
    readonly group: string,
    private readonly topics: string[],
  ) {}

  async start(access: ClusterAccess, fromBeginning = true): Promise<void> {
    this.first.clear();
    this.consumer = demoKafka(access, `demo-consumer-${this.group}`).consumer({ groupId: this.group, sessionTimeout: 10000, heartbeatInterval: 1000 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning });
    await this.consumer.run({
      autoCommitInterval: 500,
      eachMessage: async ({ topic, partition, message }) => {
        const key = `${topic}:${partition}`;
        const seen = { offset: message.offset, seq: message.headers?.['demo-seq']?.toString() };
        if (!this.first.has(key)) this.first.set(key, seen);
        this.last.set(key, seen);
        this.received++;
      },
    });
  }

  /** Stops and leaves the group; kafkajs commits what it processed on the way out. */
  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }
}
