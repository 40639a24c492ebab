import { SurrogateError } from '@surrogate/core';
import {
  PricingError,
  blackScholes,
  blackScholesPricer,
  checkRange,
  priceOne,
  validateParams,
  type Pricer,
} from './index';

const base = { spot: 100, strike: 95, rate: 0.03, volatility: 0.2, maturity: 1 };

function caught(f: () => unknown): PricingError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(PricingError);
    expect(e).toBeInstanceOf(SurrogateError);
    return e as PricingError;
  }
  throw new Error('expected an error');
}

describe('validateParams', () => {
  it('applies defaults and returns every parameter in spec order', () => {
    const v = validateParams(blackScholesPricer, base);
    expect(v).toEqual({ ...base, dividend: 0, type: 'call' });
    expect(Object.keys(v)).toEqual(['spot', 'strike', 'rate', 'dividend', 'volatility', 'maturity', 'type']);
    expect(validateParams(blackScholesPricer, { ...base, type: 'put', dividend: 0.01 })).toMatchObject({
      type: 'put',
      dividend: 0.01,
    });
    // An explicit undefined counts as absent.
    expect(validateParams(blackScholesPricer, { ...base, type: undefined }).type).toBe('call');
  });

  it('accepts inclusive bounds and rejects exclusive ones', () => {
    expect(
      validateParams(blackScholesPricer, { ...base, volatility: 0, maturity: 0, rate: -1 }),
    ).toMatchObject({ volatility: 0, maturity: 0, rate: -1 });
    expect(
      validateParams(blackScholesPricer, { ...base, volatility: 5, maturity: 100, rate: 1, spot: 1e9 }),
    ).toMatchObject({ volatility: 5 });
    const e = caught(() => validateParams(blackScholesPricer, { ...base, spot: 0 }));
    expect(e.code).toBe('INVALID_PARAMETER');
    expect(e.message).toBe('black-scholes: spot = 0 is outside its valid range (0, 1000000000]');
  });

  it('UNKNOWN_PARAMETER lists the valid parameters', () => {
    const e = caught(() => validateParams(blackScholesPricer, { ...base, vol: 0.2 }));
    expect(e.code).toBe('UNKNOWN_PARAMETER');
    expect(e.message).toContain('"vol"');
    expect(e.message).toContain('spot, strike, rate, dividend, volatility, maturity, type');
    expect(e.details).toMatchObject({ parameter: 'vol', value: 0.2 });
  });

  it('MISSING_PARAMETER names the parameter', () => {
    const e = caught(() =>
      validateParams(blackScholesPricer, { spot: 100, strike: 95, rate: 0.03, volatility: 0.2 }),
    );
    expect(e.code).toBe('MISSING_PARAMETER');
    expect(e.message).toContain('maturity');
    expect(e.details).toEqual({
      pricer: 'black-scholes',
      parameter: 'maturity',
      value: undefined,
      rule: 'required',
    });
  });

  it('INVALID_PARAMETER names the parameter, the value and the rule', () => {
    const e = caught(() => validateParams(blackScholesPricer, { ...base, volatility: -0.2 }));
    expect(e.code).toBe('INVALID_PARAMETER');
    expect(e.message).toBe('black-scholes: volatility = -0.2 is outside its valid range [0, 5]');
    expect(e.details).toEqual({
      pricer: 'black-scholes',
      parameter: 'volatility',
      value: -0.2,
      rule: 'range [0, 5]',
    });

    const s = caught(() => validateParams(blackScholesPricer, { ...base, volatility: '0.2' }));
    expect(s.message).toBe('black-scholes: volatility = "0.2" is not a number');
    expect(s.details).toMatchObject({ parameter: 'volatility', value: '0.2', rule: 'number' });

    for (const bad of [NaN, Infinity]) {
      expect(caught(() => validateParams(blackScholesPricer, { ...base, rate: bad })).details).toMatchObject({
        rule: 'finite number',
      });
    }
    const c = caught(() => validateParams(blackScholesPricer, { ...base, type: 'straddle' }));
    expect(c.message).toBe('black-scholes: type = "straddle" is not one of call, put');
    expect(c.details).toMatchObject({ parameter: 'type', value: 'straddle', rule: 'one of call, put' });
    expect(caught(() => validateParams(blackScholesPricer, { ...base, type: 1 })).details).toMatchObject({
      rule: 'one of call, put',
    });
    expect(
      caught(() => validateParams(blackScholesPricer, null as unknown as Record<string, unknown>)).code,
    ).toBe('INVALID_ARGUMENT');
  });
});

