import { PricingError, SOBOL_MAX_DIMENSIONS, SOBOL_MAX_INDEX, SobolSequence, UniformSampler } from './index';

const TWO_32 = 2 ** 32;
/** The 32-bit integer a coordinate was made from (u = (x + 1/2)·2^−32). */
const bits = (u: number) => Math.floor(u * TWO_32);

function columns(dims: number, n: number): Float64Array[] {
  return Array.from({ length: dims }, () => new Float64Array(n));
}

function thrownCode(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof PricingError ? e.code : 'not a PricingError';
  }
  return undefined;
}

describe('SobolSequence — reference values', () => {
  it('embeds 128 dimensions', () => {
    expect(SOBOL_MAX_DIMENSIONS).toBe(128);
    expect(SOBOL_MAX_INDEX).toBe(TWO_32 - 1);
  });

  // The first points of the Sobol sequence in Gray-code order (Bratley & Fox 1988; Joe & Kuo 2008),
  // each coordinate offset by half a 2^−32 cell.
  it('starts (0,0,0), (½,½,½), (¾,¼,¼), (¼,¾,¾), (⅜,⅜,⅝), (⅞,⅞,⅛), (⅝,⅛,⅞), (⅛,⅝,⅜)', () => {
    const expected = [
      [0, 0, 0],
      [0.5, 0.5, 0.5],
      [0.75, 0.25, 0.25],
      [0.25, 0.75, 0.75],
      [0.375, 0.375, 0.625],
      [0.875, 0.875, 0.125],
      [0.625, 0.125, 0.875],
      [0.125, 0.625, 0.375],
    ];
    const s = new SobolSequence(3);
    const out = new Float64Array(3);
    expected.forEach((p, i) => {
      s.point(i, out);
      expect(Array.from(out)).toEqual(p.map((x) => x + 2 ** -33));
    });
  });

  // Unscrambled 32-bit values from SciPy 1.17 (scipy.stats.qmc.Sobol(d=128, scramble=False,
  // bits=32), which ships the new-joe-kuo-6.21201 numbers), via fast_forward(index).random(1).
  const dims = [0, 1, 2, 31, 63, 127];
  const scipyValues: [number, number[]][] = [
    [1, [2147483648, 2147483648, 2147483648, 2147483648, 2147483648, 2147483648]],
    [2, [3221225472, 1073741824, 1073741824, 1073741824, 3221225472, 1073741824]],
    [3, [1073741824, 3221225472, 3221225472, 3221225472, 1073741824, 3221225472]],
    [100, [1778384896, 1107296256, 3321888768, 1778384896, 2785017856, 1979711488]],
    [1023, [4194304, 3233808384, 2629828608, 2638217216, 171966464, 3007315968]],
    [65535, [65536, 4294901760, 2421489664, 2186215424, 1272905728, 1032650752]],
    [2147495993, [2752774147, 2238272853, 1645001659, 3281757661, 1439752459, 1635435653]],
    [4294967295, [1, 4294967295, 3305133397, 789438707, 303916897, 2699379135]],
  ];
  it.each(scipyValues)('matches SciPy at index %p', (index, values) => {
    const s = new SobolSequence(128);
    const out = new Float64Array(128);
    s.point(index, out);
    expect(dims.map((d) => bits(out[d]))).toEqual(values);
  });

  // A fingerprint of all 128 dimensions and all 32 direction numbers: per dimension,
  // h = (31·h + x_n) mod 2^32 over the points n_i = i·2654435761 mod 2^32, i = 0..511, computed from
  // SciPy's direction integers (Sobol._sv) with the Antonov–Saleev Gray-code formula, after checking
  // that formula reproduces SciPy's own first 64 points.
  it('matches a SciPy-derived fingerprint of every dimension', () => {
    const expected = [
      4261754680, 204327332, 2115783560, 4116715028, 2022386696, 2528535836, 559154340, 245178424, 1335516184,
      793343128, 2750306632, 1710746744, 1073966132, 3529215316, 1160855080, 1333212648, 1859472324,
      3620124360, 16660620, 2873486348, 3280971800, 3927794088, 1322256808, 3584677368, 3648385784,
      1656595460, 726281236, 2123230648, 1065296808, 277546528, 4237262856, 3798324572, 620942100, 938128536,
      240370084, 1270940624, 2284726792, 2892611352, 3747462288, 1950280984, 1034874792, 769808504,
      1071719716, 2162645328, 2287644056, 1139990232, 2316595496, 376103704, 2041264940, 3475579556,
      1306587008, 214897940, 4256708748, 324630504, 3448435644, 550685208, 3814098088, 954845692, 1571338976,
      2165762252, 3830124932, 2019624100, 958303092, 1092353944, 3155871904, 3404347684, 3593798872,
      862729524, 1680058536, 1784225876, 2067168552, 3135554184, 542282364, 3532501816, 695168216, 909396936,
      105695736, 476083368, 2971768920, 3131349556, 3951078788, 925704024, 1444949120, 1057088288, 3306167352,
      40457960, 3806343832, 4107263828, 3896189752, 3937778756, 3580857784, 3421747224, 1513277588,
      2777028020, 3441576488, 2838700468, 3027465348, 2462873080, 1247798344, 872843816, 2905867508,
      691645268, 2667743416, 1318818356, 3824426456, 2795580916, 2023616980, 2345374968, 3211447064,
      3112783764, 2880479476, 3687022328, 1191396340, 2613349944, 2018358964, 1772325716, 1836917896,
      4157907908, 2810284024, 1438838904, 3665049108, 2121230724, 3125588040, 1836391636, 3209131848,
      747828884, 2330915428, 2485857220,
    ];
    const s = new SobolSequence(128);
    const out = new Float64Array(128);
    const h = new Array<number>(128).fill(0);
    for (let i = 0; i < 512; i++) {
      s.point((i * 2654435761) % TWO_32, out);
      for (let d = 0; d < 128; d++) h[d] = (Math.imul(h[d], 31) + bits(out[d])) >>> 0;
    }
    expect(h).toEqual(expected);
  });
});

