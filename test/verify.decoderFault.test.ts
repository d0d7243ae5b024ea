/**
 * Verification is independent of the copy engine's decoder (issue 11, section 4), against the real stack.
 *
 * A symmetric decoder fault is injected into the copy engine (src/copy/recordBatchCodec.ts,
 * setDecodeFaultForTests): every record it decodes loses its `bin-h` header (idempotent: reading a copy that
 * already lacks it changes nothing more). The copy runs with the fault, so the target lacks those headers. Read
 * with the engine's own reader (still faulty) both sides look identical — a verification built on it would pass. Verification, which decodes both sides with src/verify/independent,
 * reports every altered record, names the decoder, and finds the partition without headers intact.
 */
import { createHash } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { verifyBatch } from '../src/activities/verify';
import { copyPartitionsUntil } from '../src/copy/copyPartitions';
import { READ_COMMITTED, READ_UNCOMMITTED } from '../src/copy/fetchProtocol';
import { createInternalCluster } from '../src/copy/kafkaInternals';
import type { KafkaRecord } from '../src/copy/kafkaRecord';
import { PartitionReader } from '../src/copy/partitionReader';
import { setDecodeFaultForTests } from '../src/copy/recordBatchCodec';
import { createTopicsReady } from '../src/kafka/topicsReady';
import { renderVerificationMarkdown } from '../src/reports/verificationReport';
import { content, produceToSource, readPartition, sourceEndOffsets } from './helpers/copyFixtures';
import { sourceAdminKafka, stackSpec, targetKafka, uniqueSuffix } from './helpers/stack';

const RECORDS = 30;
const suffix = uniqueSuffix();
const topic = `ver-fault-${suffix}`;
const spec = stackSpec({ name: `ver-fault-${suffix}` });
let sourceAdmin: Admin;
let targetAdmin: Admin;

/** Every record of a partition as the copy engine's own reader decodes it (the code under test). */
async function readWithEngine(cluster: 'source' | 'target', partition: number, from: number, to: number): Promise<KafkaRecord[]> {
  const kafka = cluster === 'source' ? sourceAdminKafka() : targetKafka();
  const internal = createInternalCluster(kafka);
  await internal.connect();
  const reader = new PartitionReader(internal, [{ topic, partition, position: from, stopAt: to }], {
    isolationLevel: cluster === 'source' ? READ_COMMITTED : READ_UNCOMMITTED,
    partitionFetchBytes: 1024 * 1024,
    maxBufferedBytes: 16 * 1024 * 1024,
    maxWaitMs: 100,
    cluster,
  });
  reader.start();
  const out: KafkaRecord[] = [];
  try {
    let position = from;
    while (position < to) {
      await reader.waitForData(500);
      const t = reader.take(topic, partition, Number.MAX_SAFE_INTEGER, (r) => r.size);
      if (t) {
        out.push(...t.records);
        position = t.nextOffset;
      }
    }
  } finally {
    await reader.close();
    await internal.disconnect();
  }
  return out;
}

const digestOf = (records: KafkaRecord[]) =>
  createHash('sha256')
    .update(JSON.stringify(records.map(content)))
    .digest('hex');

beforeAll(async () => {
  sourceAdmin = sourceAdminKafka().admin();
  targetAdmin = targetKafka().admin();
  await Promise.all([sourceAdmin.connect(), targetAdmin.connect()]);
  await createTopicsReady(sourceAdmin, [{ topic, numPartitions: 2, replicationFactor: 1 }]);
  await createTopicsReady(targetAdmin, [{ topic, numPartitions: 2, replicationFactor: 1 }]);
  // Partition 0: headers (a repeated key, then a binary one); every fifth record has none. Partition 1: no headers.
  await produceToSource(topic, [
    ...Array.from({ length: RECORDS }, (_, i) => ({
      partition: 0,
      key: `k${i}`,
      value: `v${i}`,
      headers: i % 5 === 0 ? undefined : { trace: [Buffer.from(`t${i}a`), Buffer.from(`t${i}b`)], 'bin-h': Buffer.from([0, 255, i]) },
      timestamp: String(1700000000000 + i),
    })),
    ...Array.from({ length: RECORDS }, (_, i) => ({ partition: 1, key: i % 3 === 0 ? null : `k${i}`, value: i % 4 === 0 ? '' : `v${i}` })),
  ]);
});

