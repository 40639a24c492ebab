/**
 * Nanoseconds per price of the built-in pricers (evaluate() on validated parameters, the strike
 * varied per call). Run after `npx tsc -b`: node libs/pricing/bench/pricer-speed.js
 * A benchmark, never a test: timings depend on the machine and its load.
 */
'use strict';
const { getPricer, validateParams } = require('../dist/index');

function bench(name, params, calls) {
  const pricer = getPricer(name);
  const p = validateParams(pricer, params);
  const out = new Float64Array(pricer.outputs.length);
  const strike = p.strike;
  for (let i = 0; i < Math.min(calls, 200); i++) pricer.evaluate(p, out); // warm up
  let checksum = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    p.strike = strike * (0.8 + 0.4 * ((i % 41) / 40));
    pricer.evaluate(p, out);
    checksum += out[0];
  }
  const ns = Number(process.hrtime.bigint() - start) / calls;
  console.log(`${name.padEnd(18)} ${ns.toFixed(0).padStart(10)} ns/price  (${calls} calls, checksum ${checksum.toFixed(3)})`);
}

const market = { spot: 100, strike: 100, rate: 0.03, dividend: 0.01, maturity: 1, type: 'call' };
bench('black-scholes', { ...market, volatility: 0.2 }, 1_000_000);
bench('heston', { ...market, v0: 0.04, kappa: 2, theta: 0.04, sigma: 0.5, rho: -0.7 }, 20_000);
bench('heston', { ...market, rate: 0.01, dividend: 0.02, v0: 0.04, kappa: 4, theta: 0.25, sigma: 1, rho: -0.5 }, 20_000);
bench('barrier', { ...market, volatility: 0.25, barrierType: 'down-and-out', barrier: 90, rebate: 1 }, 200_000);
bench('asian-geometric', { ...market, volatility: 0.25, fixings: 12 }, 1_000_000);
bench('american', { ...market, volatility: 0.25, type: 'put' }, 1_000);
bench('asian-arithmetic', { ...market, volatility: 0.25, fixings: 12 }, 50);
