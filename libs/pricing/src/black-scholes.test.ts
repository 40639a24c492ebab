import { exp } from './exponential';
import {
  PricingError,
  UniformSampler,
  blackScholes,
  blackScholesPricer,
  chunkInputs,
  getPricer,
  normCdf,
  normPdf,
  priceColumns,
  type BlackScholesInputs,
} from './index';
import { log } from './logarithm';

type Greek = 'price' | 'delta' | 'gamma' | 'vega' | 'theta' | 'rho';
const GREEKS: Greek[] = ['price', 'delta', 'gamma', 'vega', 'theta', 'rho'];

function bs(
  spot: number,
  strike: number,
  rate: number,
  dividend: number,
  volatility: number,
  maturity: number,
  type: 'call' | 'put',
) {
  return blackScholes({ spot, strike, rate, dividend, volatility, maturity, type });
}

describe('blackScholes — published examples', () => {
  // J. C. Hull, Options, Futures, and Other Derivatives (8th ed.), Example 15.6:
  // S0 = 42, K = 40, r = 10%, σ = 20%, T = 0.5 → c = 4.76, p = 0.81.
  it('Hull Example 15.6', () => {
    expect(bs(42, 40, 0.1, 0, 0.2, 0.5, 'call').price).toBeCloseTo(4.76, 2);
    expect(bs(42, 40, 0.1, 0, 0.2, 0.5, 'put').price).toBeCloseTo(0.81, 2);
  });

  // Hull (8th ed.), chapter "The Greek Letters": call with S0 = 49, K = 50, r = 5%, σ = 20%,
  // T = 20 weeks = 0.3846: value 2.40 (per option), delta 0.522, gamma 0.066, vega 12.1 per unit σ
  // (0.121 per 1%), theta −4.31 per year, rho 8.91 per unit r (0.0891 per 1%).
  it("Hull's greek-letters example", () => {
    const r = bs(49, 50, 0.05, 0, 0.2, 0.3846, 'call');
    expect(r.price).toBeCloseTo(2.4, 2);
    expect(r.delta).toBeCloseTo(0.522, 3);
    expect(r.gamma).toBeCloseTo(0.066, 3);
    expect(r.vega).toBeCloseTo(12.1, 1);
    expect(r.theta).toBeCloseTo(-4.31, 2);
    expect(r.rho).toBeCloseTo(8.91, 2);
  });

  // E. G. Haug, The Complete Guide to Option Pricing Formulas (2nd ed., 2007), worked examples of
  // the generalized Black–Scholes–Merton formula and its greeks (cost of carry b = r − q).
  it("Haug's generalized BSM examples", () => {
    // Merton (1973): S = 100, K = 95, T = 0.5, r = 10%, q = 5%, σ = 20% → put 2.4648
    expect(bs(100, 95, 0.1, 0.05, 0.2, 0.5, 'put').price).toBeCloseTo(2.4648, 4);
    // Generalized BSM: S = 75, K = 70, T = 0.5, r = 10%, b = 5%, σ = 35% → put 4.0870
    expect(bs(75, 70, 0.1, 0.05, 0.35, 0.5, 'put').price).toBeCloseTo(4.087, 4);
    // Delta: S = 105, K = 100, T = 0.5, r = 10%, b = 0, σ = 36% → call 0.5946, put −0.3566
    expect(bs(105, 100, 0.1, 0.1, 0.36, 0.5, 'call').delta).toBeCloseTo(0.5946, 4);
    expect(bs(105, 100, 0.1, 0.1, 0.36, 0.5, 'put').delta).toBeCloseTo(-0.3566, 4);
    // Gamma: S = 55, K = 60, T = 0.75, r = 10%, b = 10%, σ = 30% → 0.0278
    expect(bs(55, 60, 0.1, 0, 0.3, 0.75, 'call').gamma).toBeCloseTo(0.0278, 4);
    // Theta: S = 430, K = 405, T = 0.0833, r = 7%, b = 2%, σ = 20% → put −31.1924 per year
    expect(bs(430, 405, 0.07, 0.05, 0.2, 0.0833, 'put').theta).toBeCloseTo(-31.1924, 4);
    // Rho: S = 72, K = 75, T = 1, r = 9%, b = 9%, σ = 19% → call 38.7325
    expect(bs(72, 75, 0.09, 0, 0.19, 1, 'call').rho).toBeCloseTo(38.7325, 4);
  });
});