/** Whether the 2-D points form a (0, m, 2)-net: every elementary box of area 2^−m holds exactly one. */
function isZeroNet(x: Float64Array, y: Float64Array, m: number): boolean {
  for (let a = 0; a <= m; a++) {
    const seen = new Uint8Array(2 ** m);
    for (let i = 0; i < 2 ** m; i++) {
      const box = Math.floor(x[i] * 2 ** a) * 2 ** (m - a) + Math.floor(y[i] * 2 ** (m - a));
      if (seen[box]++) return false;
    }
  }
  return true;
}

describe('SobolSequence — structure', () => {
  const variants: [string, SobolSequence][] = [
    ['unscrambled', new SobolSequence(128)],
    ['scrambled, seed 1', new SobolSequence(128, { seed: 1 })],
    ['scrambled, seed 2^40 + 7', new SobolSequence(128, { seed: 2 ** 40 + 7 })],
  ];

  it.each(variants)(
    '%s: every 1-D projection of the first 2^k points hits each interval of width 2^−k once',
    (_name, s) => {
      const n = 4096;
      const cols = columns(128, n);
      s.fill(0, n, cols);
      for (let k = 0; k <= 12; k++) {
        const m = 2 ** k;
        for (const col of cols) {
          const seen = new Uint8Array(m);
          for (let i = 0; i < m; i++) seen[Math.floor(col[i] * m)]++;
          expect(seen.every((c) => c === 1)).toBe(true);
        }
      }
    },
  );

  it.each(variants)('%s: dimensions 1–2 of aligned blocks of 2^m points form (0, m, 2)-nets', (_name, s) => {
    for (const [start, m] of [
      [0, 8],
      [3 * 1024, 10],
      [2 ** 31, 6],
    ]) {
      const cols = columns(128, 2 ** m);
      s.fill(start, 2 ** m, cols);
      expect(isZeroNet(cols[0], cols[1], m)).toBe(true);
    }
  });

  it('scrambling keeps coordinates strictly inside (0, 1) and changes them', () => {
    const plain = columns(8, 1024);
    const scr = columns(8, 1024);
    new SobolSequence(8).fill(0, 1024, plain);
    new SobolSequence(8, { seed: 5 }).fill(0, 1024, scr);
    let outside = 0;
    for (let d = 0; d < 8; d++) {
      for (let i = 0; i < 1024; i++) {
        if (!(scr[d][i] > 0 && scr[d][i] < 1)) outside++;
        if (!(plain[d][i] > 0 && plain[d][i] < 1)) outside++;
      }
    }
    expect(outside).toBe(0);
    let same = 0;
    for (let i = 0; i < 1024; i++) if (plain[0][i] === scr[0][i]) same++;
    expect(same).toBeLessThan(10);
  });
});

