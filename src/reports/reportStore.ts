/**
 * The target-side report store: every report a worker writes to its own disk (writeReport.ts) is also kept on the
 * TARGET cluster, in the compacted single-partition topic `__kafka_migrate_reports` (layout: reportStoreFormat.ts),
 * so that `kafka-migrate report` on any machine can include it, whichever worker wrote it and wherever that worker's
 * disk is. The CLI never reads the topic itself: a worker does, in a read-only look (src/workflows/readOnly.ts).
 */
import type { Kafka } from 'kafkajs';
import type { ClusterConnection, MigrationSpec } from '../config/spec';
import { createKafka } from '../kafka/clients';
import { ensureCompactedTopic } from '../kafka/compactedTopic';
import { TopicRangeReader } from '../verify/topicRangeReader';
import { encodeReport, StoredReportAssembler, type ReportContent, type StoredReportManifest, type StoredReportRead } from './reportStoreFormat';

export const REPORT_TOPIC = '__kafka_migrate_reports';

/** Kafka's default max.message.bytes is ~1 MB; chunks stay well below whatever the topic allows. */
const MAX_CHUNK_BYTES = 512 * 1024;
const CHUNK_MARGIN_BYTES = 8 * 1024;

function targetKafka(target: ClusterConnection, retries?: number): Kafka {
  return createKafka(target, 'target', { clientIdSuffix: 'reports', ...(retries !== undefined ? { retries } : {}) });
}

/** The chunk size for the topic: below its max.message.bytes (a record batch of one chunk must fit). */
async function chunkBytesFor(kafka: Kafka): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2 /* TOPIC */, name: REPORT_TOPIC, configNames: ['max.message.bytes'] }] });
    const value = Number(described.resources[0]?.configEntries.find((c) => c.configName === 'max.message.bytes')?.configValue);
    return Number.isFinite(value) && value > 0 ? Math.max(1024, Math.min(MAX_CHUNK_BYTES, value - CHUNK_MARGIN_BYTES)) : MAX_CHUNK_BYTES;
  } catch {
    return MAX_CHUNK_BYTES; // describeConfigs not allowed: the default limit is far above this
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Stores one report (creating the topic on first use). Throws on failure; storeReportCopy is what writers call. */
export async function storeReport(
  spec: Pick<MigrationSpec, 'name' | 'target'>,
  input: { fileStem: string; content: ReportContent; writtenBy: string; paths: StoredReportManifest['paths'] },
  retries?: number,
): Promise<StoredReportManifest> {
  const kafka = targetKafka(spec.target, retries);
  await ensureCompactedTopic(kafka, REPORT_TOPIC, spec.target.replicationFactor);
  const { records, manifest } = encodeReport({
    migration: spec.name,
    fileStem: input.fileStem,
    content: input.content,
    chunkBytes: await chunkBytesFor(kafka),
    writtenAt: new Date().toISOString(),
    writtenBy: input.writtenBy,
    paths: input.paths,
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    // One record per request: max.message.bytes bounds a whole record batch, and the manifest must come last.
    for (const r of records) await producer.send({ topic: REPORT_TOPIC, acks: -1, messages: [{ partition: 0, key: r.key, value: r.value, headers: r.headers }] });
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
  return manifest;
}

const STORE_ATTEMPTS = 3;
const STORE_PAUSE_MS = 2000;
/** A target that accepts connections but never answers must not hold the step for kafkajs' full request timeouts. */
const ATTEMPT_TIMEOUT_MS = 20_000;

function withinTime<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the target within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * Stores a report a worker has just written to its disk, best effort: a few quick attempts, then the error is
 * returned (and logged), never thrown. The step that wrote the report has done its work, and the files are on the
 * worker's disk: an unreachable target must not block it (an abort ends with the final report even then). `report`
 * then says the store has no copy.
 */
export async function storeReportCopy(
  spec: Pick<MigrationSpec, 'name' | 'target'>,
  input: Parameters<typeof storeReport>[1],
): Promise<{ stored: true } | { stored: false; error: string }> {
  let error = '';
  for (let attempt = 1; attempt <= STORE_ATTEMPTS; attempt++) {
    try {
      await withinTime(storeReport(spec, input, 2), ATTEMPT_TIMEOUT_MS);
      return { stored: true };
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      if (attempt < STORE_ATTEMPTS) await new Promise((r) => setTimeout(r, STORE_PAUSE_MS));
    }
  }
  console.warn(`[reports] ${spec.name}/${input.fileStem}: not stored in ${REPORT_TOPIC} on the target after ${STORE_ATTEMPTS} attempts: ${error}`);
  return { stored: false, error };
}

/** The stored reports of one migration named by `fileStems` (absent: never stored). Reads the topic once. */
export async function readStoredReports(target: ClusterConnection, migration: string, fileStems: string[]): Promise<Map<string, StoredReportRead>> {
  const kafka = targetKafka(target);
  const admin = kafka.admin();
  await admin.connect();
  let bounds: { low: string; high: string } | undefined;
  try {
    if (!(await admin.listTopics()).includes(REPORT_TOPIC)) return new Map();
    bounds = (await admin.fetchTopicOffsets(REPORT_TOPIC)).find((o) => o.partition === 0);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const assembler = new StoredReportAssembler(migration, new Set(fileStems));
  if (!bounds || Number(bounds.low) >= Number(bounds.high)) return assembler.result();
  const reader = await TopicRangeReader.open(kafka, REPORT_TOPIC, { groupIdPrefix: `${target.clientId}-reports` });
  try {
    for await (const m of reader.read(0, Number(bounds.low), Number(bounds.high))) {
      assembler.add({ key: m.key?.toString('utf8') ?? '', value: m.value, headers: m.headers as Record<string, Buffer | string | undefined> });
    }
  } finally {
    await reader.close();
  }
  return assembler.result();
}
