import { LOG_TABLE, log } from './logarithm';

// Bit-level views of doubles (the test does its own decomposition, independent of logarithm.ts).
const scratch = new DataView(new ArrayBuffer(8));

function bitsOf(x: number): bigint {
  scratch.setFloat64(0, x);
  return scratch.getBigUint64(0);
}

function fromBits(b: bigint): number {
  scratch.setBigUint64(0, b);
  return scratch.getFloat64(0);
}

/** The distance in units in the last place between two finite doubles of the same sign. */
function ulps(a: number, b: number): number {
  const d = bitsOf(a) - bitsOf(b);
  return Number(d < 0n ? -d : d);
}

/** x as mantissa·2^exponent exactly (x finite, non-zero); the mantissa is signed. */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  const b = bitsOf(Math.abs(x));
  const biased = Number(b >> 52n);
  const fraction = b & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  return { mantissa: x < 0 ? -mantissa : mantissa, exponent: (biased === 0 ? 1 : biased) - 1075 };
}

// An independent reference: ln x to ~220 bits in fixed point (integers scaled by 2^220), from
// ln x = e·ln 2 + ln u, u = mantissa/2^52 in [1, 2), ln u = 2·atanh((u − 1)/(u + 1)) (|.| ≤ 1/3),
// and ln 2 = Σ 1/(k·2^k) (the series of −ln(1 − 1/2)) — a different series from the table's.
const BITS = 220n;
const UNIT = 1n << BITS;
const LN2 = (() => {
  let sum = 0n;
  for (let k = 1n; k <= 240n; k++) sum += UNIT / (k << k);
  return sum;
})();

function lnFixed(x: number): bigint {
  const { mantissa, exponent } = decompose(x);
  let m = mantissa;
  let e = BigInt(exponent);
  while (m < 1n << 52n) {
    m <<= 1n;
    e -= 1n;
  }
  e += 52n; // x = (m/2^52)·2^e with m/2^52 in [1, 2)
  const top = 1n << 52n;
  const y = ((m - top) * UNIT) / (m + top);
  const y2 = (y * y) >> BITS;
  let sum = 0n;
  let term = y;
  for (let k = 1n; term !== 0n; k += 2n) {
    sum += term / k;
    term = (term * y2) >> BITS;
  }
  return 2n * sum + e * LN2;
}

/** |value − exact| in units of the last place of the exact value (exact in fixed point, ≠ 0). */
function errorInUlps(value: number, exact: bigint): number {
  const magnitude = exact < 0n ? -exact : exact;
  const top = magnitude.toString(2).length - 1 - Number(BITS); // floor(log2 |exact|)
  const { mantissa, exponent } = decompose(value);
  const shift = BigInt(exponent) + BITS;
  const fixed = shift >= 0n ? mantissa << shift : mantissa >> -shift;
  const diff = fixed - exact;
  // ulp = 2^(top − 52), i.e. 2^(top − 52 + 220) in fixed point.
  const ulpShift = BigInt(top - 52) + BITS;
  return Number(((diff < 0n ? -diff : diff) * 1000000n) / (1n << ulpShift)) / 1e6;
}

/** A deterministic stream of uniforms in [0, 1) (Lehmer / MINSTD). */
function uniforms(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 48271) % 2147483647;
    return state / 2147483647;
  };
}

const MIN_NORMAL = 2.2250738585072014e-308;

