/**
 * CRC32-C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Pulsar's payload frames.
 * Slicing-by-16: sixteen 256-entry tables (one flat Int32Array, so that every value stays a 32-bit
 * integer for V8) let the main loop consume 16 bytes per iteration, read as four aligned
 * little-endian 32-bit words. Short inputs, unaligned edges and big-endian hosts go byte by byte.
 */
import * as os from 'node:os';

const POLY = 0x82f63b78;
const LITTLE_ENDIAN = os.endianness() === 'LE';
/** Below this many bytes the word loop's setup costs more than it saves. */
const WORD_LOOP_MIN = 64;

/** Table t (0..15) at offset 256·t: the CRC of byte n followed by t zero bytes. */
const T: Int32Array = (() => {
  const table = new Int32Array(16 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    table[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = table[n];
    for (let t = 1; t < 16; t++) {
      c = table[c & 0xff] ^ (c >>> 8);
      table[t * 256 + n] = c;
    }
  }
  return table;
})();

function bytes(data: Uint8Array, c: number, from: number, to: number): number {
  for (let i = from; i < to; i++) c = T[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return c;
}

/**
 * Extends a running CRC32-C (`crc`, the value returned for the preceding bytes; 0 to start) with
 * `data`. `crc32c(b, crc32c(a))` equals `crc32c(a ++ b)`.
 */
export function crc32c(data: Uint8Array, crc = 0): number {
  const n = data.length;
  let c = ~crc;
  if (n < WORD_LOOP_MIN || !LITTLE_ENDIAN) return ~bytes(data, c, 0, n) >>> 0;
  const lead = (4 - (data.byteOffset & 3)) & 3;
  c = bytes(data, c, 0, lead);
  const blocks = (n - lead) >>> 4;
  const words = new Int32Array(data.buffer, data.byteOffset + lead, blocks * 4);
  for (let k = 0; k < words.length; k += 4) {
    const a = c ^ words[k];
    const b = words[k + 1];
    const d = words[k + 2];
    const e = words[k + 3];
    c =
      T[3840 + (a & 0xff)] ^
      T[3584 + ((a >>> 8) & 0xff)] ^
      T[3328 + ((a >>> 16) & 0xff)] ^
      T[3072 + (a >>> 24)] ^
      T[2816 + (b & 0xff)] ^
      T[2560 + ((b >>> 8) & 0xff)] ^
      T[2304 + ((b >>> 16) & 0xff)] ^
      T[2048 + (b >>> 24)] ^
      T[1792 + (d & 0xff)] ^
      T[1536 + ((d >>> 8) & 0xff)] ^
      T[1280 + ((d >>> 16) & 0xff)] ^
      T[1024 + (d >>> 24)] ^
      T[768 + (e & 0xff)] ^
      T[512 + ((e >>> 8) & 0xff)] ^
      T[256 + ((e >>> 16) & 0xff)] ^
      T[e >>> 24];
  }
  return ~bytes(data, c, lead + blocks * 16, n) >>> 0;
}
