import type { ChoiceParameter, NumberParameter } from './parameter-spec';

const NUMBER = { kind: 'number' as const, minInclusive: true, maxInclusive: true };

/**
 * Parameter specs shared by the option pricers, so that a parameter has the same name, unit and
 * valid range in every pricer that takes it (those of `black-scholes`).
 */
export const SPOT: NumberParameter = Object.freeze({
  ...NUMBER,
  name: 'spot',
  unit: 'currency',
  description: 'Spot price of the underlying',
  min: 0,
  max: 1e9,
  minInclusive: false,
});

export const STRIKE: NumberParameter = Object.freeze({
  ...NUMBER,
  name: 'strike',
  unit: 'currency',
  description: 'Strike price',
  min: 0,
  max: 1e9,
  minInclusive: false,
});

export const RATE: NumberParameter = Object.freeze({
  ...NUMBER,
  name: 'rate',
  unit: '1/year',
  description: 'Risk-free rate, continuously compounded',
  min: -1,
  max: 1,
});

export const DIVIDEND: NumberParameter = Object.freeze({
  ...NUMBER,
  name: 'dividend',
  unit: '1/year',
  description: 'Continuous dividend yield (the foreign rate for an FX option)',
  min: -1,
  max: 1,
  default: 0,
});

export const VOLATILITY: NumberParameter = Object.freeze({
  ...NUMBER,
  name: 'volatility',
  unit: '1/sqrt(year)',
  description: 'Lognormal volatility',
  min: 0,
  max: 5,
});

export const MATURITY: NumberParameter = Object.freeze({
  ...NUMBER,
  name: 'maturity',
  unit: 'years',
  description: 'Time to expiry',
  min: 0,
  max: 100,
  // option values move with σ√T: near expiry they bend sharply, and √T spreads that region out
  scaling: 'sqrt',
});

export const OPTION_TYPE: ChoiceParameter = Object.freeze({
  kind: 'choice' as const,
  name: 'type',
  description: 'Option type',
  values: Object.freeze(['call', 'put']),
  default: 'call',
});

/** A number parameter with inclusive bounds. */
export function numberParameter(
  name: string,
  unit: string,
  description: string,
  min: number,
  max: number,
  extra: Partial<NumberParameter> = {},
): NumberParameter {
  return Object.freeze({ ...NUMBER, name, unit, description, min, max, ...extra });
}
