/**
 * A raw Kafka protocol probe: TCP (or TLS) connect and an ApiVersions round trip, without kafkajs.
 * Brokers answer ApiVersions before SASL authentication, so the probe works on SASL listeners and proves
 * that an advertised host:port is a live Kafka broker, not just an open port.
 *
 * v0 is asked first (every broker since 0.10.0 answers it). A broker whose table offers ApiVersions v3+ is
 * asked again in v3 on the same connection, for its feature levels: on KRaft clusters the highest
 * `metadata.version` the software supports pins the release where the API table alone cannot (3.3 vs 3.4).
 */
import { Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { KAFKA_0_9_APIS } from './kafkaVersion';

/** api key -> [min version, max version] as the broker reports it. */
export type ApiVersionTable = Record<number, [number, number]>;

/** feature name -> [min, max] level (e.g. "metadata.version" on KRaft brokers). */
export type FeatureTable = Record<string, [number, number]>;

export interface ApiVersionsProbeResult {
  host: string;
  port: number;
  /** Connect + request + response, in ms. */
  latencyMs: number;
  apis: ApiVersionTable;
  /** Feature levels the broker software supports (ApiVersions v3+, brokers since 2.4); absent before. */
  supportedFeatures?: FeatureTable;
  /** Feature levels finalized cluster-wide (what the cluster runs at, after upgrades). */
  finalizedFeatures?: FeatureTable;
  /**
   * The broker answered no ApiVersions (added in 0.10.0) but answered ListGroups v0 (added in 0.9.0): Kafka 0.9.
   * `apis` is then 0.9.0's table (KAFKA_0_9_APIS), what clients fall back to.
   */
  preApiVersions?: true;
}

export interface ApiVersionsProbeOptions {
  timeoutMs?: number;
  /** Wrap the connection in TLS (SSL / SASL_SSL listeners). */
  tls?: boolean;
  clientId?: string;
}

export type ProbeFailureStage = 'connect' | 'timeout' | 'closed' | 'protocol';

/** Why a probe failed; `stage` tells a refused port from a silent one from a non-Kafka peer. */
export class ApiVersionsProbeError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly stage: ProbeFailureStage,
    detail: string,
  ) {
    super(`${host}:${port}: ${detail}`);
    this.name = 'ApiVersionsProbeError';
  }
}

const API_VERSIONS_KEY = 18;
const V0_CORRELATION_ID = 0x4b4d;
const V3_CORRELATION_ID = 0x4b4e;
const MAX_FRAME_BYTES = 1 << 20;

// ---- encoding ----

function uvarint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

function sizePrefixed(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

/** Request header v1 (v2 adds an empty tagged-field section): api key, version, correlation id, client id. */
function requestHeader(version: number, correlationId: number, clientId: string, flexible: boolean): Buffer {
  const id = Buffer.from(clientId, 'utf8');
  const header = Buffer.alloc(10);
  header.writeInt16BE(API_VERSIONS_KEY, 0);
  header.writeInt16BE(version, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(id.length, 8);
  return Buffer.concat([header, id, flexible ? uvarint(0) : Buffer.alloc(0)]);
}

export function encodeApiVersionsV0Request(clientId: string): Buffer {
  return sizePrefixed(requestHeader(0, V0_CORRELATION_ID, clientId, false));
}

const LIST_GROUPS_KEY = 16;
const LIST_GROUPS_CORRELATION_ID = 9;

/** ListGroups v0 (Kafka 0.9.0+, empty body): how a broker that answers no ApiVersions shows it is 0.9. */
export function encodeListGroupsV0Request(clientId: string): Buffer {
  const header = requestHeader(0, LIST_GROUPS_CORRELATION_ID, clientId, false);
  header.writeInt16BE(LIST_GROUPS_KEY, 0);
  return sizePrefixed(header);
}

/** Any well-formed answer (an authorization error included) proves a 0.9+ Kafka listener. */
function decodeListGroupsV0Response(payload: Buffer): true {
  if (payload.length < 10 || payload.readInt32BE(0) !== LIST_GROUPS_CORRELATION_ID) throw new Error('not a ListGroups v0 response');
  return true;
}

/** v3 body: client software name and version (compact strings), no tagged fields. */
export function encodeApiVersionsV3Request(clientId: string): Buffer {
  const compact = (s: string) => Buffer.concat([uvarint(Buffer.byteLength(s) + 1), Buffer.from(s, 'utf8')]);
  const body = Buffer.concat([compact('kafka-migrate'), compact('1.0'), uvarint(0)]);
  return sizePrefixed(Buffer.concat([requestHeader(3, V3_CORRELATION_ID, clientId, true), body]));
}

// ---- decoding ----

class Reader {
  at = 0;
  constructor(private readonly buf: Buffer) {}
  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new Error(`truncated response at byte ${this.at}`);
  }
  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      this.need(1);
      const b = this.buf[this.at++];
      value |= (b & 0x7f) << shift;
      if (!(b & 0x80)) return value >>> 0;
    }
    throw new Error('malformed varint');
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
  compactString(): string {
    const n = this.uvarint() - 1;
    return n < 0 ? '' : this.bytes(n).toString('utf8');
  }
  skipTaggedFields(): void {
    for (let n = this.uvarint(); n > 0; n--) {
      this.uvarint();
      this.bytes(this.uvarint());
    }
  }
}

