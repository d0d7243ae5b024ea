/** Shared by the rollback-window tests: the migrator's window grants on the source, and the independent sequence audit. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes, type AclEntry } from 'kafkajs';
import { rollbackWindowAcls } from '../../src/rollback/windowAcls';
import { readPartition } from './copyFixtures';
import { SOURCE_SASL_BOOTSTRAP, STACK_DIR } from './stack';

/** What the migrator needs on the source for a rollback window (preflight names the same). */
export function windowAcls(topics: string[]): AclEntry[] {
  return rollbackWindowAcls('User:migrator', topics);
}

const seqOf = (headers: { key: Buffer; value: Buffer | null }[]) => headers.find((h) => h.key.toString() === 'demo-seq')?.value?.toString();

/**
 * Every record of the partition on one cluster, read with the verification decoder: the DemoProducer's per-partition
 * sequence must be 0..n-1, each once, in order (no gap, no duplicate).
 */
export async function sequenceBreaks(cluster: 'source' | 'target', topic: string, partition: number): Promise<{ records: number; breaks: string[] }> {
  const records = await readPartition(cluster, topic, partition);
  const breaks: string[] = [];
  records.forEach((r, i) => {
    const seq = seqOf(r.headers);
    if (Number(seq) !== i) breaks.push(`offset ${r.offset}: seq ${seq}, expected ${i}`);
  });
  return { records: records.length, breaks: breaks.slice(0, 5) };
}

/**
 * Tries one write to a source topic as the application user (User:app, who may write every topic): undefined when it
 * was accepted, else the broker's error type (TOPIC_AUTHORIZATION_FAILED while a window's fence is in place).
 */
export async function appWriteError(topic: string): Promise<string | undefined> {
  const password = readFileSync(join(STACK_DIR, 'secrets/app.password'), 'utf8').trim();
  const kafka = new Kafka({
    brokers: [SOURCE_SASL_BOOTSTRAP],
    sasl: { mechanism: 'plain', username: 'app', password },
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ retry: { retries: 0 }, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [{ value: 'fence probe' }] });
    return undefined;
  } catch (e) {
    for (let err = e as { type?: string; cause?: unknown; message?: string } | undefined; err; err = err.cause as typeof err) {
      if (err.type) return err.type;
    }
    return String((e as Error).message);
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

/** The window fence's DENY WRITE for User:app on a topic (finalize leaves it in place): for a test's cleanup. */
export function windowFenceLeftovers(topic: string): AclEntry[] {
  return [
    {
      resourceType: AclResourceTypes.TOPIC,
      resourceName: topic,
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal: 'User:app',
      host: '*',
      operation: AclOperationTypes.WRITE,
      permissionType: AclPermissionTypes.DENY,
    },
  ];
}