describe('checkRange', () => {
  it('accepts a sampling box inside the valid range', () => {
    expect(() => checkRange(blackScholesPricer, 'volatility', 0, 5)).not.toThrow();
    expect(() => checkRange(blackScholesPricer, 'spot', 1, 1)).not.toThrow();
  });

  it('rejects boxes outside the range, reversed or non-finite boxes, and choice parameters', () => {
    const e = caught(() => checkRange(blackScholesPricer, 'volatility', -0.1, 0.5));
    expect(e.code).toBe('INVALID_PARAMETER');
    expect(e.message).toBe(
      'black-scholes: volatility sampling range [-0.1, 0.5]: -0.1 is outside its valid range [0, 5]',
    );
    expect(e.details).toEqual({
      pricer: 'black-scholes',
      parameter: 'volatility',
      value: [-0.1, 0.5],
      rule: 'range [0, 5]',
    });
    expect(caught(() => checkRange(blackScholesPricer, 'maturity', 1, 101)).message).toContain(
      '101 is outside',
    );
    expect(caught(() => checkRange(blackScholesPricer, 'spot', 0, 10)).message).toContain(
      '0 is outside its valid range (0, 1000000000]',
    );
    expect(caught(() => checkRange(blackScholesPricer, 'spot', 10, 5)).details).toMatchObject({
      rule: 'finite min <= max',
    });
    expect(caught(() => checkRange(blackScholesPricer, 'spot', 1, Infinity)).details).toMatchObject({
      rule: 'finite min <= max',
    });
    expect(caught(() => checkRange(blackScholesPricer, 'type', 0, 1)).details).toMatchObject({
      rule: 'number parameter',
    });
    expect(caught(() => checkRange(blackScholesPricer, 'sigma', 0, 1)).code).toBe('UNKNOWN_PARAMETER');
  });

  it('rejects bounds that leave the range once rounded to float32', () => {
    // 1e-50 > 0 is valid, but inputs travel as float32 and 1e-50 rounds to 0.
    const e = caught(() => checkRange(blackScholesPricer, 'spot', 1e-50, 1));
    expect(e.message).toContain('1e-50 rounds to 0 in float32');
    // A bound on the edge of the range whose float32 rounding falls outside: fround(0.1) > 0.1.
    const unit: Pricer = {
      ...blackScholesPricer,
      name: 'unit-interval',
      parameters: [
        {
          kind: 'number',
          name: 'p',
          unit: '',
          description: 'probability',
          min: 0,
          max: 0.1,
          minInclusive: true,
          maxInclusive: true,
        },
      ],
    };
    expect(Math.fround(0.1)).toBeGreaterThan(0.1);
    expect(caught(() => checkRange(unit, 'p', 0, 0.1)).details).toMatchObject({
      rule: 'range [0, 0.1] after float32 rounding',
    });
  });
});

describe('priceOne', () => {
  it('validates, evaluates and names every output', () => {
    const r = priceOne(blackScholesPricer, { ...base, type: 'put' });
    expect(Object.keys(r)).toEqual(['price', 'delta', 'gamma', 'vega', 'theta', 'rho']);
    expect(r).toEqual(blackScholes({ ...base, dividend: 0, type: 'put' }));
    expect(caught(() => priceOne(blackScholesPricer, { ...base, maturity: -1 })).code).toBe(
      'INVALID_PARAMETER',
    );
  });

  it('wraps a pricer failure in PRICER_FAILED with the cause', () => {
    const broken: Pricer = {
      ...blackScholesPricer,
      name: 'broken',
      evaluate() {
        throw new Error('division by zero');
      },
    };
    const e = caught(() => priceOne(broken, base));
    expect(e.code).toBe('PRICER_FAILED');
    expect(e.message).toContain('division by zero');
    expect((e.cause as Error).message).toBe('division by zero');
  });
});
