import {
  BARRIER_TYPES,
  PricingError,
  barrier,
  barrierPricer,
  blackScholes,
  getPricer,
  priceColumns,
  priceOne,
  validateParams,
  type BarrierInputs,
  type BarrierType,
} from './index';

function caught(f: () => unknown): PricingError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(PricingError);
    return e as PricingError;
  }
  throw new Error('expected an error');
}

describe('barrier — Haug’s table of standard barrier options', () => {
  // E. G. Haug, The Complete Guide to Option Pricing Formulas (2nd ed., 2007), §4.17.1, Table 4-13
  // (1st ed., 1998, p. 72): S = 100, T = 0.5, r = 8%, b = 4% (q = 4%), rebate K = 3; values for
  // strikes 90, 100, 110. The H = 100 rows have spot on the barrier: knock-outs are worth the rebate
  // paid at once, knock-ins the vanilla option. Haug prints four decimals; his normal CDF is a
  // six-digit approximation, hence a tolerance of 1e-4.
  const rows: [BarrierType, number, 'call' | 'put', number, [number, number, number]][] = [
    ['down-and-out', 95, 'call', 0.25, [9.0246, 6.7924, 4.8759]],
    ['down-and-out', 100, 'call', 0.25, [3.0, 3.0, 3.0]],
    ['up-and-out', 105, 'call', 0.25, [2.6789, 2.358, 2.3453]],
    ['down-and-in', 95, 'call', 0.25, [7.7627, 4.0109, 2.0576]],
    ['down-and-in', 100, 'call', 0.25, [13.8333, 7.8494, 3.9795]],
    ['up-and-in', 105, 'call', 0.25, [14.1112, 8.4482, 4.591]],
    ['down-and-out', 95, 'call', 0.3, [8.8334, 7.0285, 5.4137]],
    ['down-and-out', 100, 'call', 0.3, [3.0, 3.0, 3.0]],
    ['up-and-out', 105, 'call', 0.3, [2.6341, 2.4389, 2.4315]],
    ['down-and-in', 95, 'call', 0.3, [9.0093, 5.137, 2.8517]],
    ['down-and-in', 100, 'call', 0.3, [14.8816, 9.2045, 5.3043]],
    ['up-and-in', 105, 'call', 0.3, [15.2098, 9.7278, 5.835]],
    ['down-and-out', 95, 'put', 0.25, [2.2798, 2.2947, 2.6252]],
    ['down-and-out', 100, 'put', 0.25, [3.0, 3.0, 3.0]],
    ['up-and-out', 105, 'put', 0.25, [3.776, 5.4932, 7.5187]],
    ['down-and-in', 95, 'put', 0.25, [2.9586, 6.5677, 11.9752]],
    ['down-and-in', 100, 'put', 0.25, [2.2845, 5.9085, 11.6465]],
    ['up-and-in', 105, 'put', 0.25, [1.4653, 3.3721, 7.0846]],
    ['down-and-out', 95, 'put', 0.3, [2.417, 2.4258, 2.6246]],
    ['down-and-out', 100, 'put', 0.3, [3.0, 3.0, 3.0]],
    ['up-and-out', 105, 'put', 0.3, [4.2293, 5.8032, 7.5649]],
    ['down-and-in', 95, 'put', 0.3, [3.8769, 7.7989, 13.3078]],
    ['down-and-in', 100, 'put', 0.3, [3.3328, 7.2636, 12.9713]],
    ['up-and-in', 105, 'put', 0.3, [2.0658, 4.4226, 8.3686]],
  ];

  it.each(rows)('%s, H = %d, %s, σ = %d', (barrierType, level, type, volatility, values) => {
    [90, 100, 110].forEach((strike, i) => {
      const price = barrier({
        spot: 100,
        strike,
        rate: 0.08,
        dividend: 0.04,
        volatility,
        maturity: 0.5,
        type,
        barrierType,
        barrier: level,
        rebate: 3,
      });
      expect(Math.abs(price - values[i])).toBeLessThan(1e-4);
    });
  });
});

