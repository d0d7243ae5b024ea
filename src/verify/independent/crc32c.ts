/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of record batches v2, computed one byte
 * at a time from a 256-entry table. Written apart from the copy engine's (src/copy/crc32c.ts) on purpose: the
 * verification decoder checks every batch it reads with its own code.
 */
const POLY = 0x82f63b78;

const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = (c >>> 1) ^ (c & 1 ? POLY : 0);
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32cOf(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let c = ~0;
  for (let i = from; i < to; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
