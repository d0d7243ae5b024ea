/**
 * The one record digest both sides of a verification use: sha256 over key, value, headers (in record order)
 * and timestamp, with every field length-prefixed so that null, empty and shifted bytes can never collide.
 * A partition digest chains record digests in offset order (order-sensitive).
 *
 * Verification reads raw records with its own decoder (src/verify/independent, VerifiedRecord): headers keep
 * their stored order, duplicates and key bytes, so a copy that reordered or re-encoded headers is caught. The
 * copy engine's raw records (src/copy/kafkaRecord.ts, same shape) are accepted too. kafkajs messages (tests, tools) are
 * accepted too: kafkajs groups repeated header keys, and the digest then sees what a kafkajs consumer sees.
 */
import { createHash, type Hash } from 'node:crypto';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { KafkaRecord } from '../copy/kafkaRecord';
import type { VerifiedRecord } from './independent/record';

/** A header key as decoded by kafkajs (string) or as stored (bytes, digested as they are). */
export type HeaderKey = string | Buffer;

export interface DigestRecord {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  /** [key, value] pairs in decode order; a null value is a header without a value. */
  headers: [HeaderKey, Buffer | null][];
  timestamp: number;
}

/** Converts a raw record (verification decoder or copy engine) or a kafkajs message (strings at the edge) into a DigestRecord. */
export function toDigestRecord(record: VerifiedRecord | KafkaRecord | KafkaMessage): DigestRecord {
  if (typeof record.offset === 'number') {
    const r = record as VerifiedRecord;
    return { offset: r.offset, key: r.key, value: r.value, headers: r.headers.map((h) => [h.key, h.value]), timestamp: r.timestamp };
  }
  const message = record as KafkaMessage;
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

const keyBytes = (k: HeaderKey): Buffer => (typeof k === 'string' ? Buffer.from(k, 'utf8') : k);
const keyText = (k: HeaderKey): string => (typeof k === 'string' ? k : k.toString('utf8'));

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
    putBytes(hash, keyBytes(k));
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
  const sameKeys = a.headers.length === b.headers.length && a.headers.every(([k], i) => keyBytes(k).equals(keyBytes(b.headers[i][0])));
  if (!sameKeys) diffs.push(`header keys [${a.headers.map(([k]) => keyText(k)).join(',')}] vs [${b.headers.map(([k]) => keyText(k)).join(',')}]`);
  else if (a.headers.some(([, v], i) => !sameBytes(v, b.headers[i][1]))) {
    const keys = a.headers.filter(([, v], i) => !sameBytes(v, b.headers[i][1])).map(([k]) => keyText(k));
    diffs.push(`header value of ${[...new Set(keys)].join(',')}`);
  }
  if (options.includeTimestamp && a.timestamp !== b.timestamp) diffs.push(`timestamp ${a.timestamp} vs ${b.timestamp}`);
  return diffs;
}

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  if (a === null || b === null) return a === b;
  return a.equals(b);
}
