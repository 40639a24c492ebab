/**
 * The pricer, fixed parameters and input box the system tests' specs share (each test adds its own
 * name, sizes, training and validation). They are about delivery and resumption, not accuracy.
 */

/** Heston over a small box: tens of µs a price, so one worker thread takes seconds over 2^17 samples. */
export const HESTON_BOX = `pricer: heston
fixed: {type: call, strike: 100, dividend: 0, rate: 0.02, kappa: 1.5, theta: 0.04, sigma: 0.5, rho: -0.7}
inputs:
  spot: {min: 80, max: 120}
  maturity: {min: 0.25, max: 2}
  v0: {min: 0.01, max: 0.09}`;

/** Black–Scholes: sub-µs a price, for tests where pricing time does not matter. */
export const BLACK_SCHOLES_BOX = `pricer: black-scholes
fixed: {type: call, strike: 100, dividend: 0, rate: 0.01}
inputs:
  spot: {min: 80, max: 120}
  volatility: {min: 0.1, max: 0.5}
  maturity: {min: 0.1, max: 2}`;