describe('SobolSequence — determinism and random access', () => {
  it('point and fill are bit-identical, for any split into chunks', () => {
    for (const opts of [{}, { seed: 42 }]) {
      const s = new SobolSequence(7, opts);
      const start = 12345;
      const n = 3000;
      const whole = columns(7, n);
      s.fill(start, n, whole);
      const out = new Float64Array(7);
      for (let i = 0; i < n; i += 7) {
        s.point(start + i, out);
        for (let d = 0; d < 7; d++) expect(out[d]).toBe(whole[d][i]);
      }
      const cuts = [0, 1, 333, 334, 1024, 2999, 3000];
      for (let c = 0; c + 1 < cuts.length; c++) {
        const len = cuts[c + 1] - cuts[c];
        const part = columns(7, len);
        s.fill(start + cuts[c], len, part);
        for (let d = 0; d < 7; d++)
          expect(Array.from(part[d])).toEqual(Array.from(whole[d].subarray(cuts[c], cuts[c + 1])));
      }
      const single = new Float64Array(n);
      s.fillColumn(3, start, n, single);
      expect(Array.from(single)).toEqual(Array.from(whole[3]));
    }
  });

  it('reaches the last index 2^32 − 1 and refuses to go beyond', () => {
    const s = new SobolSequence(4, { seed: 9 });
    const tail = columns(4, 10);
    s.fill(TWO_32 - 10, 10, tail);
    const out = new Float64Array(4);
    s.point(TWO_32 - 1, out);
    expect(Array.from(out)).toEqual(tail.map((c) => c[9]));
    expect(thrownCode(() => s.point(TWO_32, out))).toBe('INDEX_OUT_OF_RANGE');
    expect(thrownCode(() => s.fill(TWO_32 - 10, 11, columns(4, 11)))).toBe('INDEX_OUT_OF_RANGE');
    expect(thrownCode(() => s.point(-1, out))).toBe('INDEX_OUT_OF_RANGE');
    expect(thrownCode(() => s.point(1.5, out))).toBe('INDEX_OUT_OF_RANGE');
  });

  it('is deterministic from the seed; different seeds give different points', () => {
    const a = new Float64Array(16);
    const b = new Float64Array(16);
    new SobolSequence(16, { seed: 7 }).point(1000, a);
    new SobolSequence(16, { seed: 7 }).point(1000, b);
    expect(Array.from(a)).toEqual(Array.from(b));
    const seen = new Set<string>();
    for (const seed of [0, 1, 2, 3, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER]) {
      new SobolSequence(16, { seed }).point(1000, a);
      seen.add(Array.from(a).join(','));
    }
    expect(seen.size).toBe(7);
    // scramble: false ignores the seed; scramble: true without a seed uses seed 0.
    new SobolSequence(16, { seed: 7, scramble: false }).point(1000, a);
    new SobolSequence(16).point(1000, b);
    expect(Array.from(a)).toEqual(Array.from(b));
    new SobolSequence(16, { scramble: true }).point(1000, a);
    new SobolSequence(16, { seed: 0 }).point(1000, b);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('validates its arguments', () => {
    expect(thrownCode(() => new SobolSequence(0))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => new SobolSequence(129))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => new SobolSequence(2, { seed: -1 }))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => new SobolSequence(2, { seed: 0.5 }))).toBe('INVALID_ARGUMENT');
    const s = new SobolSequence(2);
    expect(thrownCode(() => s.fill(0, 10, columns(3, 10)))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => s.fill(0, 10, columns(2, 9)))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => s.fill(0, -1, columns(2, 9)))).toBe('INVALID_ARGUMENT');
    expect(thrownCode(() => s.point(0, new Float64Array(1)))).toBe('INVALID_ARGUMENT');
  });
});

describe('SobolSequence — integration', () => {
  // ∫_{[0,1]^5} Π (π/2)·sin(π x_i) dx = 1.
  const f = (cols: Float64Array[], i: number) =>
    cols.reduce((p, c) => p * (Math.PI / 2) * Math.sin(Math.PI * c[i]), 1);
  function rmse(
    make: (seed: number) => { fill(start: number, count: number, c: Float64Array[]): void },
    n: number,
  ): number {
    let sq = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const cols = columns(5, n);
      make(seed).fill(0, n, cols);
      let sum = 0;
      for (let i = 0; i < n; i++) sum += f(cols, i);
      sq += (sum / n - 1) ** 2;
    }
    return Math.sqrt(sq / 8);
  }

  it('converges much faster than Monte Carlo on a smooth integrand', () => {
    const sobol = (seed: number) => new SobolSequence(5, { seed });
    const mc = (seed: number) => new UniformSampler(5, { seed });
    const qmc10 = rmse(sobol, 2 ** 10);
    const qmc14 = rmse(sobol, 2 ** 14);
    const mc14 = rmse(mc, 2 ** 14);
    expect(qmc14).toBeLessThan(mc14 / 30);
    // Monte Carlo gains a factor 4 from 16× the points; scrambled Sobol far more (≈ N^−1.5 here).
    expect(qmc10 / qmc14).toBeGreaterThan(16);
  });
});
