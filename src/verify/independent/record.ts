/**
 * What the verification decoder (src/verify/independent) yields: one record as stored, with the fields a
 * digest covers. Structurally the same shape as the copy engine's KafkaRecord (so that tests and the digest can
 * take either), but declared here: the decoder depends on nothing of the copy engine.
 */
export interface VerifiedHeader {
  /** The header key's bytes as stored (never null: a negative key length is a decode error, as in Kafka). */
  key: Buffer;
  /** null: a header without a value (length -1), distinct from an empty value. */
  value: Buffer | null;
}

export interface VerifiedRecord {
  offset: number;
  /** CreateTime: base timestamp + delta; LogAppendTime: the batch's max timestamp (what Kafka's consumer reports). */
  timestamp: number;
  /** null (length -1) and empty (length 0) stay distinct. */
  key: Buffer | null;
  value: Buffer | null;
  /** In stored order, duplicate keys kept. */
  headers: VerifiedHeader[];
  /** Bytes of key, value and header keys and values. */
  size: number;
}

/**
 * One log entry as stored: a record batch (magic 2) or, once the legacy formats are added, one (possibly
 * compressed, wrapping inner messages) message of format v0/v1. Everything the committed-read filter needs.
 */
export interface DecodedEntry {
  magic: number;
  baseOffset: number;
  /** The offset after this entry is lastOffset + 1, whatever its records (compaction can empty a batch). */
  lastOffset: number;
  /** -1 when not idempotent/transactional (and always for v0/v1). */
  producerId: number;
  transactional: boolean;
  /** A transaction marker (control batch): never a data record. */
  control: boolean;
  /** For a control batch: the marker's type (0 abort, 1 commit), or null when it holds no record. */
  controlType: number | null;
  logAppendTime: boolean;
  records: VerifiedRecord[];
}
