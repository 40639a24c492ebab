// Black–Scholes–Merton price and greeks: a C++ transcription of blackScholesRows in
// libs/pricing/src/black-scholes-rows.ts, row by row, written as natural C++: the same formulas and
// the same Cody normal CDF, evaluating only what each row needs (the TypeScript kernel's
// arrangement into passes over blocks of rows, which only serves V8's inliner, is not copied). exp
// and log are the C library's; the TypeScript side uses its own (libs/pricing/src/exponential.ts
// and logarithm.ts, each within one ulp of it).
#pragma once
#include <cmath>
#include "normal-distribution.hpp"

namespace surrogate {

constexpr double INV_SQRT_2PI = 0.3989422804014327;

/** Writes price, delta, gamma, vega, theta, rho into out[0..5]. */
inline void blackScholesInto(double spot, double strike, double rate, double dividend, double volatility,
                             double maturity, bool isCall, double* out) {
  const double sqrtT = std::sqrt(maturity);
  const double stdDev = volatility * sqrtT;
  const double dq = std::exp(-dividend * maturity);
  const double df = std::exp(-rate * maturity);
  const double sDq = spot * dq;
  const double kDf = strike * df;

  if (stdDev > 0) {
    const double d1 = (std::log(spot / strike) + (rate - dividend) * maturity) / stdDev + 0.5 * stdDev;
    const double d2 = d1 - stdDev;
    const double g1 = gaussian(d1);
    const double pdf = INV_SQRT_2PI * g1;
    const double decay = (-sDq * pdf * volatility) / (2 * sqrtT);
    if (isCall) {
      const double n1 = normCdfGivenGaussian(d1, g1);
      const double n2 = normCdf(d2);
      out[0] = sDq * n1 - kDf * n2;
      out[1] = dq * n1;
      out[4] = decay - rate * kDf * n2 + dividend * sDq * n1;
      out[5] = kDf * maturity * n2;
    } else {
      const double n1 = normCdfGivenGaussian(-d1, g1);
      const double n2 = normCdf(-d2);
      out[0] = kDf * n2 - sDq * n1;
      out[1] = -dq * n1;
      out[4] = decay + rate * kDf * n2 - dividend * sDq * n1;
      out[5] = -kDf * maturity * n2;
    }
    out[2] = (dq * pdf) / (spot * stdDev);
    out[3] = sDq * pdf * sqrtT;
    return;
  }

  const double moneyness = sDq - kDf;
  const bool atStrike = moneyness == 0;
  const double w = moneyness > 0 ? 1 : atStrike ? 0.5 : 0;
  if (isCall) {
    out[0] = moneyness > 0 ? moneyness : 0;
    out[1] = dq * w;
    out[4] = w * (dividend * sDq - rate * kDf);
    out[5] = w * kDf * maturity;
  } else {
    const double v = 1 - w;
    out[0] = moneyness < 0 ? -moneyness : 0;
    out[1] = -dq * v;
    out[4] = v * (rate * kDf - dividend * sDq);
    out[5] = -v * kDf * maturity;
  }
  out[2] = atStrike ? INFINITY : 0;
  out[3] = atStrike ? sDq * sqrtT * INV_SQRT_2PI : 0;
  if (atStrike && volatility > 0) out[4] = -INFINITY;
}

}  // namespace surrogate
