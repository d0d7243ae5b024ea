/**
 * How a report is laid out in the target-side report store (the compacted topic `__kafka_migrate_reports`, see
 * reportStore.ts). Pure: records in, records out.
 *
 * A report (its Markdown and JSON, gzipped together) is cut into chunks below the topic's maximum message size,
 * keyed `<migration>/<fileStem>#<i>`, followed by its manifest, keyed `<migration>/<fileStem>`. The manifest names
 * the write (a hash of the content), the number of chunks and their hash; every chunk carries its write in a
 * header. A reader takes the latest manifest and only that write's chunks 0..n-1: chunks a longer earlier version
 * left behind (`#n` and beyond, or older values of the same keys) are never part of what it reads. Chunk keys
 * are reused by every rewrite, so compaction keeps at most the longest version's number of chunks per report.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';

export const REPORT_STORE_FORMAT = 1;
const WRITE_HEADER = 'km-report-write';

/** The manifest of one stored report (the value of its `<migration>/<fileStem>` record, JSON). */
export interface StoredReportManifest {
  format: number;
  migration: string;
  fileStem: string;
  /** Hash of the gzipped content: which chunks belong to this version. */
  writeId: string;
  chunks: number;
  gzipBytes: number;
  sha256: string;
  writtenAt: string;
  /** The worker that wrote it (its Temporal identity, `<pid>@<host>` by default) and the files it wrote there. */
  writtenBy: string;
  paths: { jsonPath: string; markdownPath: string };
}

/** What a report holds: the Markdown and the JSON it renders. */
export interface ReportContent {
  markdown: string;
  json: unknown;
}

/** One record of the store as a producer sends it or a reader gets it (value null: a tombstone). */
export interface StoreRecord {
  key: string;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | undefined>;
}

export const manifestKey = (migration: string, fileStem: string) => `${migration}/${fileStem}`;
const chunkKey = (migration: string, fileStem: string, i: number) => `${migration}/${fileStem}#${i}`;

/** The chunks then the manifest of one report (send them in this order, to the one partition, in one request). */
export function encodeReport(input: {
  migration: string;
  fileStem: string;
  content: ReportContent;
  chunkBytes: number;
  writtenAt: string;
  writtenBy: string;
  paths: StoredReportManifest['paths'];
}): { records: StoreRecord[]; manifest: StoredReportManifest } {
  if (!Number.isInteger(input.chunkBytes) || input.chunkBytes <= 0) throw new Error(`chunkBytes must be a positive integer, got ${input.chunkBytes}`);
  const gz = gzipSync(Buffer.from(JSON.stringify(input.content)));
  const sha256 = createHash('sha256').update(gz).digest('hex');
  const writeId = sha256.slice(0, 16);
  const chunks = Math.max(1, Math.ceil(gz.length / input.chunkBytes));
  const records: StoreRecord[] = [];
  for (let i = 0; i < chunks; i++) {
    records.push({
      key: chunkKey(input.migration, input.fileStem, i),
      value: gz.subarray(i * input.chunkBytes, (i + 1) * input.chunkBytes),
      headers: { [WRITE_HEADER]: writeId },
    });
  }
  const manifest: StoredReportManifest = {
    format: REPORT_STORE_FORMAT,
    migration: input.migration,
    fileStem: input.fileStem,
    writeId,
    chunks,
    gzipBytes: gz.length,
    sha256,
    writtenAt: input.writtenAt,
    writtenBy: input.writtenBy,
    paths: input.paths,
  };
  records.push({ key: manifestKey(input.migration, input.fileStem), value: Buffer.from(JSON.stringify(manifest)) });
  return { records, manifest };
}

/** A report read back from the store: its content and manifest, or why it cannot be read. */
export type StoredReportRead = { manifest: StoredReportManifest; content: ReportContent } | { manifest?: StoredReportManifest; error: string };

/**
 * Collects, from the store's records in log order (compacted or not), the reports named by `fileStems` of one
 * migration. Only what it keeps is held in memory: the latest manifest of each wanted report and the chunks of
 * the writes seen for it.
 */
export class StoredReportAssembler {
  private readonly manifests = new Map<string, StoredReportManifest | null>();
  /** `<fileStem>#<i>|<writeId>` → chunk. */
  private readonly chunks = new Map<string, Buffer>();
  private readonly prefix: string;

  constructor(
    private readonly migration: string,
    private readonly fileStems: ReadonlySet<string>,
  ) {
    this.prefix = `${migration}/`;
  }

  add(record: StoreRecord): void {
    if (!record.key.startsWith(this.prefix)) return;
    const rest = record.key.slice(this.prefix.length);
    const hash = rest.indexOf('#');
    const stem = hash < 0 ? rest : rest.slice(0, hash);
    if (!this.fileStems.has(stem)) return;
    if (hash < 0) {
      this.manifests.set(stem, record.value ? (JSON.parse(record.value.toString('utf8')) as StoredReportManifest) : null);
      return;
    }
    const writeId = headerText(record.headers?.[WRITE_HEADER]);
    if (record.value && writeId) this.chunks.set(`${rest}|${writeId}`, record.value);
  }

  /** Each wanted report that has a manifest; a stem the store has not (or whose manifest is a tombstone) is absent. */
  result(): Map<string, StoredReportRead> {
    const out = new Map<string, StoredReportRead>();
    for (const [stem, manifest] of this.manifests) {
      if (manifest) out.set(stem, this.assemble(stem, manifest));
    }
    return out;
  }

  private assemble(stem: string, manifest: StoredReportManifest): StoredReportRead {
    if (manifest.format !== REPORT_STORE_FORMAT) return { manifest, error: `stored in format ${manifest.format}; this version reads ${REPORT_STORE_FORMAT}` };
    const parts: Buffer[] = [];
    for (let i = 0; i < manifest.chunks; i++) {
      const part = this.chunks.get(`${stem}#${i}|${manifest.writeId}`);
      if (!part) return { manifest, error: `chunk ${i + 1} of ${manifest.chunks} of write ${manifest.writeId} is missing from the store` };
      parts.push(part);
    }
    const gz = Buffer.concat(parts);
    if (createHash('sha256').update(gz).digest('hex') !== manifest.sha256) return { manifest, error: `the stored chunks do not match the manifest's sha256` };
    return { manifest, content: JSON.parse(gunzipSync(gz).toString('utf8')) as ReportContent };
  }
}

function headerText(v: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : one.toString();
}
