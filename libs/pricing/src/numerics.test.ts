import {
  AdaptiveGaussKronrod,
  BrownianBridge,
  PricingError,
  expTimesNormCdf,
  normCdf,
  normQuantile,
  registerPricer,
  validateParams,
  type Pricer,
} from './index';

describe('normQuantile (Wichura AS 241)', () => {
  it('inverts normCdf to near machine precision across the whole range', () => {
    let worst = 0;
    for (let k = 1; k < 20000; k++) {
      const p = k / 20000;
      const x = normQuantile(p);
      // |Φ(x) − p| relative to the tail probability, allowing for the condition number of Φ.
      const err = Math.abs(normCdf(x) - p) / Math.min(p, 1 - p) / (1 + Math.abs(x));
      if (err > worst) worst = err;
    }
    for (const p of [1e-300, 1e-100, 1e-20, 1e-10, 1e-5]) {
      const x = normQuantile(p);
      const err = Math.abs(normCdf(x) - p) / p / (1 + x * x);
      if (err > worst) worst = err;
    }
    expect(worst).toBeLessThan(3e-15);
  });

  it('known quantiles, symmetry and edge cases', () => {
    // Φ⁻¹(0.975) = 1.959963984540054… (e.g. Abramowitz & Stegun Table 26.5 to 9 digits: 1.959963985)
    expect(normQuantile(0.975)).toBeCloseTo(1.959963984540054, 14);
    expect(normQuantile(0.5)).toBe(0);
    expect(normQuantile(0.3)).toBe(-normQuantile(0.7));
    expect(normQuantile(0)).toBe(-Infinity);
    expect(normQuantile(1)).toBe(Infinity);
    expect(normQuantile(-0.1)).toBeNaN();
    expect(normQuantile(NaN)).toBeNaN();
  });
});

describe('expTimesNormCdf', () => {
  it('equals e^p·Φ(x) where that is representable', () => {
    for (const p of [-50, -1, 0, 3, 300]) {
      for (const x of [-30, -5, -1, 0, 2, 8]) {
        const direct = Math.exp(p) * normCdf(x);
        expect(Math.abs(expTimesNormCdf(p, x) - direct)).toBeLessThanOrEqual(1e-14 * direct);
      }
    }
  });

  it('stays finite when e^p overflows but the product does not', () => {
    // Φ(x) ≈ φ(x)/|x|·(1 − 1/x² + 3/x⁴) for x → −∞, so ln(e^p Φ(x)) ≈ p − x²/2 − ln(|x|√(2π)).
    for (const [p, x] of [
      [800, -40],
      [2000, -64],
      [5e4, -316.3],
    ]) {
      const v = expTimesNormCdf(p, x);
      const asymptotic =
        p - 0.5 * x * x - Math.log(-x * Math.sqrt(2 * Math.PI)) + Math.log1p(-1 / (x * x) + 3 / x ** 4);
      expect(Number.isFinite(v)).toBe(true);
      expect(Math.abs(Math.log(v) - asymptotic)).toBeLessThan(1e-6);
    }
  });
});

describe('AdaptiveGaussKronrod', () => {
  const q = new AdaptiveGaussKronrod(200);

  it('integrates polynomials exactly: Kronrod to degree 31, Gauss (the error estimate) to 19', () => {
    for (const k of [0, 1, 7, 19, 20, 31]) {
      const exact = 2 ** (k + 1) / (k + 1);
      // An infinite tolerance: one 21-point rule, no refinement.
      const r = q.integrate(
        (x, out) => {
          out[0] = x ** k;
          out[1] = 0;
        },
        false,
        0,
        2,
        Infinity,
      );
      expect(r.evaluations).toBe(21);
      expect(Math.abs(r.value[0] - exact) / exact).toBeLessThan(1e-14);
      expect(r.error / exact).toBeLessThan(k <= 19 ? 1e-14 : 1);
      if (k > 19) expect(r.error / exact).toBeGreaterThan(1e-12);
    }
  });

  it('refines towards singular behaviour and integrates two components at once', () => {
    const r = q.integrate(
      (x, out) => {
        out[0] = Math.sqrt(x);
        out[1] = Math.log(x);
      },
      true,
      0,
      1,
      1e-12,
    );
    expect(Math.abs(r.value[0] - 2 / 3)).toBeLessThan(1e-12);
    expect(Math.abs(r.value[1] + 1)).toBeLessThan(1e-11);
    expect(r.error).toBeLessThanOrEqual(1e-12);
    expect(r.evaluations).toBeGreaterThan(21);
  });
});

describe('BrownianBridge', () => {
  it('builds paths with covariance min(t_i, t_j) for every size', () => {
    for (const n of [1, 2, 3, 5, 8, 13, 64]) {
      const bridge = new BrownianBridge(n);
      // The path is linear in z: column k is the image of the k-th unit vector.
      const columns: Float64Array[] = [];
      for (let k = 0; k < n; k++) {
        const z = new Float64Array(n);
        z[k] = 1;
        const path = new Float64Array(n);
        bridge.transform(z, path);
        columns.push(path);
      }
      let worst = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let cov = 0;
          for (let k = 0; k < n; k++) cov += columns[k][i] * columns[k][j];
          worst = Math.max(worst, Math.abs(cov - Math.min(i + 1, j + 1) / n));
        }
      }
      expect(worst).toBeLessThan(1e-14);
      // The first normal alone sets the endpoint W(1).
      expect(columns[0][n - 1]).toBe(1);
    }
  });
});

describe('Pricer.validate', () => {
  const ordered: Pricer = {
    name: 'ordered-range',
    version: '1',
    description: 'needs lo <= hi',
    parameters: [
      {
        kind: 'number',
        name: 'lo',
        unit: '',
        description: '',
        min: 0,
        max: 1,
        minInclusive: true,
        maxInclusive: true,
      },
      {
        kind: 'number',
        name: 'hi',
        unit: '',
        description: '',
        min: 0,
        max: 1,
        minInclusive: true,
        maxInclusive: true,
      },
    ],
    outputs: ['width'],
    validate(p) {
      if ((p.lo as number) > (p.hi as number)) {
        throw new PricingError('INVALID_PARAMETER', 'lo > hi', {
          details: { pricer: 'ordered-range', parameter: 'lo', value: p.lo, rule: 'lo <= hi' },
        });
      }
    },
    evaluate(p, out) {
      out[0] = (p.hi as number) - (p.lo as number);
    },
  };

  it('runs after the range checks in validateParams', () => {
    expect(validateParams(ordered, { lo: 0.2, hi: 0.5 })).toEqual({ lo: 0.2, hi: 0.5 });
    expect(() => validateParams(ordered, { lo: 0.7, hi: 0.5 })).toThrow('lo > hi');
  });

  it('must be a function when present', () => {
    let error: unknown;
    try {
      registerPricer({ ...ordered, name: 'bad-validate', validate: 3 } as unknown as Pricer);
    } catch (e) {
      error = e;
    }
    expect((error as PricingError).code).toBe('INVALID_PRICER');
  });
});
