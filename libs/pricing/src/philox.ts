/**
 * Philox4x32-10, the counter-based generator of J. K. Salmon, M. A. Moraes, R. O. Dror and
 * D. E. Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC'11 (Random123). A pure function
 * of a 128-bit counter and a 64-bit key, computed with exact 32-bit integer and double
 * arithmetic only (no BigInt), so results are identical on every platform.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

// Math functions bound once: global lookups are slow inside vm contexts (e.g. jest's sandbox).
const imul = Math.imul;
const floor = Math.floor;

/** High 32 bits of the 64-bit product of two uint32 values (all intermediate doubles are exact). */
function mulHi(a: number, b: number): number {
  const t = a * (b & 0xffff); // < 2^48
  const u = a * (b >>> 16); // < 2^48; a·b = u·2^16 + t
  return (floor(u / 65536) + floor(((u % 65536) * 65536 + t) / 4294967296)) >>> 0;
}

/** Writes Philox4x32-10(counter (c0..c3), key (k0, k1)) into out[0..3] as uint32 values. */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array | number[],
): void {
  c0 >>>= 0;
  c1 >>>= 0;
  c2 >>>= 0;
  c3 >>>= 0;
  k0 >>>= 0;
  k1 >>>= 0;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulHi(M0, c0);
    const lo0 = imul(M0, c0) >>> 0;
    const hi1 = mulHi(M1, c2);
    const lo1 = imul(M1, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}