function expectCorrelation(r: Reader, expected: number): void {
  const id = r.int32();
  if (id !== expected) throw new Error(`unexpected correlation id ${id}`);
}

/** Parses a v0 response payload (after the size prefix). */
export function decodeApiVersionsV0Response(payload: Buffer): { errorCode: number; apis: ApiVersionTable } {
  const r = new Reader(payload);
  expectCorrelation(r, V0_CORRELATION_ID);
  const errorCode = r.int16();
  const count = r.int32();
  if (count < 0 || count > 10000) throw new Error(`malformed api list (${count} entries)`);
  const apis: ApiVersionTable = {};
  for (let i = 0; i < count; i++) apis[r.int16()] = [r.int16(), r.int16()];
  return { errorCode, apis };
}

function decodeFeatures(payload: Buffer, finalized: boolean): FeatureTable {
  const r = new Reader(payload);
  const features: FeatureTable = {};
  for (let n = r.uvarint() - 1; n > 0; n--) {
    const name = r.compactString();
    const a = r.int16();
    const b = r.int16();
    r.skipTaggedFields();
    // SupportedFeatures is (min, max); FinalizedFeatures is (max level, min level).
    features[name] = finalized ? [b, a] : [a, b];
  }
  return features;
}

/** Parses a v3+ response payload: header v0, compact api array, throttle time, tagged feature tables. */
export function decodeApiVersionsV3Response(payload: Buffer): {
  errorCode: number;
  apis: ApiVersionTable;
  supportedFeatures: FeatureTable;
  finalizedFeatures: FeatureTable;
} {
  const r = new Reader(payload);
  expectCorrelation(r, V3_CORRELATION_ID);
  const errorCode = r.int16();
  const apis: ApiVersionTable = {};
  for (let n = r.uvarint() - 1; n > 0; n--) {
    const key = r.int16();
    apis[key] = [r.int16(), r.int16()];
    r.skipTaggedFields();
  }
  r.int32(); // throttle_time_ms
  let supportedFeatures: FeatureTable = {};
  let finalizedFeatures: FeatureTable = {};
  for (let n = r.uvarint(); n > 0; n--) {
    const tag = r.uvarint();
    const data = r.bytes(r.uvarint());
    if (tag === 0) supportedFeatures = decodeFeatures(data, false);
    if (tag === 2) finalizedFeatures = decodeFeatures(data, true);
  }
  return { errorCode, apis, supportedFeatures, finalizedFeatures };
}

// ---- the probe ----

interface RoundTripOptions {
  timeoutMs: number;
  tls?: boolean;
}

