/**
 * Kafka's own producer benchmark (org.apache.kafka.tools.ProducerPerformance): writes the benchmark data to
 * the source and measures the raw write limit of the target. One process per topic, all in parallel.
 */
import { jars } from './settings';
import { runJava } from './javaTools';

/** Producer settings for every ProducerPerformance run: durable (acks=all), batched, uncompressed like the copy. */
export const PRODUCER_PROPS: Record<string, string> = {
  acks: 'all',
  'batch.size': String(256 * 1024),
  'linger.ms': '10',
  'buffer.memory': String(64 * 1024 * 1024),
  'compression.type': 'none',
  'max.in.flight.requests.per.connection': '5',
};

export interface ProducerPerformanceResult {
  topic: string;
  records: number;
  recordsPerSec: number;
  /** As the tool reports it (MiB/s). */
  mibPerSec: number;
}

const SUMMARY = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\)/;

export async function producerPerformance(bootstrap: string, topic: string, records: number, recordBytes: number): Promise<ProducerPerformanceResult> {
  const props = Object.entries({ 'bootstrap.servers': bootstrap, ...PRODUCER_PROPS }).map(([k, v]) => `${k}=${v}`);
  const run = await runJava(jars.tools, 'org.apache.kafka.tools.ProducerPerformance', [
    '--topic',
    topic,
    '--num-records',
    String(records),
    '--record-size',
    String(recordBytes),
    '--throughput',
    '-1',
    '--producer-props',
    ...props,
  ]);
  const lines = run.stdout.trim().split('\n');
  const m = SUMMARY.exec(lines[lines.length - 1] ?? '');
  if (!m || Number(m[1]) !== records)
    throw new Error(`ProducerPerformance to ${topic} on ${bootstrap} did not report ${records} records sent: ${lines.slice(-3).join(' | ')}`);
  return { topic, records: Number(m[1]), recordsPerSec: Number(m[2]), mibPerSec: Number(m[3]) };
}

/** Writes `recordsPerTopic` records of `recordBytes` to each topic, one ProducerPerformance process per topic. */
export function producePerTopic(bootstrap: string, topics: string[], recordsPerTopic: number, recordBytes: number): Promise<ProducerPerformanceResult[]> {
  return Promise.all(topics.map((t) => producerPerformance(bootstrap, t, recordsPerTopic, recordBytes)));
}
