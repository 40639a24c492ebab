'use strict';
// Black–Scholes data for the tuning script: own pricing formula, own scrambled Sobol sequence.

/** Standard normal CDF to ~1e-14 (Hart's double-precision rational approximation, as given by G. West, 2005). */
function normCdf(x) {
  const a = Math.abs(x);
  let c;
  if (a > 37) c = 0;
  else {
    const e = Math.exp((-a * a) / 2);
    if (a < 7.07106781186547) {
      let b = 3.52624965998911e-2 * a + 0.700383064443688;
      b = b * a + 6.37396220353165;
      b = b * a + 33.912866078383;
      b = b * a + 112.079291497871;
      b = b * a + 221.213596169931;
      b = b * a + 220.206867912376;
      c = e * b;
      b = 8.83883476483184e-2 * a + 1.75566716318264;
      b = b * a + 16.064177579207;
      b = b * a + 86.7807322029461;
      b = b * a + 296.564248779674;
      b = b * a + 637.333633378831;
      b = b * a + 793.826512519948;
      b = b * a + 440.413735824752;
      c /= b;
    } else {
      let b = a + 0.65;
      b = a + 4 / b;
      b = a + 3 / b;
      b = a + 2 / b;
      b = a + 1 / b;
      c = e / b / 2.506628274631;
    }
  }
  return x > 0 ? 1 - c : c;
}

/** European call, continuous dividend yield q. */
function bsCall(S, K, sigma, r, T, q = 0) {
  const sq = sigma * Math.sqrt(T);
  const d1 = (Math.log(S / K) + (r - q + 0.5 * sigma * sigma) * T) / sq;
  const d2 = d1 - sq;
  return S * Math.exp(-q * T) * normCdf(d1) - K * Math.exp(-r * T) * normCdf(d2);
}

// Sobol direction numbers (Joe & Kuo) for dimensions 2..4; dimension 1 is van der Corput.
const SOBOL_PARAMS = [
  { s: 1, a: 0, m: [1] },
  { s: 2, a: 1, m: [1, 3] },
  { s: 3, a: 1, m: [1, 3, 1] },
];

function directionNumbers(dims) {
  const V = [];
  const first = new Uint32Array(33);
  for (let i = 1; i <= 32; i++) first[i] = (1 << (32 - i)) >>> 0;
  V.push(first);
  for (let d = 1; d < dims; d++) {
    const { s, a, m } = SOBOL_PARAMS[d - 1];
    const v = new Uint32Array(33);
    for (let i = 1; i <= s; i++) v[i] = (m[i - 1] << (32 - i)) >>> 0;
    for (let i = s + 1; i <= 32; i++) {
      let x = (v[i - s] ^ (v[i - s] >>> s)) >>> 0;
      for (let k = 1; k < s; k++) if ((a >>> (s - 1 - k)) & 1) x = (x ^ v[i - k]) >>> 0;
      v[i] = x;
    }
    V.push(v);
  }
  return V;
}

/** n points of a digitally shifted (scrambled) Sobol sequence in [0,1)^dims, row-major. */
function sobol(n, dims, rng) {
  if (dims > 4) throw new Error('only 4 dimensions');
  const V = directionNumbers(dims);
  const shift = Array.from({ length: dims }, () => rng.nextU32());
  const x = new Uint32Array(dims);
  const out = new Float64Array(n * dims);
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      let c = 1;
      let k = i - 1;
      while (k & 1) {
        k >>>= 1;
        c++;
      }
      for (let d = 0; d < dims; d++) x[d] = (x[d] ^ V[d][c]) >>> 0;
    }
    for (let d = 0; d < dims; d++) out[i * dims + d] = (((x[d] ^ shift[d]) >>> 0) + 0.5) / 4294967296;
  }
  return out;
}

const BOX = { min: [80, 0.1, 0, 0.1], max: [120, 0.5, 0.08, 2.0] }; // spot, vol, rate, maturity
const STRIKE = 100;

/** Rows (spot, vol, rate, maturity) → call price, as float32 arrays. */
function makeData(unit, n) {
  const inputs = new Float32Array(n * 4);
  const outputs = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < 4; d++) inputs[i * 4 + d] = BOX.min[d] + unit[i * 4 + d] * (BOX.max[d] - BOX.min[d]);
    // price the float32-rounded inputs, so that the data is exact for what the network sees
    outputs[i] = bsCall(inputs[i * 4], STRIKE, inputs[i * 4 + 1], inputs[i * 4 + 2], inputs[i * 4 + 3]);
  }
  return { inputs, outputs, count: n };
}

module.exports = { normCdf, bsCall, sobol, makeData, BOX, STRIKE };