describe('blackScholes — high-precision reference values', () => {
  // Computed independently with mpmath (Python, 40 significant digits) at the exact double inputs:
  // the price from the closed form, every greek by mpmath.diff numerical differentiation of that
  // price (theta = −∂V/∂T), rounded to the nearest double.
  const cases: (BlackScholesInputs & { expected: Record<Greek, number> })[] = [
    {
      spot: 100,
      strike: 100,
      rate: 0.05,
      dividend: 0.0,
      volatility: 0.2,
      maturity: 1.0,
      type: 'call',
      expected: {
        price: 10.450583572185566,
        delta: 0.6368306511756191,
        gamma: 0.01876201734584689,
        vega: 37.524034691693785,
        theta: -6.414027546438196,
        rho: 53.23248154537634,
      },
    },
    {
      spot: 100,
      strike: 100,
      rate: 0.05,
      dividend: 0.0,
      volatility: 0.2,
      maturity: 1.0,
      type: 'put',
      expected: {
        price: 5.573526022256968,
        delta: -0.36316934882438096,
        gamma: 0.01876201734584689,
        vega: 37.524034691693785,
        theta: -1.6578804239346259,
        rho: -41.89046090469506,
      },
    },
    {
      spot: 100,
      strike: 100,
      rate: 0.05,
      dividend: 0.02,
      volatility: 0.2,
      maturity: 1.0,
      type: 'call',
      expected: {
        price: 9.227005508154049,
        delta: 0.586851146134764,
        gamma: 0.018950578755008714,
        vega: 37.90115751001743,
        theta: -5.089318913998333,
        rho: 49.45810910532235,
      },
    },
    {
      spot: 100,
      strike: 100,
      rate: 0.05,
      dividend: 0.02,
      volatility: 0.2,
      maturity: 1.0,
      type: 'put',
      expected: {
        price: 6.330080627549918,
        delta: -0.3933475271719913,
        gamma: 0.018950578755008714,
        vega: 37.90115751001743,
        theta: -2.293569138108273,
        rho: -45.66483334474905,
      },
    },
    {
      spot: 42,
      strike: 40,
      rate: 0.1,
      dividend: 0.0,
      volatility: 0.2,
      maturity: 0.5,
      type: 'call',
      expected: {
        price: 4.759422392871533,
        delta: 0.779131290942669,
        gamma: 0.04996267040591185,
        vega: 8.813415059602852,
        theta: -4.559092194592627,
        rho: 13.982045913360281,
      },
    },
    {
      spot: 42,
      strike: 40,
      rate: 0.1,
      dividend: 0.0,
      volatility: 0.2,
      maturity: 0.5,
      type: 'put',
      expected: {
        price: 0.8085993729000936,
        delta: -0.22086870905733105,
        gamma: 0.04996267040591185,
        vega: 8.813415059602852,
        theta: -0.7541744965897705,
        rho: -5.042542576653999,
      },
    },
    {
      spot: 100,
      strike: 150,
      rate: 0.03,
      dividend: 0.01,
      volatility: 0.25,
      maturity: 0.25,
      type: 'call',
      expected: {
        price: 0.002778397854074085,
        delta: 0.0008391250705799117,
        gamma: 0.0002292261611611543,
        vega: 0.14326635072572144,
        theta: -0.07322807356839832,
        rho: 0.020283527300979272,
      },
    },
    {
      spot: 100,
      strike: 150,
      rate: 0.03,
      dividend: 0.01,
      volatility: 0.25,
      maturity: 0.25,
      type: 'put',
      expected: {
        price: 49.13167438097883,
        delta: -0.9966639973268802,
        gamma: 0.0002292261611611543,
        vega: 0.14326635072572144,
        theta: 3.3956450507202645,
        rho: -37.19951852841671,
      },
    },
    {
      spot: 100,
      strike: 50,
      rate: 0.03,
      dividend: 0.01,
      volatility: 0.25,
      maturity: 0.25,
      type: 'call',
      expected: {
        price: 50.123909516113855,
        delta: 0.9975031142862664,
        gamma: 3.773369621220385e-9,
        vega: 2.3583560132627405e-6,
        theta: -0.4912901222671236,
        rho: 12.406600478128196,
      },
    },
    {
      spot: 100,
      strike: 50,
      rate: 0.03,
      dividend: 0.01,
      volatility: 0.25,
      maturity: 0.25,
      type: 'put',
      expected: {
        price: 1.7324766477467413e-8,
        delta: -8.111193734642552e-9,
        gamma: 3.773369621220385e-9,
        vega: 2.3583560132627405e-6,
        theta: -1.1624358761677612e-6,
        rho: -2.0711103498543066e-7,
      },
    },
    {
      spot: 100,
      strike: 100,
      rate: -0.01,
      dividend: 0.03,
      volatility: 0.15,
      maturity: 2.0,
      type: 'call',
      expected: {
        price: 4.9443255590260105,
        delta: 0.37027673158783464,
        gamma: 0.017072292765539596,
        vega: 51.21687829661878,
        theta: -0.48896926536212576,
        rho: 64.1666951995149,
      },
    },
    {
      spot: 100,
      strike: 100,
      rate: -0.01,
      dividend: 0.03,
      volatility: 0.15,
      maturity: 2.0,
      type: 'put',
      expected: {
        price: 12.78800620327672,
        delta: -0.571487801996414,
        gamma: 0.017072292765539596,
        vega: 51.21687829661878,
        theta: -4.334464206141628,
        rho: -139.87357280583626,
      },
    },
    {
      spot: 1.1,
      strike: 1.2,
      rate: 0.02,
      dividend: 0.04,
      volatility: 0.1,
      maturity: 0.1,
      type: 'call',
      expected: {
        price: 2.6228345086944457e-5,
        delta: 0.00255301881497045,
        gamma: 0.22729580551395137,
        vega: 0.0027502792467188125,
        theta: -0.0013184486425283173,
        rho: 0.0002782092351380551,
      },
    },
    {
      spot: 1.1,
      strike: 1.2,
      rate: 0.02,
      dividend: 0.04,
      volatility: 0.1,
      maturity: 0.1,
      type: 'put',
      expected: {
        price: 0.10201983846749588,
        delta: -0.993454970529021,
        gamma: 0.22729580551395137,
        vega: 0.0027502792467188125,
        theta: -0.021190752205647954,
        rho: -0.11948203060494192,
      },
    },
    {
      spot: 50,
      strike: 55,
      rate: 0.08,
      dividend: 0.0,
      volatility: 0.6,
      maturity: 10.0,
      type: 'call',
      expected: {
        price: 38.36384023759251,
        delta: 0.906597087808302,
        gamma: 0.0017594678189042558,
        vega: 26.392017283563835,
        theta: -1.3490416507327216,
        rho: 69.66014152822581,
      },
    },
    {
      spot: 50,
      strike: 55,
      rate: 0.08,
      dividend: 0.0,
      volatility: 0.6,
      maturity: 10.0,
      type: 'put',
      expected: {
        price: 13.0769332640397,
        delta: -0.09340291219169809,
        gamma: 0.0017594678189042558,
        vega: 26.392017283563835,
        theta: 0.6280057913830535,
        rho: -177.47078873624605,
      },
    },
    {
      spot: 100,
      strike: 95,
      rate: 0.0,
      dividend: 0.0,
      volatility: 3.0,
      maturity: 30.0,
      type: 'call',
      expected: {
        price: 99.99999999999999,
        delta: 0.9999999999999999,
        gamma: 5.207737751871959e-19,
        vega: 4.686963976684763e-13,
        theta: -2.3434819883423815e-14,
        rho: 3.081409023525245e-13,
      },
    },
    {
      spot: 100,
      strike: 95,
      rate: 0.0,
      dividend: 0.0,
      volatility: 3.0,
      maturity: 30.0,
      type: 'put',
      expected: {
        price: 94.99999999999999,
        delta: -1.0263776784297687e-16,
        gamma: 5.207737751871959e-19,
        vega: 4.686963976684763e-13,
        theta: -2.3434819883423815e-14,
        rho: -2849.9999999999995,
      },
    },
    {
      spot: 100,
      strike: 101,
      rate: 0.01,
      dividend: 0.0,
      volatility: 0.05,
      maturity: 0.01,
      type: 'call',
      expected: {
        price: 0.004620880500713275,
        delta: 0.024558987670156872,
        gamma: 0.1151580587276811,
        vega: 0.5757902936384056,
        theta: -1.4639885129611636,
        rho: 0.02451277886514974,
      },
    },
    {
      spot: 100,
      strike: 101,
      rate: 0.01,
      dividend: 0.0,
      volatility: 0.05,
      maturity: 0.01,
      type: 'put',
      expected: {
        price: 0.9945213854838804,
        delta: -0.9754410123298431,
        gamma: 0.1151580587276811,
        vega: 0.5757902936384056,
        theta: -0.45408950791133207,
        rho: -0.985386226184682,
      },
    },
    {
      spot: 2000,
      strike: 1900,
      rate: 0.5,
      dividend: -0.3,
      volatility: 1.2,
      maturity: 0.75,
      type: 'call',
      expected: {
        price: 1480.8748561509456,
        delta: 1.0947418633142882,
        gamma: 0.00012460657821529306,
        vega: 448.583681575055,
        theta: -1370.0164984874323,
        rho: 531.4566528582232,
      },
    },
    {
      spot: 2000,
      strike: 1900,
      rate: 0.5,
      dividend: -0.3,
      volatility: 1.2,
      maturity: 0.75,
      type: 'put',
      expected: {
        price: 282.07905347006397,
        delta: -0.15758085287757617,
        gamma: 0.00012460657821529306,
        vega: 448.583681575055,
        theta: 34.30194607910988,
        rho: -447.9305694189122,
      },
    },
    {
      spot: 100,
      strike: 130,
      rate: 0.05,
      dividend: 0.0,
      volatility: 0.1,
      maturity: 0.5,
      type: 'call',
      expected: {
        price: 0.0008149345998604385,
        delta: 0.0004477033374980226,
        gamma: 0.00022688385842583006,
        vega: 0.11344192921291503,
        theta: -0.013541962878788595,
        rho: 0.02197769957497091,
      },
    },
    {
      spot: 100,
      strike: 130,
      rate: 0.05,
      dividend: 0.0,
      volatility: 0.1,
      maturity: 0.5,
      type: 'put',
      expected: {
        price: 26.791103498283107,
        delta: -0.999552296662502,
        gamma: 0.00022688385842583006,
        vega: 0.11344192921291503,
        theta: 6.325972465305374,
        rho: -63.37316658226665,
      },
    },
  ];

  it.each(cases)('$type S=$spot K=$strike r=$rate q=$dividend σ=$volatility T=$maturity', (c) => {
    const r = blackScholes(c);
    for (const g of GREEKS) {
      const e = c.expected[g];
      expect(Math.abs(r[g] - e)).toBeLessThanOrEqual(1e-10 * Math.abs(e) + 1e-13 * c.spot);
    }
  });
});

