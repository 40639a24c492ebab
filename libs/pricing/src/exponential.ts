/**
 * e^x for the pricers' hot loops, written in JavaScript so that the JIT inlines it: V8 compiles
 * Math.exp into a call to a C routine, which costs about as much as the arithmetic of a
 * Black–Scholes price around it (every live floating-point register is spilled across the call).
 *
 * Method (P. T. P. Tang, "Table-driven implementation of the exponential function in IEEE
 * floating-point arithmetic", ACM TOMS 15(2) (1989) 144–157): x = (64m + j)·ln2/64 + r with
 * |r| ≤ ln2/128, e^x = 2^m · 2^{j/64} · e^r, 2^{j/64} tabulated as a head and a tail (together ~120
 * bits, computed exactly at load with integer arithmetic), e^r − 1 by its Taylor polynomial to r⁶
 * (truncation error < 3e-20). Error below 0.51 ulp, i.e. within one ulp of Math.exp (itself
 * within one ulp), checked against it in the tests. Outside (−708, 709) — where e^x is subnormal,
 * overflows or x is NaN — Math.exp is returned, so the special values are Math.exp's.
 */

// ln2/64 in two parts: the head has 32 significant bits (so k·head is exact for |k| < 2^21), the
// tail completes it to ~85 bits (fdlibm's ln2_hi, ln2_lo, divided by 64).
const LN2_64_HI = 0.6931471803691238 / 64;
const LN2_64_LO = 1.9082149292705877e-10 / 64;
const INV_LN2_64 = 64 / Math.LN2;
/** 1.5·2^52: adding and subtracting it rounds a double of magnitude < 2^51 to an integer. */
const ROUND_SHIFT = 6755399441055744;
const POWER_OFFSET = 1022;

/** 2^{j/64} as head (at 2j) and tail (at 2j + 1), j = 0…63. */
const TABLE = twoToSixtyFourths();
/** 2^m for m = −1022…1023, exact. */
const POWERS_OF_TWO = new Float64Array(2 * POWER_OFFSET + 2);
for (let m = -POWER_OFFSET; m <= POWER_OFFSET + 1; m++) POWERS_OF_TWO[m + POWER_OFFSET] = 2 ** m;

/**
 * 2^{j/64}, j = 0…63, as head + tail (interleaved): head is the double nearest to it, tail the
 * double nearest to the rest. Each value is the integer 64th root of 2^{64·B + j} (Newton's method on BigInts,
 * B = 120 fractional bits), so both parts are exact to the last bit.
 */
function twoToSixtyFourths(): Float64Array {
  const B = 120n;
  const table = new Float64Array(128);
  const scale = 2 ** -120;
  for (let j = 0; j < 64; j++) {
    const a = 1n << (64n * B + BigInt(j));
    // Start above the root (the double estimate plus a margin); Newton then decreases to floor(root).
    let x = (BigInt(Math.ceil(2 ** (j / 64) * 2 ** 52)) + 2n) << (B - 52n);
    for (;;) {
      const next = (63n * x + a / x ** 63n) / 64n;
      if (next >= x) break;
      x = next;
    }
    const h = Number(x) * scale; // Number(bigint) rounds to nearest
    table[2 * j] = h;
    table[2 * j + 1] = Number(x - BigInt(h / scale)) * scale;
  }
  return table;
}

const mathExp = Math.exp;

/** e^x; see the file comment. */
export function exp(x: number): number {
  if (!(x > -708 && x < 709)) return mathExp(x);
  const kd = x * INV_LN2_64 + ROUND_SHIFT - ROUND_SHIFT;
  const r = x - kd * LN2_64_HI - kd * LN2_64_LO;
  const k = kd | 0;
  const j = k & 63;
  const p =
    r +
    r *
      r *
      (0.5 +
        r *
          (0.16666666666666666 +
            r * (0.041666666666666664 + r * (0.008333333333333333 + r * 0.001388888888888889))));
  const table = TABLE;
  const t = table[2 * j];
  return (t + (table[2 * j + 1] + t * p)) * POWERS_OF_TWO[(k >> 6) + POWER_OFFSET];
}
