import { normCdf, normPdf } from './index';
import {
  normCdfFromParts,
  normCdfFromPartsUnrolled,
  tailRatio,
  tailRatioUnrolled,
} from './normal-distribution';

function relErr(actual: number, expected: number): number {
  return expected === 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected);
}

describe('normCdf / normPdf', () => {
  // Abramowitz & Stegun, Handbook of Mathematical Functions, Table 26.1 (P(x) to 15 decimals).
  it('matches Abramowitz & Stegun Table 26.1', () => {
    expect(Math.abs(normCdf(1) - 0.841344746068543)).toBeLessThan(1e-15);
    expect(Math.abs(normCdf(2) - 0.977249868051821)).toBeLessThan(1e-15);
    expect(Math.abs(normCdf(3) - 0.99865010196837)).toBeLessThan(1e-15);
  });

  // [x, Φ(x), φ(x)]: computed independently with mpmath (Python, 40 significant digits; mpmath.ncdf
  // and mpmath.npdf at the exact double x), rounded to the nearest double. Covers all three of Cody's ranges,
  // their boundaries (0.67448975, sqrt(32)) and the far lower tail down to 1e-308.
  const reference: [number, number, number][] = [
    [-37.5, 4.605353009581955e-308, 1.7282337322841054e-306],
    [-30, 4.906713927148187e-198, 1.4736461348785476e-196],
    [-20, 2.7536241186062337e-89, 5.520948362159764e-88],
    [-10, 7.619853024160525e-24, 7.694598626706419e-23],
    [-8, 6.220960574271784e-16, 5.052271083536892e-15],
    [-6, 9.86587645037698e-10, 6.075882849823285e-9],
    [-5.65685424949238, 7.708628950140032e-9, 4.489503922787501e-8],
    [-5, 2.866515718791939e-7, 1.4867195147342977e-6],
    [-3.5, 0.00023262907903552504, 0.00087268269504576],
    [-2, 0.02275013194817921, 0.05399096651318805],
    [-1.5, 0.06680720126885807, 0.12951759566589174],
    [-1, 0.15865525393145705, 0.24197072451914334],
    [-0.67448975, 0.25000000006231016, 0.3177765727261345],
    [-0.5, 0.3085375387259869, 0.35206532676429947],
    [-0.1, 0.460172162722971, 0.39695254747701175],
    [-1e-8, 0.4999999960105772, 0.39894228040143265],
    [0, 0.5, 0.3989422804014327],
    [1e-8, 0.5000000039894228, 0.39894228040143265],
    [0.3, 0.6179114221889527, 0.3813878154605241],
    [0.6744897, 0.7499999840488609, 0.31777658344298637],
    [0.7, 0.758036347776927, 0.31225393336676127],
    [1.25, 0.8943502263331448, 0.1826490853890219],
    [2.5, 0.9937903346742238, 0.017528300493568537],
    [4, 0.9999683287581669, 0.00013383022576488534],
    [5.7, 0.9999999940096286, 3.5139550948204334e-8],
    [8, 0.9999999999999993, 5.052271083536892e-15],
    [8.3, 1.0, 4.3816394355093325e-16],
  ];

  it.each(reference)('Φ and φ at x = %p to ~1e-15 relative', (x, cdf, pdf) => {
    expect(relErr(normCdf(x), cdf)).toBeLessThan(2e-15);
    expect(relErr(normPdf(x), pdf)).toBeLessThan(2e-15);
  });

  it('satisfies Φ(x) + Φ(−x) = 1 and is monotone', () => {
    let prev = 0;
    for (let x = -9; x <= 9; x += 0.0137) {
      expect(Math.abs(normCdf(x) + normCdf(-x) - 1)).toBeLessThan(2e-16);
      const c = normCdf(x);
      expect(c).toBeGreaterThanOrEqual(prev);
      prev = c;
    }
  });

  it('is the derivative relation dΦ/dx = φ (central differences)', () => {
    for (const x of [-6, -2.2, -0.3, 0, 0.9, 3.1]) {
      const h = 1e-5;
      const fd = (normCdf(x + h) - normCdf(x - h)) / (2 * h);
      expect(relErr(fd, normPdf(x))).toBeLessThan(1e-8);
    }
  });

  it('handles infinities, the underflow region and NaN', () => {
    expect(normCdf(-Infinity)).toBe(0);
    expect(normCdf(Infinity)).toBe(1);
    expect(normCdf(-40)).toBe(0);
    expect(normCdf(40)).toBe(1);
    expect(normCdf(-1e300)).toBe(0);
    expect(normPdf(Infinity)).toBe(0);
    expect(normPdf(-1e300)).toBe(0);
    expect(normCdf(NaN)).toBeNaN();
    expect(normPdf(NaN)).toBeNaN();
    expect(normPdf(0)).toBe(1 / Math.sqrt(2 * Math.PI));
  });

  it('has unrolled forms equal to the looped ones bit for bit, in every range', () => {
    const xs: number[] = [0.67448975, 0.6744897500000001, Math.sqrt(32), 5.656854249492381, 38.5, 40];
    let state = 2024;
    const uniform = (): number => {
      state = (state * 48271) % 2147483647;
      return state / 2147483647;
    };
    for (let i = 0; i < 50_000; i++) xs.push((uniform() - 0.5) * (i % 2 === 0 ? 2 : 90));
    xs.push(...xs.map((x) => -x), 0, -0, Infinity, -Infinity, NaN);
    for (const x of xs) {
      const y = Math.abs(x);
      if (y > 0.67448975) expect(Object.is(tailRatioUnrolled(y), tailRatio(y))).toBe(true);
      const g = Math.exp(-0.5 * x * x);
      const ratio = y > 0.67448975 ? tailRatio(y) : 0;
      expect(Object.is(normCdfFromPartsUnrolled(x, g, ratio), normCdfFromParts(x, g, ratio))).toBe(true);
    }
  });
});
