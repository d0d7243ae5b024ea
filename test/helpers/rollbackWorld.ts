/** Shared by the rollback-window tests: the migrator's window grants on the source, and the independent sequence audit. */
import type { AclEntry } from 'kafkajs';
import { rollbackWindowAcls } from '../../src/rollback/windowAcls';
import { readPartition } from './copyFixtures';

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