/** Random valid inputs from the package's own uniform sampler (deterministic). */
function randomCases(n: number, seed: number): BlackScholesInputs[] {
  const s = new UniformSampler(6, { seed });
  const u = new Float64Array(6);
  const out: BlackScholesInputs[] = [];
  for (let i = 0; i < n; i++) {
    s.point(i, u);
    out.push({
      spot: 20 + 180 * u[0],
      strike: 20 + 180 * u[1],
      rate: -0.05 + 0.2 * u[2],
      dividend: -0.02 + 0.1 * u[3],
      volatility: 0.05 + 0.95 * u[4],
      maturity: 0.02 + 5 * u[5],
      type: i % 2 === 0 ? 'call' : 'put',
    });
  }
  return out;
}

/**
 * The closed form written the plain way, one row at a time, with the library's normCdf, normPdf,
 * exp and log: what the batch kernel must reproduce bit for bit, however it arranges the work.
 */
function textbook(S: number, K: number, r: number, q: number, v: number, T: number, call: boolean): number[] {
  const sqrtT = Math.sqrt(T);
  const stdDev = v * sqrtT;
  const d1 = (log(S / K) + (r - q) * T) / stdDev + 0.5 * stdDev;
  const d2 = d1 - stdDev;
  const dq = exp(-q * T);
  const df = exp(-r * T);
  const sDq = S * dq;
  const kDf = K * df;
  const pdf = normPdf(d1);
  const decay = (-sDq * pdf * v) / (2 * sqrtT);
  const gamma = (dq * pdf) / (S * stdDev);
  const vega = sDq * pdf * sqrtT;
  if (call) {
    const n1 = normCdf(d1);
    const n2 = normCdf(d2);
    return [sDq * n1 - kDf * n2, dq * n1, gamma, vega, decay - r * kDf * n2 + q * sDq * n1, kDf * T * n2];
  }
  const n1 = normCdf(-d1);
  const n2 = normCdf(-d2);
  return [kDf * n2 - sDq * n1, -dq * n1, gamma, vega, decay + r * kDf * n2 - q * sDq * n1, -kDf * T * n2];
}