describe('log (table-driven, inlinable)', () => {
  it('is within one ulp of Math.log (itself within one ulp) over the whole normal range', () => {
    const u = uniforms(4242);
    let worst = 0;
    let differing = 0;
    const n = 300_000;
    for (let i = 0; i < n; i++) {
      let x: number;
      if (i % 3 === 0)
        x = (1 + u()) * 2 ** Math.floor(u() * 2046 - 1022); // any exponent
      else if (i % 3 === 1)
        x = 0.5 + u() * 1.5; // around 1
      else x = 1 + (u() - 0.5) * 2 ** -Math.floor(u() * 52); // very close to 1
      const d = ulps(log(x), Math.log(x));
      worst = Math.max(worst, d);
      if (d !== 0) differing++;
    }
    expect(worst).toBeLessThanOrEqual(1);
    // They differ in a few percent of the points: Math.log (fdlibm) is off by up to ~0.8 ulp, this
    // log by at most ~0.5 (the next test). Not everywhere, though.
    expect(differing / n).toBeLessThan(0.1);
  });

  it('is within 0.51 ulp of the exact value (an independent 220-bit evaluation)', () => {
    const u = uniforms(777);
    const points: number[] = [];
    for (let i = 0; i < 3000; i++) points.push((1 + u()) * 2 ** Math.floor(u() * 2046 - 1022));
    for (let i = 0; i < 4000; i++) points.push(0.6 + u() * 0.9);
    for (let i = 0; i < 2000; i++) points.push(1 + (u() - 0.5) * 2 ** -Math.floor(u() * 52));
    // The edges of every part of the table, and of the reduction interval, and their neighbours.
    for (let i = 0; i <= 256; i++) {
      const edge = fromBits(BigInt(0x3fe6a000 + i * 4096) << 32n);
      points.push(edge, fromBits(bitsOf(edge) - 1n), fromBits(bitsOf(edge) + 1n));
    }
    points.push(1 - 2 ** -53, 1 + 2 ** -52, MIN_NORMAL, Number.MAX_VALUE, Math.E, 10, 0.1);
    let worst = 0;
    for (const x of points) {
      if (x === 1) continue;
      const e = errorInUlps(log(x), lnFixed(x));
      worst = Math.max(worst, e);
    }
    expect(worst).toBeLessThanOrEqual(0.51);
    // The reference itself agrees with Math.log to within an ulp (a check on the check).
    for (const x of [0.1, 0.75, 1.5, 2, Math.E, 1e-300, 1e300]) {
      expect(errorInUlps(Math.log(x), lnFixed(x))).toBeLessThanOrEqual(1);
    }
  });

  it('gives k·ln 2 for exact powers of two, and 0 at 1', () => {
    expect(Object.is(log(1), 0)).toBe(true);
    let worst = 0;
    for (let k = -1022; k <= 1023; k++) {
      const x = 2 ** k;
      expect(ulps(log(x), Math.log(x))).toBeLessThanOrEqual(1);
      if (k !== 0) worst = Math.max(worst, errorInUlps(log(x), lnFixed(x)));
    }
    expect(worst).toBeLessThanOrEqual(0.51);
  });

  it('hands zero, negative, subnormal, infinite and NaN arguments to Math.log', () => {
    const special = [
      0,
      -0,
      -1,
      -MIN_NORMAL,
      -Infinity,
      Infinity,
      NaN,
      5e-324,
      1e-310,
      MIN_NORMAL * (1 - 2 ** -52),
    ];
    for (const x of special) expect(Object.is(log(x), Math.log(x))).toBe(true);
    expect(log(0)).toBe(-Infinity);
    expect(log(Infinity)).toBe(Infinity);
    expect(log(-1)).toBeNaN();
    // The extremes of the normal range go through the table and stay within an ulp.
    expect(ulps(log(MIN_NORMAL), Math.log(MIN_NORMAL))).toBeLessThanOrEqual(1);
    expect(ulps(log(Number.MAX_VALUE), Math.log(Number.MAX_VALUE))).toBeLessThanOrEqual(1);
  });

  it('is monotone across the parts of its table', () => {
    let previous = -Infinity;
    for (let x = 0.35; x <= 3; x += 1 / 4096) {
      const y = log(x);
      expect(y).toBeGreaterThan(previous);
      previous = y;
    }
  });

  it("has a table meeting the reduction's exactness conditions", () => {
    expect(LOG_TABLE.length).toBe(3 * 256);
    for (let i = 0; i < 256; i++) {
      const c = LOG_TABLE[3 * i];
      const head = LOG_TABLE[3 * i + 1];
      // c has at most 9 significant bits; head is a multiple of 2^−43.
      const { mantissa } = decompose(c);
      expect(mantissa % (1n << 44n)).toBe(0n);
      expect(Number.isInteger(head * 2 ** 43)).toBe(true);
      // Over the part, r = z·c − 1 stays below 2^−8 (computed exactly at both ends: it is
      // monotone in z), and |head| exceeds |r| unless c = 1 (the Fast2Sum condition).
      const first = fromBits(BigInt(0x3fe6a000 + i * 4096) << 32n);
      const last = fromBits((BigInt(0x3fe6a000 + (i + 1) * 4096) << 32n) - 1n);
      let largest = 0;
      for (const z of [first, last]) {
        const zd = decompose(z);
        const cd = decompose(c);
        // z·c − 1 = (zm·cm·2^(ze + ce) − 1), both as exact rationals over 2^-(ze + ce).
        const scale = -(zd.exponent + cd.exponent);
        const numerator = zd.mantissa * cd.mantissa - (1n << BigInt(scale));
        const r = Number(numerator) * 2 ** -scale;
        largest = Math.max(largest, Math.abs(r));
      }
      expect(largest).toBeLessThan(2 ** -8);
      if (c !== 1) expect(Math.abs(head)).toBeGreaterThan(largest);
      // −ln c to the table's precision (head + tail within 2^−95 of the 220-bit value).
      const exact = -lnFixed(c);
      const stored = BigInt(head * 2 ** 43) << (BITS - 43n);
      const tail = LOG_TABLE[3 * i + 2];
      const rest = exact - stored;
      expect(Math.abs(Number(rest) * 2 ** -Number(BITS) - tail)).toBeLessThan(2 ** -95);
    }
  });
});
