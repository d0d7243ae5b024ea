/**
 * One Fetch round trip for one partition, for the verification decoder. The transport is kafkajs' (through
 * src/copy/kafkaInternals.ts, the one module that touches its internals): connection, SASL, request framing
 * and the request body. The response is parsed here, by its own code (versions 0-11, the non-flexible ones
 * kafkajs negotiates; v0-v3, Kafka 0.9-0.10, carry no last stable offset nor aborted transactions), so that neither the record bytes nor the aborted-transaction list pass through the
 * copy engine's fetch decoder (src/copy/fetchProtocol.ts).
 */
import { apiKeys, fetchRequests, type InternalBroker, type ProtocolRequest } from '../../copy/kafkaInternals';
import { ByteCursor, DecodeError } from './cursor';
import type { AbortedTransaction } from './committedFilter';

export const ISOLATION = { readUncommitted: 0, readCommitted: 1 } as const;

export interface PartitionFetch {
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  /** -1 when the response version does not carry it. */
  logStartOffset: number;
  abortedTransactions: AbortedTransaction[];
  /** The partition's record set, as stored (a slice of the response). */
  records: Buffer;
}

const MIN_VERSION = 0;
const MAX_VERSION = 11;

/** Parses a Fetch response (v0-v11) and returns the one partition asked for. */
export function parseFetchResponse(version: number, payload: Buffer, topic: string, partition: number): PartitionFetch {
  if (version < MIN_VERSION || version > MAX_VERSION)
    throw new DecodeError(`Fetch response v${version}: the verification reader parses v${MIN_VERSION}-v${MAX_VERSION}`);
  const c = new ByteCursor(payload, 0, payload.length, `Fetch v${version} response`);
  if (version >= 1) c.int32('throttle_time_ms');
  if (version >= 7) {
    const errorCode = c.int16('error_code');
    c.int32('session_id');
    if (errorCode !== 0) return { errorCode, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, abortedTransactions: [], records: Buffer.alloc(0) };
  }
  let found: PartitionFetch | undefined;
  for (let t = c.int32('topic count'); t > 0; t--) {
    const name = c.string('topic');
    for (let p = c.int32('partition count'); p > 0; p--) {
      const index = c.int32('partition_index');
      const errorCode = c.int16('error_code');
      const highWatermark = c.int64('high_watermark');
      const lastStableOffset = version >= 4 ? c.int64('last_stable_offset') : -1;
      const logStartOffset = version >= 5 ? c.int64('log_start_offset') : -1;
      const abortedTransactions: AbortedTransaction[] = [];
      for (let a = version >= 4 ? c.int32('aborted_transactions count') : 0; a > 0; a--) {
        abortedTransactions.push({ producerId: c.int64('producer_id'), firstOffset: c.int64('first_offset') });
      }
      if (version >= 11) c.int32('preferred_read_replica');
      const size = c.int32('records size');
      const records = size > 0 ? c.take(size, 'records') : Buffer.alloc(0);
      if (name === topic && index === partition) found = { errorCode, highWatermark, lastStableOffset, logStartOffset, abortedTransactions, records };
    }
  }
  if (c.remaining !== 0) throw new DecodeError(`Fetch v${version} response: ${c.remaining} byte(s) left after the last partition`);
  if (!found) throw new DecodeError(`Fetch v${version} response does not contain ${topic}:${partition}`);
  return found;
}

export interface FetchOne {
  topic: string;
  partition: number;
  offset: number;
  maxBytes: number;
  isolationLevel: number;
  maxWaitMs: number;
}

/** Fetches one partition from its leader; partition errors are returned in errorCode, not thrown. */
export async function fetchPartition(broker: InternalBroker, args: FetchOne): Promise<PartitionFetch> {
  const build = broker.lookupRequest(apiKeys.Fetch, fetchRequests);
  const protocol: ProtocolRequest = build({
    replicaId: -1,
    isolationLevel: args.isolationLevel,
    maxWaitTime: args.maxWaitMs,
    minBytes: 1,
    maxBytes: args.maxBytes,
    topics: [
      {
        topic: args.topic,
        partitions: [{ partition: args.partition, currentLeaderEpoch: -1, fetchOffset: String(args.offset), logStartOffset: -1, maxBytes: args.maxBytes }],
      },
    ],
  });
  const version = protocol.request.apiVersion;
  protocol.response = {
    decode: async (payload: Buffer) => parseFetchResponse(version, payload, args.topic, args.partition),
    parse: async (data: unknown) => data,
  };
  return (await broker.connectionPool.send(protocol)) as PartitionFetch;
}
