/**
 * A bounds-checked reader over a byte range, with the fixed-width and variable-length integers of the Kafka
 * protocol and record formats. Every read past `end` throws (a truncated or mis-sized structure is an error,
 * never garbage). Part of the verification decoder (src/verify/independent): shares no code with the copy
 * engine's decoder (src/copy/recordBatchCodec.ts).
 */

export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** Kafka varints are at most 5 bytes (int32), varlongs at most 10 (int64). */
const MAX_VARINT_BYTES = 5;
const MAX_VARLONG_BYTES = 10;
/** Up to 7 bytes (49 bits) a varlong fits a double exactly: no BigInt needed. */
const FAST_VARLONG_BYTES = 7;

export class ByteCursor {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
    /** Names the structure in errors, e.g. "record batch at offset 42". */
    readonly what = 'data',
  ) {
    if (start < 0 || end > buf.length || start > end) throw new DecodeError(`${what}: range [${start}, ${end}) outside a ${buf.length}-byte buffer`);
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, field: string): number {
    if (n < 0 || this.pos + n > this.end) {
      throw new DecodeError(`${this.what}: ${field} needs ${n} byte(s) at byte ${this.pos} but only ${this.end - this.pos} remain`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  int8(field = 'int8'): number {
    return this.buf.readInt8(this.need(1, field));
  }

  int16(field = 'int16'): number {
    return this.buf.readInt16BE(this.need(2, field));
  }

  int32(field = 'int32'): number {
    return this.buf.readInt32BE(this.need(4, field));
  }

  uint32(field = 'uint32'): number {
    return this.buf.readUInt32BE(this.need(4, field));
  }

  /** An int64 as a number; values beyond 2^53 (never offsets, ids or timestamps in practice) are refused. */
  int64(field = 'int64'): number {
    const v = this.buf.readBigInt64BE(this.need(8, field));
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new DecodeError(`${this.what}: ${field} ${v} does not fit a JavaScript number exactly`);
    }
    return Number(v);
  }

  /** `n` raw bytes, as a slice of the buffer (no copy). */
  take(n: number, field = 'bytes'): Buffer {
    const at = this.need(n, field);
    return this.buf.subarray(at, at + n);
  }

  /** A protocol STRING: int16 length, UTF-8; -1 is null. */
  string(field = 'string'): string | null {
    const len = this.int16(`${field} length`);
    if (len === -1) return null;
    if (len < -1) throw new DecodeError(`${this.what}: ${field} has negative length ${len}`);
    return this.take(len, field).toString('utf8');
  }

  /** A zig-zag varint (signed int32), as record fields use them. */
  varint(field = 'varint'): number {
    let raw = 0;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.buf[this.need(1, field)];
      raw += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) {
        if (raw > 0xffffffff) throw new DecodeError(`${this.what}: ${field} varint overflows 32 bits at byte ${this.pos - i - 1}`);
        return zigzag32(raw);
      }
    }
    throw new DecodeError(`${this.what}: ${field} varint longer than ${MAX_VARINT_BYTES} bytes at byte ${this.pos - MAX_VARINT_BYTES}`);
  }

  /** A zig-zag varlong (signed int64) as a number; refused beyond 2^53. */
  varlong(field = 'varlong'): number {
    const start = this.pos;
    let raw = 0;
    for (let i = 0; i < FAST_VARLONG_BYTES; i++) {
      const b = this.buf[this.need(1, field)];
      raw += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    }
    // Long form: start again exactly, in 64-bit arithmetic.
    this.pos = start;
    let big = 0n;
    for (let i = 0; i < MAX_VARLONG_BYTES; i++) {
      const b = this.buf[this.need(1, field)];
      big |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) {
        const v = BigInt.asIntN(64, (BigInt.asUintN(64, big) >> 1n) ^ -(big & 1n));
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
          throw new DecodeError(`${this.what}: ${field} ${v} does not fit a JavaScript number exactly`);
        }
        return Number(v);
      }
    }
    throw new DecodeError(`${this.what}: ${field} varlong longer than ${MAX_VARLONG_BYTES} bytes at byte ${start}`);
  }

  /** Varint-length-prefixed bytes (record key, value, header key/value): -1 is null, other negatives are errors. */
  varBytes(field = 'bytes'): Buffer | null {
    const len = this.varint(`${field} length`);
    if (len === -1) return null;
    if (len < -1) throw new DecodeError(`${this.what}: ${field} has negative length ${len}`);
    return this.take(len, field);
  }
}

/** Zig-zag decoding of an unsigned 32-bit value: 0 → 0, 1 → -1, 2 → 1, 3 → -2, ... */
function zigzag32(raw: number): number {
  return (raw >>> 1) ^ -(raw & 1);
}
