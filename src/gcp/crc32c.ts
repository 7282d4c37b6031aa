/**
 * CRC32C (Castagnoli), the checksum Secret Manager sends as `payload.dataCrc32c`. Node's `zlib.crc32` is
 * plain CRC-32 (IEEE polynomial) and gives different values, so it cannot verify these.
 */
const POLY = 0x82f63b78; // 0x1EDC6F41 bit-reversed: CRC32C is computed LSB-first.

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The CRC32C of `data` as an unsigned 32-bit number; pass `previous` to continue over several chunks. */
export function crc32c(data: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0;
  for (const byte of data) crc = (TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return ~crc >>> 0;
}
