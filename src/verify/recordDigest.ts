/**
 * The one record digest both sides of a verification use: sha256 over key, value, headers (in the order the
 * client decoded them) and timestamp, with every field length-prefixed so that null, empty and shifted
 * bytes can never collide. A partition digest chains record digests in offset order (order-sensitive).
 *
 * kafkajs decodes headers into an object: repeated keys become arrays in arrival order and distinct keys keep
 * their first-arrival order, so the digest sees exactly what a kafkajs consumer would see on either side.
 */
import { createHash, type Hash } from 'node:crypto';
import type { IHeaders, KafkaMessage } from 'kafkajs';

export interface DigestRecord {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  /** [key, value] pairs in decode order; a null value is a header without a value. */
  headers: [string, Buffer | null][];
  timestamp: number;
}

/** Converts a kafkajs message (strings at the edge) into a DigestRecord. */
export function toDigestRecord(message: KafkaMessage): DigestRecord {
  return {
    offset: Number(message.offset),
    key: message.key ?? null,
    value: message.value ?? null,
    headers: flattenHeaders(message.headers),
    timestamp: Number(message.timestamp),
  };
}

function flattenHeaders(headers: IHeaders | undefined): [string, Buffer | null][] {
  const out: [string, Buffer | null][] = [];
  for (const [key, raw] of Object.entries(headers ?? {})) {
    const values = Array.isArray(raw) ? raw : [raw];
    for (const v of values) out.push([key, v === undefined || v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(v)]);
  }
  return out;
}

const NULL_LENGTH = -1;

function putBytes(hash: Hash, bytes: Buffer | null): void {
  const len = Buffer.alloc(4);
  len.writeInt32BE(bytes === null ? NULL_LENGTH : bytes.length);
  hash.update(len);
  if (bytes) hash.update(bytes);
}

/** The sha256 of one record's content (offset excluded: offsets differ between the sides). */
export function recordDigest(record: DigestRecord, options: { includeTimestamp: boolean }): Buffer {
  const hash = createHash('sha256');
  putBytes(hash, record.key);
  putBytes(hash, record.value);
  const count = Buffer.alloc(4);
  count.writeInt32BE(record.headers.length);
  hash.update(count);
  for (const [k, v] of record.headers) {
    putBytes(hash, Buffer.from(k, 'utf8'));
    putBytes(hash, v);
  }
  const ts = Buffer.alloc(8);
  ts.writeBigInt64BE(options.includeTimestamp ? BigInt(record.timestamp) : 0n);
  hash.update(ts);
  return hash.digest();
}

/** Order-sensitive digest of a sequence of record digests, plus the count. */
export class PartitionDigest {
  private readonly hash = createHash('sha256');
  records = 0;

  add(recordHash: Buffer): void {
    this.hash.update(recordHash);
    this.records++;
  }

  /** Hex digest; call once. */
  finish(): string {
    return this.hash.digest('hex');
  }
}

/** Names the fields in which two records differ, e.g. ["header values", "timestamp 1 vs 2"]. */
export function describeRecordDifference(a: DigestRecord, b: DigestRecord, options: { includeTimestamp: boolean }): string[] {
  const diffs: string[] = [];
  if (!sameBytes(a.key, b.key)) diffs.push('key');
  if (!sameBytes(a.value, b.value)) diffs.push('value');
  const ha = a.headers.map(([k]) => k).join(',');
  const hb = b.headers.map(([k]) => k).join(',');
  if (ha !== hb) diffs.push(`header keys [${ha}] vs [${hb}]`);
  else if (a.headers.some(([, v], i) => !sameBytes(v, b.headers[i][1]))) {
    const keys = a.headers.filter(([, v], i) => !sameBytes(v, b.headers[i][1])).map(([k]) => k);
    diffs.push(`header value of ${[...new Set(keys)].join(',')}`);
  }
  if (options.includeTimestamp && a.timestamp !== b.timestamp) diffs.push(`timestamp ${a.timestamp} vs ${b.timestamp}`);
  return diffs;
}

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  if (a === null || b === null) return a === b;
  return a.equals(b);
}