describe('barrier — identities', () => {
  const base = { spot: 100, rate: 0.05, dividend: 0.02, maturity: 1.3 };
  const grid: [number, number, number][] = []; // strike, volatility, barrier distance
  for (const strike of [70, 95, 100, 120])
    for (const volatility of [0.1, 0.35, 1.2])
      for (const d of [0.02, 0.2]) grid.push([strike, volatility, d]);

  it('knock-in + knock-out = vanilla (no rebate), for every type, both sides of the strike', () => {
    for (const type of ['call', 'put'] as const) {
      for (const [strike, volatility, d] of grid) {
        const vanilla = blackScholes({ ...base, strike, volatility, type }).price;
        for (const [inType, outType, level] of [
          ['down-and-in', 'down-and-out', 100 * (1 - d)],
          ['up-and-in', 'up-and-out', 100 * (1 + d)],
        ] as const) {
          const p = { ...base, strike, volatility, type, barrier: level };
          const sum = barrier({ ...p, barrierType: inType }) + barrier({ ...p, barrierType: outType });
          expect(Math.abs(sum - vanilla)).toBeLessThan(1e-10 * 100);
        }
      }
    }
  });

  it('with r = 0 the rebates add up: in(R) + out(R) = vanilla + R (paid at the hit or at expiry)', () => {
    // With no discounting the knock-out's rebate is worth R·P(hit), the knock-in's R·P(no hit).
    for (const [strike, volatility, d] of grid) {
      for (const [inType, outType, level] of [
        ['down-and-in', 'down-and-out', 100 * (1 - d)],
        ['up-and-in', 'up-and-out', 100 * (1 + d)],
      ] as const) {
        const p = {
          ...base,
          rate: 0,
          dividend: 0.03,
          strike,
          volatility,
          type: 'put' as const,
          barrier: level,
          rebate: 2.5,
        };
        const vanilla = blackScholes(p).price;
        const sum = barrier({ ...p, barrierType: inType }) + barrier({ ...p, barrierType: outType });
        expect(Math.abs(sum - vanilla - 2.5)).toBeLessThan(1e-10 * 100);
      }
    }
  });

  it('negative rates (λ² = μ² + 2r/σ² < 0): the rebate at the hit matches the first-passage integral', () => {
    // b = σ²/2 makes μ = 0, so λ² = 2r/σ² and any r < 0 leaves the closed form. Check the rebate term
    // R·E[e^{−rτ}; τ ≤ T] against Simpson's rule over the first-passage density of
    // X_t = νt + σW_t (ν = b − σ²/2) to the level h = ln(H/S):
    //   f(t) = |h|/(σ√(2πt³))·exp(−(h − νt)²/(2σ²t))  (with t = s² to smooth the start).
    const volatility = 0.2;
    const maturity = 2;
    for (const [barrierType, level] of [
      ['down-and-out', 90],
      ['up-and-out', 112],
    ] as const) {
      const price = (rate: number, rebate: number) =>
        barrier({
          spot: 100,
          strike: 100,
          rate,
          dividend: rate - 0.02,
          volatility,
          maturity,
          type: 'call',
          barrierType,
          barrier: level,
          rebate,
        });
      const rate = -0.05;
      const h = Math.log(level / 100);
      const nu = 0.02 - 0.5 * volatility * volatility;
      const steps = 20000;
      const ds = Math.sqrt(maturity) / steps;
      let sum = 0;
      for (let k = 1; k <= steps; k++) {
        const sv = k * ds;
        const t = sv * sv;
        const density =
          (Math.abs(h) / (volatility * Math.sqrt(2 * Math.PI * t * t * t))) *
          Math.exp(-((h - nu * t) ** 2) / (2 * volatility * volatility * t));
        const g = Math.exp(-rate * t) * density * 2 * sv; // dt = 2s ds
        sum += (k === steps ? 1 : k % 2 === 1 ? 4 : 2) * g;
      }
      const expected = (5 * (sum * ds)) / 3;
      expect(Math.abs(price(rate, 5) - price(rate, 0) - expected)).toBeLessThan(1e-9);
      // Continuous, with matching slopes, where λ² changes sign (r = 0 here).
      const e = 1e-5;
      expect(Math.abs(price(e, 5) - 2 * price(0, 5) + price(-e, 5))).toBeLessThan(1e-7);
    }
  });

  it('spot on the barrier: knocked out (rebate now) or knocked in (vanilla)', () => {
    const p = { ...base, strike: 100, volatility: 0.25, barrier: 100, rebate: 1.5 };
    expect(barrier({ ...p, type: 'call', barrierType: 'down-and-out' })).toBe(1.5);
    expect(barrier({ ...p, type: 'put', barrierType: 'up-and-out' })).toBe(1.5);
    expect(barrier({ ...p, type: 'call', barrierType: 'up-and-in' })).toBe(
      blackScholes({ ...p, type: 'call' }).price,
    );
  });

  it('σ → 0 approaches the deterministic path and extreme inputs stay finite and non-negative', () => {
    const p: BarrierInputs = {
      spot: 100,
      strike: 90,
      rate: 0.05,
      dividend: 0.15, // b = −0.1: the path S·e^{bt} drifts down through the barrier at 95
      volatility: 0,
      maturity: 1,
      type: 'call',
      barrierType: 'down-and-out',
      barrier: 95,
      rebate: 2,
    };
    const tau = Math.log(0.95) / -0.1; // 0.51 years
    expect(barrier(p)).toBeCloseTo(2 * Math.exp(-0.05 * tau), 12);
    expect(Math.abs(barrier({ ...p, volatility: 1e-4 }) - barrier(p))).toBeLessThan(1e-3);
    for (const barrierType of BARRIER_TYPES) {
      for (const volatility of [0, 1e-5, 0.01, 5]) {
        for (const maturity of [0, 1e-8, 100]) {
          for (const [rate, dividend] of [
            [1, -1],
            [-1, 1],
            [0, 0],
          ]) {
            const level = barrierType.startsWith('down') ? 80 : 125;
            const v = barrier({ ...p, barrierType, barrier: level, volatility, maturity, rate, dividend });
            expect(Number.isFinite(v) && v >= 0).toBe(true);
          }
        }
      }
    }
  });
});

