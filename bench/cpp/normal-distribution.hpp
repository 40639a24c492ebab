// Standard normal density and distribution function: a line-by-line C++ transcription of
// libs/pricing/src/normal-distribution.ts (W. J. Cody's ANORM, the SPECFUN coefficients), so that
// the benchmark compares the same algorithm in both languages.
#pragma once
#include <cmath>

namespace surrogate {

constexpr double INV_SQRT_2PI_CODY = 0.398942280401432677939946059934;
constexpr double SQRT_32 = 5.656854249492380195206754896838;
constexpr double TAIL_UNDERFLOW = 38.5;

constexpr double A0 = 2.2352520354606839287;
constexpr double A1 = 161.02823106855587881;
constexpr double A2 = 1067.6894854603709582;
constexpr double A3 = 18154.981253343561249;
constexpr double A4 = 0.065682337918207449113;
constexpr double B0 = 47.20258190468824187;
constexpr double B1 = 976.09855173777669322;
constexpr double B2 = 10260.932208618978205;
constexpr double B3 = 45507.789335026729956;

constexpr double C0 = 0.39894151208813466764;
constexpr double C1 = 8.8831497943883759412;
constexpr double C2 = 93.506656132177855979;
constexpr double C3 = 597.27027639480026226;
constexpr double C4 = 2494.5375852903726711;
constexpr double C5 = 6848.1904505362823326;
constexpr double C6 = 11602.651437647350124;
constexpr double C7 = 9842.7148383839780218;
constexpr double C8 = 1.0765576773720192317e-8;
constexpr double D0 = 22.266688044328115691;
constexpr double D1 = 235.38790178262499861;
constexpr double D2 = 1519.377599407554805;
constexpr double D3 = 6485.558298266760755;
constexpr double D4 = 18615.571640885098091;
constexpr double D5 = 34900.952721145977266;
constexpr double D6 = 38912.003286093271411;
constexpr double D7 = 19685.429676859990727;

constexpr double P0 = 0.21589853405795699;
constexpr double P1 = 0.1274011611602473639;
constexpr double P2 = 0.022235277870649807;
constexpr double P3 = 0.001421619193227893466;
constexpr double P4 = 2.9112874951168792e-5;
constexpr double P5 = 0.02307344176494017303;
constexpr double Q0 = 1.28426009614491121;
constexpr double Q1 = 0.468238212480865118;
constexpr double Q2 = 0.0659881378689285515;
constexpr double Q3 = 0.00378239633202758244;
constexpr double Q4 = 7.29751555083966205e-5;

constexpr double HALF_SQUARE_MAX = 40;

/** exp(−s²/2) at s = k/16, k = 0…640, computed once. */
struct ExpHalfSquareTable {
  double values[16 * 40 + 1];
  ExpHalfSquareTable() {
    for (int k = 0; k <= 16 * 40; k++) {
      const double s = k / 16.0;
      values[k] = std::exp(-0.5 * s * s);
    }
  }
};
inline const ExpHalfSquareTable EXP_HALF_SQUARE_SIXTEENTHS;

/** −(y − s)(y + s)/2 with s = min(y, 40) truncated to sixteenths. */
inline double halfSquareRest(double y) {
  const double s = std::trunc((y <= HALF_SQUARE_MAX ? y : HALF_SQUARE_MAX) * 16) / 16;
  return -0.5 * ((y - s) * (y + s));
}

/** exp(−s²/2), looked up: 0 beyond y > 40, NaN for NaN. */
inline double halfSquareHead(double y) {
  return y <= HALF_SQUARE_MAX ? EXP_HALF_SQUARE_SIXTEENTHS.values[static_cast<int>(y * 16)]
         : y > HALF_SQUARE_MAX ? 0
                               : NAN;
}

inline double expHalfSquare(double y) { return halfSquareHead(y) * std::exp(halfSquareRest(y)); }

inline double gaussian(double x) { return expHalfSquare(std::fabs(x)); }

inline double normPdf(double x) { return INV_SQRT_2PI_CODY * gaussian(x); }

inline double normCdfCentral(double x) {
  const double z = x * x;
  double num = A4 * z;
  double den = z;
  num = (num + A0) * z;
  den = (den + B0) * z;
  num = (num + A1) * z;
  den = (den + B1) * z;
  num = (num + A2) * z;
  den = (den + B2) * z;
  return 0.5 + (x * (num + A3)) / (den + B3);
}

inline double tailRatioFar(double y) {
  const double z = 1 / (y * y);
  double num = P5 * z;
  double den = z;
  num = (num + P0) * z;
  den = (den + Q0) * z;
  num = (num + P1) * z;
  den = (den + Q1) * z;
  num = (num + P2) * z;
  den = (den + Q2) * z;
  num = (num + P3) * z;
  den = (den + Q3) * z;
  const double r = (z * (num + P4)) / (den + Q4);
  return (INV_SQRT_2PI_CODY - r) / y;
}

/** Φ(−y)·exp(y²/2) for y > 0.67448975. */
inline double tailRatio(double y) {
  if (!(y <= SQRT_32)) return tailRatioFar(y);
  double num = C8 * y;
  double den = y;
  num = (num + C0) * y;
  den = (den + D0) * y;
  num = (num + C1) * y;
  den = (den + D1) * y;
  num = (num + C2) * y;
  den = (den + D2) * y;
  num = (num + C3) * y;
  den = (den + D3) * y;
  num = (num + C4) * y;
  den = (den + D4) * y;
  num = (num + C5) * y;
  den = (den + D5) * y;
  num = (num + C6) * y;
  den = (den + D6) * y;
  return (num + C7) / (den + D7);
}

/** Φ(x) given g = exp(−x²/2): only the parts the range of x needs. */
inline double normCdfGivenGaussian(double x, double g) {
  if (std::isnan(x)) return NAN;
  const double y = std::fabs(x);
  if (y <= 0.67448975) return normCdfCentral(x);
  const double tail = y < TAIL_UNDERFLOW ? g * tailRatio(y) : 0;
  return x > 0 ? 1 - tail : tail;
}

inline double normCdf(double x) {
  const double y = std::fabs(x);
  return normCdfGivenGaussian(x, y > 0.67448975 && y < TAIL_UNDERFLOW ? expHalfSquare(y) : 0);
}

}  // namespace surrogate
