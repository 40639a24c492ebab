import {
  PricingError,
  blackScholesPricer,
  chunkInputs,
  findNonFinite,
  priceColumns,
  priceOne,
  type Pricer,
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

const box = [
  { name: 'spot', min: 50, max: 150 },
  { name: 'volatility', min: 0.05, max: 0.6 },
  { name: 'maturity', min: 0.1, max: 3 },
];
const names = box.map((b) => b.name);
const fixed = { strike: 100, rate: 0.02, type: 'put' };

describe('priceColumns', () => {
  it('prices every row at exactly the float32 inputs, merged with the fixed parameters', () => {
    const inputs = chunkInputs({ sampler: 'sobol', seed: 3, box, start: 0, count: 512 });
    const [price, vega] = priceColumns(blackScholesPricer, fixed, names, inputs, ['price', 'vega']);
    expect(price).toBeInstanceOf(Float64Array);
    expect(price.length).toBe(512);
    for (let i = 0; i < 512; i += 17) {
      const row = priceOne(blackScholesPricer, {
        ...fixed,
        spot: inputs[0][i],
        volatility: inputs[1][i],
        maturity: inputs[2][i],
      });
      expect(price[i]).toBe(row.price);
      expect(vega[i]).toBe(row.vega);
    }
  });

  it('lets inputs override fixed values and returns outputs in the requested order', () => {
    const inputs = [new Float32Array([90, 110])];
    const [rho, price] = priceColumns(
      blackScholesPricer,
      { ...fixed, spot: 1, volatility: 0.2, maturity: 1 },
      ['spot'],
      inputs,
      ['rho', 'price'],
    );
    const expected = priceOne(blackScholesPricer, { ...fixed, spot: 110, volatility: 0.2, maturity: 1 });
    expect(rho[1]).toBe(expected.rho);
    expect(price[1]).toBe(expected.price);
  });

  it('UNKNOWN_OUTPUT names the output and lists the valid ones', () => {
    const e = caught(() =>
      priceColumns(
        blackScholesPricer,
        fixed,
        names,
        chunkInputs({ sampler: 'uniform', seed: 1, box, start: 0, count: 2 }),
        ['price', 'vanna'],
      ),
    );
    expect(e.code).toBe('UNKNOWN_OUTPUT');
    expect(e.message).toContain('"vanna"');
    expect(e.message).toContain('price, delta, gamma, vega, theta, rho');
  });

  it('validates inputs and rows', () => {
    const ok = [new Float32Array([100])];
    expect(caught(() => priceColumns(blackScholesPricer, fixed, ['sigma'], ok, ['price'])).code).toBe(
      'UNKNOWN_PARAMETER',
    );
    expect(caught(() => priceColumns(blackScholesPricer, fixed, ['type'], ok, ['price'])).code).toBe(
      'INVALID_PARAMETER',
    );
    expect(
      caught(() => priceColumns(blackScholesPricer, fixed, ['spot', 'spot'], [ok[0], ok[0]], ['price'])).code,
    ).toBe('INVALID_ARGUMENT');
    expect(caught(() => priceColumns(blackScholesPricer, fixed, ['spot'], [], ['price'])).code).toBe(
      'INVALID_ARGUMENT',
    );
    expect(caught(() => priceColumns(blackScholesPricer, fixed, [], [], ['price'])).code).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      caught(() =>
        priceColumns(
          blackScholesPricer,
          fixed,
          ['spot', 'volatility'],
          [new Float32Array(2), new Float32Array(3)],
          ['price'],
        ),
      ).code,
    ).toBe('INVALID_ARGUMENT');
    // Missing fixed parameter.
    expect(
      caught(() => priceColumns(blackScholesPricer, { strike: 100 }, ['spot'], ok, ['price'])).code,
    ).toBe('MISSING_PARAMETER');
    // A row outside the valid range names the row.
    const e = caught(() =>
      priceColumns(
        blackScholesPricer,
        { ...fixed, spot: 100, maturity: 1 },
        ['volatility'],
        [new Float32Array([0.2, 0.3, -0.5])],
        ['price'],
      ),
    );
    expect(e.code).toBe('INVALID_PARAMETER');
    expect(e.message).toContain('row 2');
    expect(e.details).toMatchObject({ parameter: 'volatility', value: -0.5, row: 2 });
    expect(priceColumns(blackScholesPricer, fixed, ['spot'], [new Float32Array(0)], ['price'])).toEqual([
      new Float64Array(0),
    ]);
  });

  it('checks each range exactly at its ends: exclusive and inclusive bounds, infinities and NaN', () => {
    // spot is in (0, 1e9]; volatility in [0, 5].
    const at = { ...fixed, volatility: 0.2, maturity: 1 };
    const smallest = 2 ** -149; // the smallest positive float32
    const firstBad = (column: number[], name = 'spot'): unknown => {
      try {
        priceColumns(
          blackScholesPricer,
          { ...at, spot: 100 },
          [name],
          [Float32Array.from(column)],
          ['price'],
        );
        return 'none';
      } catch (e) {
        return (e as PricingError).details.row;
      }
    };
    expect(firstBad([100, smallest, 1e9])).toBe('none');
    expect(firstBad([100, 1e9, 0])).toBe(2);
    expect(firstBad([100, -0, 1e9])).toBe(1);
    expect(firstBad([100, 1e9 + 64])).toBe(1); // the next float32 above 1e9
    expect(firstBad([Infinity, 100])).toBe(0);
    expect(firstBad([100, 100, -Infinity])).toBe(2);
    expect(firstBad([100, NaN, 0])).toBe(1);
    expect(firstBad([0, 5, 2.5], 'volatility')).toBe('none');
    expect(firstBad([0, 5, 5.000001], 'volatility')).toBe(2);
    expect(firstBad([-smallest, 5], 'volatility')).toBe(0);
    // The earliest bad row over all columns is the one reported.
    const e = caught(() =>
      priceColumns(
        blackScholesPricer,
        { ...at, spot: 100 },
        ['spot', 'volatility'],
        [new Float32Array([1, 2, 3, -1]), new Float32Array([0.1, 0.2, 7, 0.1])],
        ['price'],
      ),
    );
    expect(e.details).toMatchObject({ row: 2, parameter: 'volatility', value: 7 });
  });

  it('attributes an invalid first row to row 0 and shows unwritten outputs as NaN', () => {
    const e = caught(() =>
      priceColumns(
        blackScholesPricer,
        { ...fixed, spot: 100, maturity: 1 },
        ['volatility'],
        [new Float32Array([-1, 0.2])],
        ['price'],
      ),
    );
    expect(e.details).toMatchObject({ parameter: 'volatility', row: 0 });
    const lazy: Pricer = {
      name: 'lazy',
      version: '1',
      description: 'writes its second output only for positive x',
      parameters: [
        {
          kind: 'number',
          name: 'x',
          unit: '',
          description: '',
          min: -1,
          max: 1,
          minInclusive: true,
          maxInclusive: true,
        },
      ],
      outputs: ['a', 'b'],
      evaluate(p, out) {
        out[0] = 1;
        if ((p.x as number) > 0) out[1] = 2;
      },
    };
    const [, b] = priceColumns(lazy, {}, ['x'], [new Float32Array([0.5, -0.5])], ['a', 'b']);
    expect(Array.from(b)).toEqual([2, NaN]);
  });

  it('returns non-finite results instead of throwing, and wraps pricer exceptions', () => {
    const partial: Pricer = {
      name: 'partial',
      version: '1',
      description: 'log and sqrt',
      parameters: [
        {
          kind: 'number',
          name: 'x',
          unit: '',
          description: '',
          min: -1,
          max: 1,
          minInclusive: true,
          maxInclusive: true,
        },
      ],
      outputs: ['log', 'sqrt'],
      evaluate(p, out) {
        const x = p.x as number;
        if (x === 1) throw new Error('x = 1 is not allowed');
        out[0] = Math.log(x);
        out[1] = Math.sqrt(x);
      },
    };
    const cols = priceColumns(partial, {}, ['x'], [new Float32Array([0.5, 0.25, -0.5, 0])], ['log', 'sqrt']);
    expect(Array.from(cols[0])).toEqual([Math.log(0.5), Math.log(0.25), NaN, -Infinity]);
    expect(findNonFinite(cols, ['log', 'sqrt'])).toEqual({ row: 2, output: 'log', value: NaN });
    expect(findNonFinite([cols[1]], ['sqrt'])).toEqual({ row: 2, output: 'sqrt', value: NaN });
    expect(findNonFinite([cols[0].subarray(0, 2)], ['log'])).toBeNull();
    // At the lowest row, the earlier output wins; a later column with an earlier row wins over both.
    expect(findNonFinite([new Float64Array([1, Infinity]), new Float64Array([1, NaN])], ['a', 'b'])).toEqual({
      row: 1,
      output: 'a',
      value: Infinity,
    });
    expect(findNonFinite([new Float64Array([1, Infinity]), new Float64Array([NaN, 1])], ['a', 'b'])).toEqual({
      row: 0,
      output: 'b',
      value: NaN,
    });
    const e = caught(() => priceColumns(partial, {}, ['x'], [new Float32Array([0.5, 1])], ['log']));
    expect(e.code).toBe('PRICER_FAILED');
    expect(e.details).toMatchObject({ row: 1 });
  });

  it('black-scholes at the strike with zero volatility reports infinite gamma', () => {
    const cols = priceColumns(
      blackScholesPricer,
      { strike: 100, rate: 0, volatility: 0, maturity: 1 },
      ['spot'],
      [new Float32Array([90, 100])],
      ['price', 'gamma'],
    );
    expect(findNonFinite(cols, ['price', 'gamma'])).toEqual({ row: 1, output: 'gamma', value: Infinity });
  });

  describe('pricers that evaluate whole batches (evaluateColumns)', () => {
    // The same pricer without its batch method, priced row by row through evaluate.
    const rowByRow: Pricer = { ...blackScholesPricer, evaluateColumns: undefined };
    const wide = [
      { name: 'spot', min: 1, max: 400 },
      { name: 'rate', min: -0.2, max: 0.3 },
      { name: 'dividend', min: -0.1, max: 0.2 },
      { name: 'volatility', min: 0, max: 3 },
      { name: 'maturity', min: 0, max: 40 },
    ];

    it('black-scholes gives bit for bit the row-by-row values, degenerate rows included', () => {
      const inputs = chunkInputs({ sampler: 'sobol', seed: 9, box: wide, start: 0, count: 4096 });
      // Rows with σ = 0 or T = 0 (the deterministic branch) and at-the-money forwards.
      inputs[3][5] = 0;
      inputs[4][6] = 0;
      inputs[0][7] = 100;
      inputs[1][7] = 0;
      inputs[2][7] = 0;
      inputs[3][7] = 0;
      const names = wide.map((b) => b.name);
      for (const type of ['call', 'put']) {
        const outputs = blackScholesPricer.outputs;
        const batch = priceColumns(blackScholesPricer, { strike: 100, type }, names, inputs, outputs);
        const rows = priceColumns(rowByRow, { strike: 100, type }, names, inputs, outputs);
        outputs.forEach((name, j) => {
          for (let i = 0; i < 4096; i++) {
            if (!Object.is(batch[j][i], rows[j][i]))
              throw new Error(`${type} ${name} row ${i}: ${batch[j][i]} vs ${rows[j][i]}`);
          }
        });
        expect(batch[2][7]).toBe(Infinity); // gamma at the strike with σ = 0
      }
    });

    it('fills duplicate output columns and leaves unrequested outputs alone', () => {
      const inputs = [new Float32Array([90, 100, 110])];
      const [a, b, c] = priceColumns(
        blackScholesPricer,
        { ...fixed, volatility: 0.2, maturity: 1 },
        ['spot'],
        inputs,
        ['vega', 'price', 'vega'],
      );
      expect(c).not.toBe(a);
      expect(Array.from(c)).toEqual(Array.from(a));
      expect(b[2]).toBe(
        priceOne(blackScholesPricer, { ...fixed, spot: 110, volatility: 0.2, maturity: 1 }).price,
      );
    });

    it('validates every row (ranges and the pricer’s rules) before evaluating, and reports unwritten values as NaN', () => {
      let batches = 0;
      const halves: Pricer = {
        name: 'halves',
        version: '1',
        description: 'x/2 where x is even',
        parameters: [
          {
            kind: 'number',
            name: 'x',
            unit: '',
            description: 'x',
            min: 0,
            max: 10,
            minInclusive: true,
            maxInclusive: true,
          },
        ],
        outputs: ['half', 'never'],
        validate(p) {
          if (!Number.isInteger(p.x)) {
            throw new PricingError('INVALID_PARAMETER', `x = ${p.x} is not an integer`, {
              details: { pricer: 'halves', parameter: 'x', value: p.x, rule: 'integer' },
            });
          }
        },
        evaluate(p, out) {
          out[0] = (p.x as number) / 2;
        },
        evaluateColumns(batch) {
          batches++;
          const x = batch.inputs.get('x') as Float32Array;
          const half = batch.outputs[0] as Float64Array;
          for (let i = 0; i < batch.rows; i++) half[i] = x[i] / 2;
        },
      };
      const [half, never] = priceColumns(halves, {}, ['x'], [new Float32Array([2, 4, 6])], ['half', 'never']);
      expect(Array.from(half)).toEqual([1, 2, 3]);
      expect(Array.from(never).every(Number.isNaN)).toBe(true);
      expect(batches).toBe(1);
      const rule = caught(() => priceColumns(halves, {}, ['x'], [new Float32Array([2, 3.5, 11])], ['half']));
      expect(rule.details).toMatchObject({ row: 1, parameter: 'x', rule: 'integer' });
      const range = caught(() => priceColumns(halves, {}, ['x'], [new Float32Array([2, 4, 11])], ['half']));
      expect(range.details).toMatchObject({ row: 2, parameter: 'x', value: 11 });
      const nan = caught(() => priceColumns(halves, {}, ['x'], [new Float32Array([2, NaN])], ['half']));
      expect(nan.details).toMatchObject({ row: 1, parameter: 'x' });
      expect(batches).toBe(1); // no batch was evaluated for the invalid inputs
      const failing: Pricer = {
        ...halves,
        evaluateColumns() {
          throw new Error('disk full');
        },
      };
      const e = caught(() => priceColumns(failing, {}, ['x'], [new Float32Array([2])], ['half']));
      expect(e.code).toBe('PRICER_FAILED');
      expect(e.message).toContain('disk full');
    });
  });
});
