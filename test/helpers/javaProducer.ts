/** Test set-up: writes records with Kafka's own Java producer (test/helpers/CompressedProducer.java). */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { SOURCE_ADMIN_BOOTSTRAP, STACK_DIR } from './stack';

export interface JavaRecord {
  partition: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  /** In order; duplicate keys allowed. */
  headers: [string, Buffer | null][];
}

const b64 = (b: Buffer | null): string => (b === null ? '-' : b.toString('base64'));

function line(r: JavaRecord): string {
  return [String(r.partition), String(r.timestamp), b64(r.key), b64(r.value), ...r.headers.flatMap(([k, v]) => [b64(Buffer.from(k)), b64(v)])].join('\t');
}

/**
 * Writes the same records to each topic with its compression.type (`none`, `gzip`, `snappy`, `lz4`, `zstd`),
 * through the source's super-user listener, with one JVM for all topics.
 */
export async function produceWithJavaProducer(records: JavaRecord[], codecByTopic: Record<string, string>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'km-java-producer-'));
  try {
    const file = join(dir, 'records.tsv');
    await writeFile(file, records.map(line).join('\n') + '\n');
    const program = resolve(__dirname, 'CompressedProducer.java');
    const args = [
      '-cp',
      `${STACK_DIR}/kafka-3.4.1/libs/*`,
      program,
      SOURCE_ADMIN_BOOTSTRAP,
      file,
      ...Object.entries(codecByTopic).map(([t, c]) => `${t}=${c}`),
    ];
    await promisify(execFile)('java', args, { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }).catch((e: Error & { stderr?: string }) => {
      throw new Error(`Java producer failed: ${e.message}\n${e.stderr ?? ''}`);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
