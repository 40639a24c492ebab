import { parseSpec, type ExperimentSpec } from '@surrogate/spec';

/**
 * The producer tests' experiment: a two-input Black–Scholes spec of 4 training chunks and 1
 * validation chunk (1000 samples in chunks of 300, 250 validation samples), named `name`.
 */
export function smallSpec(name: string): ExperimentSpec {
  return parseSpec(`
name: ${name}
pricer: black-scholes
fixed: {type: call, strike: 100, dividend: 0, rate: 0.01, maturity: 1}
inputs: {spot: {min: 80, max: 120}, volatility: {min: 0.1, max: 0.5}}
samples: 1000
chunkSize: 300
validation: {samples: 250}
`);
}
