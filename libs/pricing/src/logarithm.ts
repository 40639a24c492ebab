/**
 * ln x for the pricers' hot loops, written in JavaScript so that the JIT inlines it: V8 compiles
 * Math.log into a call to a C routine (fdlibm's), and the call costs more than the logarithm's
 * arithmetic (every live floating-point register is spilled across it). The companion of `exp`.
 *
 * Method (table-driven, in the manner of P. T. P. Tang, "Table-driven implementation of the
 * logarithm function in IEEE floating-point arithmetic", ACM TOMS 16(4) (1990) 378–400, with the
 * reduction interval of the current glibc/ARM optimized-routines log): x = 2^k·z with z in
 * [OFF, 2·OFF), OFF = 0.70703125 ≈ 1/√2, so that k = 0 for every x near 1. That interval is split
 * into 256 parts by the top 8 bits of z's significand; part i has a tabulated c_i with 9
 * significant bits near 1/z (exactly 1 in the two parts that touch 1) and −ln c_i in two pieces
 * (head a multiple of 2^−43, tail the rest, together ~97 bits). Then
 *
 *   ln x = k·ln 2 − ln c_i + ln(1 + r),   r = z·c_i − 1, |r| < 2^−8,
 *
 * where r is computed without any rounding error: z = F + f with F = z rounded to a multiple of
 * 2^−10 (11 bits), so F·c_i (20 bits), F·c_i − 1 (near 0), f·c_i (≤ 53 bits) and their sum (a
 * multiple of 2^−61 below 2^−8) are all exact. k·ln2_hi plus the head of −ln c_i is exact too
 * (ln2_hi has 32 bits); that sum plus r is split into hi + lo exactly (Fast2Sum: the sum is 0 or
 * larger than |r|), and ln(1 + r) − r is its Taylor polynomial to r⁸ (truncation < 2^−72·|r|/9). Near 1
 * (c = 1, k = 0) the result is r plus a correction below 2^−9·|r|; elsewhere |result| > 2^−9 and
 * the pieces below hi are summed far below its last place. Error below 0.51 ulp, i.e. within one
 * ulp of Math.log (itself within one ulp), checked in the tests against it and against an
 * independent 220-bit evaluation. Zero, negative, subnormal, infinite and NaN arguments go to
 * Math.log, so the special values are Math.log's.
 *
 * The table is computed at load with integer (BigInt) arithmetic: c_i is 1/(midpoint of part i)
 * rounded to 9 bits, −ln c_i = 2·atanh((1 − c_i)/(1 + c_i)) summed as a series in 140-bit fixed
 * point, and ln 2 = 2·atanh(1/3) likewise.
 */

const mathLog = Math.log;

/** The high word of OFF = 0.70703125, the bottom of the reduction interval. */
const OFF = 0x3fe6a000;
/** Bits of the table index: 2^8 parts. */
const INDEX_BITS = 8;
const PARTS = 1 << INDEX_BITS;
/** Significant bits of each c_i. */
const C_BITS = 9;
/** 2^42: (z + SHIFT) − SHIFT rounds z in [0.5, 2) to a multiple of 2^−10. */
const SHIFT = 4398046511104;
/** Smallest positive normal double: below it (subnormals, 0, negatives) Math.log is used. */
const MIN_NORMAL = 2.2250738585072014e-308;
const MAX_VALUE = Number.MAX_VALUE;

/** Fixed-point scale of the load-time computations: 140 fractional bits. */
const FRACTION_BITS = 140n;
const ONE = 1n << FRACTION_BITS;

/** 2·atanh(n/d)·2^140 for |n/d| ≤ 1/3 (d > 0), i.e. ln((d + n)/(d − n)) in fixed point. */
function twiceAtanh(n: bigint, d: bigint): bigint {
  // atanh is odd: sum the series for |n| (shifts of negative BigInts round towards −∞ and
  // would never reach 0).
  if (n < 0n) return -twiceAtanh(-n, d);
  const y = (n * ONE) / d;
  const y2 = (y * y) >> FRACTION_BITS;
  let sum = 0n;
  let term = y;
  for (let m = 1n; term !== 0n; m += 2n) {
    sum += term / m;
    term = (term * y2) >> FRACTION_BITS;
  }
  return 2n * sum;
}

/** A fixed-point value (scale 2^140) as the nearest double. */
function fixedToNumber(v: bigint): number {
  // Number(bigint) rounds to nearest; the scaling by a power of two is exact.
  return Number(v) * 2 ** -Number(FRACTION_BITS);
}