/** One connection, one request, one response frame handed to decode (which may throw). */
function roundTrip<T>(host: string, port: number, request: Buffer, decode: (payload: Buffer) => T, options: RoundTripOptions): Promise<T> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let connected = false;
    let received = Buffer.alloc(0);
    const socket: Socket = options.tls ? tlsConnect({ host, port, servername: /^[\d.:]+$/.test(host) ? undefined : host }) : tcpConnect({ host, port });
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    const fail = (stage: ProbeFailureStage, detail: string) => settle(() => reject(new ApiVersionsProbeError(host, port, stage, detail)));
    const timer = setTimeout(
      () => fail('timeout', connected ? `no ApiVersions response within ${options.timeoutMs} ms` : `no TCP connection within ${options.timeoutMs} ms`),
      options.timeoutMs,
    );
    socket.once(options.tls ? 'secureConnect' : 'connect', () => {
      connected = true;
      socket.write(request);
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const size = received.readInt32BE(0);
      if (size < 0 || size > MAX_FRAME_BYTES) {
        fail('protocol', `answered with a ${size}-byte frame: not a Kafka listener (or a TLS listener probed in plaintext)`);
        return;
      }
      if (received.length < 4 + size) return;
      try {
        const value = decode(received.subarray(4, 4 + size));
        settle(() => resolve(value));
      } catch (e) {
        fail('protocol', `not a valid ApiVersions response: ${(e as Error).message}`);
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      fail(connected ? 'closed' : 'connect', `${connected ? 'connection failed' : 'cannot connect'}: ${e.code ?? e.message}`);
    });
    socket.on('close', () => {
      // Brokers before 0.10.0 do not know ApiVersions and close the connection without an answer.
      fail(
        connected ? 'closed' : 'connect',
        connected ? 'closed the connection without answering ApiVersions (a broker before 0.10, or not Kafka)' : 'connection closed before it was established',
      );
    });
  });
}

/**
 * Connects to host:port and returns the broker's api table, plus its feature levels when it offers
 * ApiVersions v3. The v3 question goes over a second connection: a SASL listener accepts only one
 * ApiVersions before the SASL handshake, and v0 is the one every broker understands.
 */
export async function probeApiVersions(host: string, port: number, options: ApiVersionsProbeOptions = {}): Promise<ApiVersionsProbeResult> {
  const rt = { timeoutMs: options.timeoutMs ?? 5000, tls: options.tls };
  const clientId = options.clientId ?? 'kafka-migrate-probe';
  const started = Date.now();
  let v0;
  try {
    v0 = await roundTrip(host, port, encodeApiVersionsV0Request(clientId), decodeApiVersionsV0Response, rt);
  } catch (e) {
    // 0.9.0.1 leaves ApiVersions unanswered, older brokers close the connection: ask what 0.9 knows, on a new connection.
    if (!(e instanceof ApiVersionsProbeError) || (e.stage !== 'timeout' && e.stage !== 'closed')) throw e;
    const again = Date.now();
    const answered = await roundTrip(host, port, encodeListGroupsV0Request(clientId), decodeListGroupsV0Response, rt).catch(() => false);
    if (!answered) throw e;
    return { host, port, latencyMs: Date.now() - again, apis: { ...KAFKA_0_9_APIS }, preApiVersions: true };
  }
  if (v0.errorCode !== 0) throw new ApiVersionsProbeError(host, port, 'protocol', `ApiVersions answered with error code ${v0.errorCode}`);
  const result: ApiVersionsProbeResult = { host, port, latencyMs: Date.now() - started, apis: v0.apis };
  if ((v0.apis[API_VERSIONS_KEY]?.[1] ?? 0) >= 3) {
    // Feature levels only sharpen the version guess: a broker that will not give them still passed the probe.
    const v3 = await roundTrip(host, port, encodeApiVersionsV3Request(clientId), decodeApiVersionsV3Response, rt).catch(() => undefined);
    if (v3 && v3.errorCode === 0) {
      result.supportedFeatures = v3.supportedFeatures;
      result.finalizedFeatures = v3.finalizedFeatures;
    }
  }
  return result;
}

export { inferKafkaVersion, majorMinor, PRE_API_VERSIONS_GUESS, KAFKA_0_9_GUESS, KAFKA_RELEASES, type KafkaVersionGuess } from './kafkaVersion';