describe('blackScholes — the batch kernel', () => {
  it('gives bit for bit the textbook formulas, over wide ranges and in every branch of N', () => {
    const box = [
      { name: 'spot', min: 1, max: 500 },
      { name: 'strike', min: 1, max: 500 },
      { name: 'rate', min: -0.3, max: 0.3 },
      { name: 'dividend', min: -0.2, max: 0.2 },
      { name: 'volatility', min: 0.001, max: 3 },
      { name: 'maturity', min: 0.001, max: 50 },
    ];
    const count = 20_000; // several blocks, the last one partial
    const inputs = chunkInputs({ sampler: 'sobol', seed: 31, box, start: 0, count: count + 77 });
    const names = box.map((b) => b.name);
    const branches = new Set<string>();
    for (const type of ['call', 'put']) {
      const out = priceColumns(blackScholesPricer, { type }, names, inputs, blackScholesPricer.outputs);
      for (let i = 0; i < inputs[0].length; i++) {
        const [S, K, r, q, v, T] = inputs.map((c) => c[i]);
        const expected = textbook(S, K, r, q, v, T, type === 'call');
        for (let j = 0; j < 6; j++) {
          if (!Object.is(out[j][i], expected[j])) {
            throw new Error(`${type} row ${i} output ${j}: ${out[j][i]} vs ${expected[j]}`);
          }
        }
        const d1 = Math.abs((Math.log(S / K) + (r - q) * T) / (v * Math.sqrt(T)));
        branches.add(
          d1 <= 0.67448975 ? 'central' : d1 <= Math.sqrt(32) ? 'near' : d1 < 38.5 ? 'far' : 'beyond',
        );
      }
    }
    expect([...branches].sort()).toEqual(['beyond', 'central', 'far', 'near']);
  });
});