/** v rounded to a multiple of 2^−bits, as a double (exact: |v| < 2^(53 − bits)). */
function fixedRoundedTo(v: bigint, bits: bigint): number {
  const shift = FRACTION_BITS - bits;
  const half = 1n << (shift - 1n);
  return Number((v + half) >> shift) * 2 ** -Number(bits);
}

const LN2_FIXED = twiceAtanh(1n, 3n); // ln 2 = 2·atanh(1/3)
/** ln 2 rounded to 32 bits (a multiple of 2^−32), so that k·LN2_HI is exact for |k| < 2^21. */
const LN2_HI = fixedRoundedTo(LN2_FIXED, 32n);
/** ln 2 − LN2_HI, rounded to nearest. */
const LN2_LO = fixedToNumber(LN2_FIXED - BigInt(LN2_HI * 2 ** 32) * (ONE >> 32n));

/** Index of the high (sign and exponent) 32-bit word of a double in an Int32Array view of it. */
const HIGH = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1 ? 1 : 0;

/** z from the high word h of a part boundary (low word 0). */
function fromHighWord(h: number): number {
  const bits = new Int32Array(2);
  const value = new Float64Array(bits.buffer);
  bits[HIGH] = h;
  bits[1 - HIGH] = 0;
  return value[0];
}

/** v (> 0) rounded to `C_BITS` significant bits. */
function roundToBits(v: number): number {
  const scale = 2 ** (C_BITS - 1 - Math.floor(Math.log2(v)));
  return Math.round(v * scale) / scale;
}

/**
 * Per part i: c_i at 3i, head of −ln c_i at 3i + 1 (a multiple of 2^−43), tail at 3i + 2. Exported
 * (as LOG_TABLE) for the tests, which check the conditions the exactness of the reduction rests on.
 */
const TABLE = buildTable();
export { TABLE as LOG_TABLE };

function buildTable(): Float64Array {
  const table = new Float64Array(3 * PARTS);
  const step = 1 << (20 - INDEX_BITS);
  for (let i = 0; i < PARTS; i++) {
    const lo = fromHighWord(OFF + i * step);
    const hi = fromHighWord(OFF + (i + 1) * step);
    const c = lo <= 1 && hi >= 1 ? 1 : roundToBits(2 / (lo + hi));
    // c = n/2^12 exactly (9 significant bits, none below 2^−9), so
    // −ln c = ln(2^12/n) = 2·atanh((2^12 − n)/(2^12 + n)).
    const n = BigInt(c * 4096);
    const minusLnC = twiceAtanh(4096n - n, 4096n + n);
    const head = fixedRoundedTo(minusLnC, 43n);
    // head·2^140 is an integer: head is a multiple of 2^−43 below 1.
    const headFixed = BigInt(head * 2 ** 43) << (FRACTION_BITS - 43n);
    table[3 * i] = c;
    table[3 * i + 1] = head;
    table[3 * i + 2] = fixedToNumber(minusLnC - headFixed);
  }
  return table;
}

/** 2^−k at k + 1022, k = −1022…1024 (2^−1023 and 2^−1024 subnormal, still exact). */
const SCALES = new Float64Array(2047);
for (let k = -1022; k <= 1024; k++) SCALES[k + 1022] = 2 ** -k;

/** Bit access to the argument: x stored as a double, read back as two 32-bit words. */
const argument = new Float64Array(1);
const words = new Int32Array(argument.buffer);

/** The natural logarithm; see the file comment. */
export function log(x: number): number {
  if (!(x >= MIN_NORMAL && x <= MAX_VALUE)) return mathLog(x);
  argument[0] = x;
  const tmp = words[HIGH] - OFF;
  const k = tmp >> 20;
  const i = 3 * ((tmp >> (20 - INDEX_BITS)) & (PARTS - 1));
  const z = x * SCALES[k + 1022];
  const table = TABLE;
  const c = table[i];
  const rounded = z + SHIFT - SHIFT;
  const r = rounded * c - 1 + (z - rounded) * c;
  const w = k * LN2_HI + table[i + 1];
  const hi = w + r;
  const lo = w - hi + r;
  const p =
    r *
    r *
    (-0.5 +
      r *
        (0.3333333333333333 +
          r * (-0.25 + r * (0.2 + r * (-0.16666666666666666 + r * (0.14285714285714285 + r * -0.125))))));
  return hi + (lo + (table[i + 2] + k * LN2_LO) + p);
}