afterAll(async () => {
  setDecodeFaultForTests(undefined);
  await sourceAdmin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await targetAdmin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await Promise.all([sourceAdmin.disconnect(), targetAdmin.disconnect()]);
});

test('a header dropped by the copy engine decoder (on both sides) is reported by verification, which decodes with its own code', async () => {
  const dropBinHeader = (r: KafkaRecord): KafkaRecord => ({ ...r, headers: r.headers.filter((h) => h.key.toString() !== 'bin-h') });
  setDecodeFaultForTests(dropBinHeader);
  try {
    const stopAt = await sourceEndOffsets(topic);
    await copyPartitionsUntil({
      source: spec.source,
      target: spec.target,
      migration: spec.name,
      partitions: [0, 1].map((partition) => ({ topic, partition })),
      stopAt,
    });

    // The fault is symmetric: the engine's reader drops the header on the source too, so both sides look the same.
    const [engineSource, engineTarget] = await Promise.all([readWithEngine('source', 0, 0, RECORDS), readWithEngine('target', 0, 0, RECORDS)]);
    expect(engineSource).toHaveLength(RECORDS);
    expect(engineSource[1].headers.map((h) => h.key.toString())).toEqual(['trace', 'trace']);
    expect(digestOf(engineTarget)).toBe(digestOf(engineSource));

    // The verification decoder sees what is stored: the source has the header, the copy does not.
    const [source0, target0] = await Promise.all([readPartition('source', topic, 0), readPartition('target', topic, 0, { committed: false })]);
    expect(source0[1].headers.map((h) => [h.key.toString(), h.value?.toString('hex')])).toEqual([
      ['trace', Buffer.from('t1a').toString('hex')],
      ['trace', Buffer.from('t1b').toString('hex')],
      ['bin-h', '00ff01'],
    ]);
    expect(target0[1].headers.map((h) => h.key.toString())).toEqual(['trace', 'trace']);

    // Verification (the fault still active in the copy engine) reports each altered record and nothing else.
    const report = await verifyBatch({ spec, migration: spec.name, batch: { number: 1, name: 'fault', topics: [{ name: topic }], groups: [] } });
    expect(report.decoder).toMatchObject({ id: 'independent', formats: ['v0', 'v1', 'v2'] });
    expect(renderVerificationMarkdown(report)).toContain('- decoder: independent (record formats v0, v1, v2): verification decoder (src/verify/independent)');
    expect(report.ok).toBe(false);
    const [p0, p1] = report.partitions;
    expect(p0).toMatchObject({ partition: 0, contentEqual: false, mapConsistent: false, source: { records: RECORDS }, target: { records: RECORDS } });
    const altered = Array.from({ length: RECORDS }, (_, i) => i).filter((i) => i % 5 !== 0);
    expect(p0.mismatches[0]).toMatch(new RegExp(`^${topic}:0: digest differs over ${RECORDS} records`));
    expect(p0.mismatches.slice(1, 4)).toEqual(
      altered.slice(0, 3).map((i) => `${topic}:0: source offset ${i} -> target offset ${i}: record differs (header keys [trace,trace,bin-h] vs [trace,trace])`),
    );
    expect(p0.mismatches.at(-1)).toBe(`${topic}:0: ... and ${altered.length - 20} more record mismatches`);
    expect(p1).toMatchObject({ partition: 1, contentEqual: true, mapConsistent: true, mismatches: [] });
    expect(report.mismatches.every((m) => m.startsWith(`${topic}:0: `))).toBe(true);
  } finally {
    setDecodeFaultForTests(undefined);
  }
});

test('the fault hook is test-only', () => {
  const jestWorker = process.env.JEST_WORKER_ID;
  delete process.env.JEST_WORKER_ID;
  try {
    expect(() => setDecodeFaultForTests((r) => r)).toThrow('setDecodeFaultForTests is a test-only hook (jest)');
  } finally {
    process.env.JEST_WORKER_ID = jestWorker;
  }
});
