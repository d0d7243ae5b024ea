/** One Kafka record as the copy engine moves it: raw bytes, header order and duplicates kept. */
export interface RecordHeader {
  /** The header key's bytes as they were written (Kafka keys are UTF-8 strings; copied without re-encoding). */
  key: Buffer;
  value: Buffer | null;
}

export interface KafkaRecord {
  offset: number;
  /** ms since the epoch; -1 for records without a timestamp. */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  /** Bytes of key, value and headers: what throttling and batching count. */
  size: number;
}

export const NO_HEADERS: RecordHeader[] = Object.freeze([]) as unknown as RecordHeader[];

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  if (a === null || b === null) return a === b;
  return a.equals(b);
}

/** Key, value, headers (in order) and timestamp are equal: the target record is a copy of the source record. */
export function sameRecordContent(a: KafkaRecord, b: KafkaRecord): boolean {
  if (a.timestamp !== b.timestamp || !sameBytes(a.key, b.key) || !sameBytes(a.value, b.value)) return false;
  if (a.headers.length !== b.headers.length) return false;
  for (let i = 0; i < a.headers.length; i++) {
    if (!a.headers[i].key.equals(b.headers[i].key) || !sameBytes(a.headers[i].value, b.headers[i].value)) return false;
  }
  return true;
}

/** Which part differs, for error messages. */
export function describeRecordDifference(source: KafkaRecord, target: KafkaRecord): string {
  const parts: string[] = [];
  if (source.timestamp !== target.timestamp) parts.push(`timestamp ${source.timestamp} vs ${target.timestamp}`);
  if (!sameBytes(source.key, target.key)) parts.push('key');
  if (!sameBytes(source.value, target.value)) parts.push('value');
  if (
    source.headers.length !== target.headers.length ||
    source.headers.some((h, i) => !h.key.equals(target.headers[i].key) || !sameBytes(h.value, target.headers[i].value))
  ) {
    parts.push('headers');
  }
  return parts.join(', ');
}
