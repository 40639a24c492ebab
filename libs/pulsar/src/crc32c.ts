/**
 * CRC32-C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Pulsar's payload frames.
 * Slicing-by-8: eight 256-entry tables (one flat Int32Array, so that every value stays a 32-bit
 * integer for V8) let the main loop consume 8 bytes per iteration.
 */

const POLY = 0x82f63b78;

/** Table t (0..7) at offset 256·t: the CRC of byte n followed by t zero bytes. */
const T: Int32Array = (() => {
  const table = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    table[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = table[n];
    for (let t = 1; t < 8; t++) {
      c = table[c & 0xff] ^ (c >>> 8);
      table[t * 256 + n] = c;
    }
  }
  return table;
})();

/**
 * Extends a running CRC32-C (`crc`, the value returned for the preceding bytes; 0 to start) with
 * `data`. `crc32c(b, crc32c(a))` equals `crc32c(a ++ b)`.
 */
export function crc32c(data: Uint8Array, crc = 0): number {
  let c = ~crc;
  let i = 0;
  const n = data.length;
  const end8 = n - (n & 7);
  for (; i < end8; i += 8) {
    const lo = c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    c =
      T[1792 + (lo & 0xff)] ^
      T[1536 + ((lo >>> 8) & 0xff)] ^
      T[1280 + ((lo >>> 16) & 0xff)] ^
      T[1024 + (lo >>> 24)] ^
      T[768 + data[i + 4]] ^
      T[512 + data[i + 5]] ^
      T[256 + data[i + 6]] ^
      T[data[i + 7]];
  }
  for (; i < n; i++) c = T[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
