/**
 * One-off throughput check of the copy engine against the local stack (not a test):
 *   npx tsc --outDir /tmp/km-bench --rootDir . --module commonjs --target es2022 --esModuleInterop --skipLibCheck scripts/copy-benchmark.ts \
 *     && node /tmp/km-bench/scripts/copy-benchmark.js [records=200000] [recordBytes=1024] [partitions=8]
 * Writes the data to a fresh source topic (super-user PLAINTEXT listener), creates the target topic, then
 * copies it with copyPartitionsUntil (source read as `migrator` over SASL) and prints records/s, MB/s and
 * peak RSS. The topics are deleted afterwards unless KM_BENCH_KEEP=1 (the offset-map entries stay in the
 * compacted store topic under the migration name bench-<id>).
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { parseSpec } from '../src/config/spec';
import { copyPartitionsUntil } from '../src/copy/copyPartitions';
import { createTopicsOnTarget } from '../src/copy/targetTopics';
import { createInternalCluster } from '../src/copy/kafkaInternals';
import { IdempotentWriter } from '../src/copy/targetWriter';
import type { KafkaRecord } from '../src/copy/kafkaRecord';

const [records = 200000, recordBytes = 1024, partitions = 8] = process.argv.slice(2).map(Number);
const SOURCE_ADMIN = process.env.SOURCE_ADMIN_BOOTSTRAP ?? '127.0.0.1:19092';

async function main(): Promise<void> {
  const name = `bench-${Date.now().toString(36)}`;
  const topic = `${name}-data`;
  const spec = parseSpec({
    name,
    source: {
      bootstrapServers: [process.env.SOURCE_BOOTSTRAP ?? '127.0.0.1:19093'],
      securityProtocol: 'SASL_PLAINTEXT',
      sasl: { mechanism: 'PLAIN', username: 'migrator', password: { file: resolve(process.cwd(), '.stack/secrets/migrator.password') } },
    },
    target: { bootstrapServers: [process.env.TARGET_BOOTSTRAP ?? '127.0.0.1:29092'] },
  });

  const setup = new Kafka({ clientId: 'km-bench', brokers: [SOURCE_ADMIN], logLevel: logLevel.NOTHING });
  const admin = setup.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }] });
  await admin.disconnect();

  // Generate the data fast: 1 MB batches per partition through the engine's own writer.
  const cluster = createInternalCluster(setup);
  await cluster.connect();
  const writer = new IdempotentWriter(cluster, 30000);
  await writer.init([topic]);
  const payload = randomBytes(recordBytes);
  const perBatch = Math.max(1, Math.floor((900 * 1024) / recordBytes));
  let written = 0;
  const genStart = Date.now();
  while (written < records) {
    const batches = [];
    for (let p = 0; p < partitions && written < records; p++) {
      const n = Math.min(perBatch, records - written);
      const recs: KafkaRecord[] = Array.from({ length: n }, (_, i) => ({
        offset: -1,
        timestamp: Date.now(),
        key: Buffer.from(`key-${written + i}`),
        value: payload,
        headers: [{ key: Buffer.from('h'), value: Buffer.from(String(i)) }],
        size: recordBytes + 16,
      }));
      written += n;
      batches.push({ topic, partition: p, records: recs });
    }
    await writer.write(batches);
  }
  const genSeconds = (Date.now() - genStart) / 1000;
  await cluster.disconnect();
  console.log(`source data: ${records} x ${recordBytes} B over ${partitions} partitions written in ${genSeconds.toFixed(1)} s (${(records / genSeconds).toFixed(0)} rec/s)`);

  await createTopicsOnTarget(spec, name, [topic]);
  const srcAdmin = setup.admin();
  await srcAdmin.connect();
  const stopAt = Object.fromEntries((await srcAdmin.fetchTopicOffsets(topic)).map((o) => [`${topic}:${o.partition}`, Number(o.high)]));
  await srcAdmin.disconnect();

  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const start = Date.now();
  const progress = await copyPartitionsUntil({
    source: spec.source,
    target: spec.target,
    migration: name,
    partitions: Array.from({ length: partitions }, (_, partition) => ({ topic, partition })),
    stopAt,
    maxBatchBytes: spec.copy.maxBatchBytes,
  });
  const seconds = (Date.now() - start) / 1000;
  clearInterval(sampler);
  const copied = progress.reduce((n, p) => n + p.recordsCopied, 0);
  const bytes = progress.reduce((n, p) => n + p.bytesCopied, 0);
  console.log(
    `copied ${copied} records (${(bytes / 1e6).toFixed(1)} MB payload) in ${seconds.toFixed(1)} s: ${(copied / seconds).toFixed(0)} rec/s, ${(bytes / 1e6 / seconds).toFixed(1)} MB/s; peak RSS ${(peakRss / 1e6).toFixed(0)} MB`,
  );
  if (process.env.KM_BENCH_KEEP === '1') {
    console.log(`topics kept for inspection: ${topic} on both clusters`);
    return;
  }
  // The benchmark's topics are large: remove them from both clusters.
  for (const kafka of [setup, new Kafka({ clientId: 'km-bench', brokers: spec.target.bootstrapServers, logLevel: logLevel.NOTHING })]) {
    const a = kafka.admin();
    await a.connect();
    await a.deleteTopics({ topics: [topic] }).catch((e) => console.warn(`could not delete ${topic}: ${(e as Error).message}`));
    await a.disconnect();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