describe('barrier — validation', () => {
  const p = {
    spot: 100,
    strike: 100,
    rate: 0.05,
    volatility: 0.2,
    maturity: 1,
    type: 'call',
    barrierType: 'down-and-out',
    barrier: 105,
  };

  it('rejects a barrier on the wrong side of spot with INVALID_PARAMETER naming barrier, value and rule', () => {
    const e = caught(() => validateParams(barrierPricer, p));
    expect(e.code).toBe('INVALID_PARAMETER');
    expect(e.details).toEqual({
      pricer: 'barrier',
      parameter: 'barrier',
      value: 105,
      rule: 'barrier <= spot (100) for a down-and-out option',
    });
    expect(e.message).toContain('barrier = 105');
    expect(e.message).toContain('already knocked out');
    const up = caught(() => priceOne(barrierPricer, { ...p, barrierType: 'up-and-in', barrier: 95 }));
    expect(up.code).toBe('INVALID_PARAMETER');
    expect(up.details).toMatchObject({
      parameter: 'barrier',
      value: 95,
      rule: 'barrier >= spot (100) for an up-and-in option',
    });
  });

  it('priceColumns checks the rule row by row and names the row', () => {
    const e = caught(() =>
      priceColumns(
        barrierPricer,
        { ...p, barrier: 90 },
        ['spot'],
        [new Float32Array([100, 95, 85])],
        ['price'],
      ),
    );
    expect(e.code).toBe('INVALID_PARAMETER');
    expect(e.message).toContain('row 2');
    expect(e.details).toMatchObject({ parameter: 'barrier', value: 90, row: 2 });
  });

  it('is registered with its parameters', () => {
    expect(getPricer('barrier')).toBe(barrierPricer);
    expect(barrierPricer.outputs).toEqual(['price']);
    expect(validateParams(barrierPricer, { ...p, barrier: 95 })).toMatchObject({ rebate: 0, dividend: 0 });
    expect(caught(() => validateParams(barrierPricer, { ...p, barrierType: 'double-knock-out' })).code).toBe(
      'INVALID_PARAMETER',
    );
  });
});
