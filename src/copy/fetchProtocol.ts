/**
 * Fetch requests encoded by kafkajs, at the highest version both sides know, with our own response decoder that
 * keeps record sets as raw bytes for `decodeRecordSet`. v4+ (0.11+) carry the isolation level, last stable offset
 * and aborted transactions; v0-v3 (0.9-0.10, which have no transactions) do not: there everything is committed.
 */
import { apiKeys, fetchRequests, type InternalBroker, type ProtocolRequest } from './kafkaInternals';

export const READ_UNCOMMITTED = 0;
export const READ_COMMITTED = 1;

export interface FetchPartitionRequest {
  partition: number;
  fetchOffset: number;
  maxBytes: number;
}

export interface FetchPartitionResponse {
  partition: number;
  errorCode: number;
  highWatermark: number;
  /** -1 before v4. */
  lastStableOffset: number;
  /** -1 before v5. */
  logStartOffset: number;
  /** Empty before v4. */
  abortedTransactions: { producerId: number; firstOffset: number }[];
  records: Buffer;
}

export interface FetchResponse {
  errorCode: number;
  topics: { topic: string; partitions: FetchPartitionResponse[] }[];
}

export function decodeFetchResponse(version: number, buf: Buffer): FetchResponse {
  let pos = 0;
  const int16 = () => {
    const v = buf.readInt16BE(pos);
    pos += 2;
    return v;
  };
  const int32 = () => {
    const v = buf.readInt32BE(pos);
    pos += 4;
    return v;
  };
  const int64 = () => {
    const v = Number(buf.readBigInt64BE(pos));
    pos += 8;
    return v;
  };
  const string = () => {
    const len = int16();
    const s = buf.toString('utf8', pos, pos + len);
    pos += len;
    return s;
  };
  if (version >= 1) int32(); // throttle time
  let errorCode = 0;
  if (version >= 7) {
    errorCode = int16();
    int32(); // session id
  }
  const topics: FetchResponse['topics'] = [];
  for (let t = int32(); t > 0; t--) {
    const topic = string();
    const partitions: FetchPartitionResponse[] = [];
    for (let p = int32(); p > 0; p--) {
      const partition = int32();
      const partitionError = int16();
      const highWatermark = int64();
      const lastStableOffset = version >= 4 ? int64() : -1;
      const logStartOffset = version >= 5 ? int64() : -1;
      const abortedTransactions: FetchPartitionResponse['abortedTransactions'] = [];
      if (version >= 4) for (let a = int32(); a > 0; a--) abortedTransactions.push({ producerId: int64(), firstOffset: int64() });
      if (version >= 11) int32(); // preferred read replica
      const size = int32();
      const records = size > 0 ? buf.subarray(pos, pos + size) : Buffer.alloc(0);
      pos += Math.max(size, 0);
      partitions.push({ partition, errorCode: partitionError, highWatermark, lastStableOffset, logStartOffset, abortedTransactions, records });
    }
    topics.push({ topic, partitions });
  }
  return { errorCode, topics };
}

export interface FetchArgs {
  isolationLevel: number;
  maxWaitTime: number;
  maxBytes: number;
  topics: { topic: string; partitions: FetchPartitionRequest[] }[];
}

/** One Fetch round trip to a broker; partition-level errors are returned, not thrown. */
export async function sendFetch(broker: InternalBroker, args: FetchArgs): Promise<FetchResponse> {
  const build = broker.lookupRequest(apiKeys.Fetch, fetchRequests);
  const protocol: ProtocolRequest = build({
    replicaId: -1,
    isolationLevel: args.isolationLevel,
    maxWaitTime: args.maxWaitTime,
    minBytes: 1,
    maxBytes: args.maxBytes,
    topics: args.topics.map(({ topic, partitions }) => ({
      topic,
      partitions: partitions.map((p) => ({
        partition: p.partition,
        currentLeaderEpoch: -1,
        fetchOffset: String(p.fetchOffset),
        logStartOffset: -1,
        maxBytes: p.maxBytes,
      })),
    })),
  });
  const version = protocol.request.apiVersion;
  protocol.response = {
    decode: async (payload: Buffer) => decodeFetchResponse(version, payload),
    parse: async (data: unknown) => data,
  };
  return (await broker.connectionPool.send(protocol)) as FetchResponse;
}