describe('blackScholes — identities', () => {
  it('put–call parity for price and every greek', () => {
    for (const c of randomCases(500, 11)) {
      const { spot: S, strike: K, rate: r, dividend: q, maturity: T } = c;
      const call = blackScholes({ ...c, type: 'call' });
      const put = blackScholes({ ...c, type: 'put' });
      const dq = Math.exp(-q * T);
      const df = Math.exp(-r * T);
      const scale = S + K;
      expect(Math.abs(call.price - put.price - (S * dq - K * df))).toBeLessThan(1e-13 * scale);
      expect(Math.abs(call.delta - put.delta - dq)).toBeLessThan(1e-14);
      expect(Math.abs(call.gamma - put.gamma)).toBeLessThan(1e-15);
      expect(Math.abs(call.vega - put.vega)).toBeLessThan(1e-13 * scale);
      expect(Math.abs(call.theta - put.theta - (q * S * dq - r * K * df))).toBeLessThan(1e-13 * scale);
      expect(Math.abs(call.rho - put.rho - K * T * df)).toBeLessThan(1e-13 * scale * T);
    }
  });

  it('greeks agree with central finite differences of the price', () => {
    for (const c of randomCases(200, 12)) {
      const r = blackScholes(c);
      const price = (p: Partial<BlackScholesInputs>) => blackScholes({ ...c, ...p }).price;
      // Steps scaled to each variable's natural scale: log-spot moves on the scale σ√T.
      const hS = 1e-3 * c.spot * c.volatility * Math.sqrt(c.maturity);
      const hD = hS / 10;
      const delta = (price({ spot: c.spot + hD }) - price({ spot: c.spot - hD })) / (2 * hD);
      const gamma = (price({ spot: c.spot + hS }) - 2 * r.price + price({ spot: c.spot - hS })) / (hS * hS);
      const hV = 1e-4 * c.volatility;
      const vega =
        (price({ volatility: c.volatility + hV }) - price({ volatility: c.volatility - hV })) / (2 * hV);
      const hT = 1e-4 * c.maturity;
      const theta = -(price({ maturity: c.maturity + hT }) - price({ maturity: c.maturity - hT })) / (2 * hT);
      const hR = 1e-5;
      const rho = (price({ rate: c.rate + hR }) - price({ rate: c.rate - hR })) / (2 * hR);
      const close = (a: number, b: number, rel: number, abs: number) =>
        expect(Math.abs(a - b)).toBeLessThan(rel * Math.abs(b) + abs);
      close(r.delta, delta, 1e-6, 1e-8);
      close(r.gamma, gamma, 1e-4, 1e-7);
      close(r.vega, vega, 1e-6, 1e-7 * c.spot);
      close(r.theta, theta, 1e-5, 1e-7 * c.spot);
      close(r.rho, rho, 1e-6, 1e-7 * c.spot);
    }
  });

  it('prices lie within no-arbitrage bounds', () => {
    for (const c of randomCases(500, 13)) {
      const { spot: S, strike: K, rate: r, dividend: q, maturity: T } = c;
      const call = blackScholes({ ...c, type: 'call' }).price;
      const put = blackScholes({ ...c, type: 'put' }).price;
      expect(call).toBeGreaterThanOrEqual(
        Math.max(S * Math.exp(-q * T) - K * Math.exp(-r * T), 0) - 1e-12 * S,
      );
      expect(call).toBeLessThanOrEqual(S * Math.exp(-q * T));
      expect(put).toBeLessThanOrEqual(K * Math.exp(-r * T));
      expect(put).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('blackScholes — limits', () => {
  it('zero volatility: discounted intrinsic value of the forward, greeks as their limits', () => {
    const S = 100;
    const K = 90;
    const r = 0.05;
    const q = 0.01;
    const T = 2;
    const dq = Math.exp(-q * T);
    const df = Math.exp(-r * T);
    const call = bs(S, K, r, q, 0, T, 'call');
    expect(call.price).toBeCloseTo(S * dq - K * df, 12);
    expect(call.delta).toBe(dq);
    expect(call.gamma).toBe(0);
    expect(call.vega).toBe(0);
    expect(call.theta).toBeCloseTo(q * S * dq - r * K * df, 12);
    expect(call.rho).toBeCloseTo(K * T * df, 12);
    const put = bs(S, K, r, q, 0, T, 'put');
    expect(put).toEqual({ price: 0, delta: -0, gamma: 0, vega: 0, theta: 0, rho: -0 });
    // Out of the money forward (F < K): the call is worthless, the put is the discounted intrinsic.
    const put2 = bs(S, 120, r, q, 0, T, 'put');
    expect(put2.price).toBeCloseTo(120 * df - S * dq, 12);
    expect(put2.delta).toBe(-dq);
  });

  it('the σ → 0 and T → 0 limits are continuous with the closed form away from the strike', () => {
    for (const [S, K, type] of [
      [100, 90, 'call'],
      [100, 110, 'call'],
      [100, 90, 'put'],
      [100, 110, 'put'],
    ] as const) {
      const zero = bs(S, K, 0.03, 0.01, 0, 1, type);
      const tiny = bs(S, K, 0.03, 0.01, 1e-6, 1, type);
      for (const g of GREEKS) expect(Math.abs(zero[g] - tiny[g])).toBeLessThan(1e-9 * S);
      const expiry = bs(S, K, 0.03, 0.01, 0.3, 0, type);
      const nearExpiry = bs(S, K, 0.03, 0.01, 0.3, 1e-10, type);
      for (const g of GREEKS) expect(Math.abs(expiry[g] - nearExpiry[g])).toBeLessThan(1e-6 * S);
    }
  });

  it('zero maturity: intrinsic value, unit or zero delta', () => {
    expect(bs(110, 100, 0.05, 0.02, 0.3, 0, 'call')).toEqual({
      price: 10,
      delta: 1,
      gamma: 0,
      vega: 0,
      theta: 0.02 * 110 - 0.05 * 100,
      rho: 0,
    });
    expect(bs(90, 100, 0.05, 0.02, 0.3, 0, 'put')).toEqual({
      price: 10,
      delta: -1,
      gamma: 0,
      vega: 0,
      theta: 0.05 * 100 - 0.02 * 90,
      rho: -0,
    });
    expect(bs(90, 100, 0.05, 0.02, 0.3, 0, 'call').price).toBe(0);
  });

  it('exactly at the forward strike: delta ½·e^{−qT}, infinite gamma, vega its σ → 0 limit; never NaN', () => {
    const atm = bs(100, 100, 0.04, 0.04, 0, 1, 'call'); // F = K exactly
    expect(atm.price).toBe(0);
    expect(atm.delta).toBeCloseTo(0.5 * Math.exp(-0.04), 15);
    expect(atm.gamma).toBe(Infinity);
    // vega(σ) → S e^{−qT} √T φ(0) as σ → 0 with F = K
    expect(atm.vega).toBeCloseTo(bs(100, 100, 0.04, 0.04, 1e-9, 1, 'call').vega, 6);
    const expiry = bs(100, 100, 0.04, 0.01, 0.3, 0, 'put');
    expect(expiry.price).toBe(0);
    expect(expiry.delta).toBe(-0.5);
    expect(expiry.gamma).toBe(Infinity);
    expect(expiry.theta).toBe(-Infinity);
    for (const vol of [0, 0.2]) {
      for (const T of [0, 1e-300, 1]) {
        for (const type of ['call', 'put'] as const) {
          for (const K of [50, 100, 200]) {
            const r = bs(100, K, 0, 0, vol, T, type);
            for (const g of GREEKS) expect(Number.isNaN(r[g])).toBe(false);
          }
        }
      }
    }
  });

  it('stays finite at the edges of the valid ranges', () => {
    for (const [S, K] of [
      [1e-9, 1e9],
      [1e9, 1e-9],
      [1, 1],
    ]) {
      for (const vol of [1e-6, 5]) {
        for (const T of [1e-6, 100]) {
          for (const r of [-1, 1]) {
            for (const type of ['call', 'put'] as const) {
              const res = bs(S, K, r, -r, vol, T, type);
              for (const g of GREEKS) expect(Number.isFinite(res[g])).toBe(true);
              expect(res.price).toBeGreaterThanOrEqual(0);
            }
          }
        }
      }
    }
  });
});

describe('black-scholes pricer', () => {
  it('is registered, versioned and evaluates exactly like blackScholes', () => {
    const p = getPricer('black-scholes');
    expect(p).toBe(blackScholesPricer);
    expect(p.version).toBe('1.0.0');
    expect(p.outputs).toEqual(GREEKS);
    expect(p.parameters.map((s) => s.name)).toEqual([
      'spot',
      'strike',
      'rate',
      'dividend',
      'volatility',
      'maturity',
      'type',
    ]);
    const out = new Float64Array(6);
    for (const c of randomCases(50, 14)) {
      p.evaluate(c as unknown as Record<string, number | string>, out);
      const r = blackScholes(c);
      expect(Array.from(out)).toEqual(GREEKS.map((g) => r[g]));
    }
  });

  it('rejects invalid inputs with a typed error naming the parameter, value and rule', () => {
    let err: unknown;
    try {
      bs(100, 100, 0.05, 0, -0.2, 1, 'call');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PricingError);
    expect((err as PricingError).code).toBe('INVALID_PARAMETER');
    expect((err as PricingError).message).toContain('volatility = -0.2 is outside its valid range [0, 5]');
    expect((err as PricingError).details).toMatchObject({
      parameter: 'volatility',
      value: -0.2,
      rule: 'range [0, 5]',
    });
    expect(() => bs(0, 100, 0.05, 0, 0.2, 1, 'call')).toThrow(
      'spot = 0 is outside its valid range (0, 1000000000]',
    );
    expect(() =>
      blackScholes({
        spot: 1,
        strike: 1,
        rate: 0,
        dividend: 0,
        volatility: 0.2,
        maturity: 1,
        type: 'straddle' as 'call',
      }),
    ).toThrow('type = "straddle" is not one of call, put');
  });

  it('evaluates quickly (guard against gross regressions; ≈0.1 µs per call in plain Node, slower under jest)', () => {
    const p = blackScholesPricer;
    const params: Record<string, number | string> = {
      spot: 100,
      strike: 100,
      rate: 0.03,
      dividend: 0.01,
      volatility: 0.2,
      maturity: 1,
      type: 'put',
    };
    const out = new Float64Array(6);
    const t0 = process.hrtime.bigint();
    let acc = 0;
    for (let i = 0; i < 200_000; i++) {
      params.spot = 50 + (i % 1000) * 0.1;
      p.evaluate(params, out);
      acc += out[0];
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    expect(Number.isFinite(acc)).toBe(true);
    expect(ms).toBeLessThan(5000);
  });
});
