// Heston European price and delta: a line-by-line C++ transcription of hestonInto in
// libs/pricing/src/heston.ts — Lewis's single integral with the "little Heston trap"
// characteristic function, the Black–Scholes control variate with the expected integrated variance,
// the map u = t/((1 − t)√w) onto (0, 1), adaptive Gauss–Kronrod to 1e-10·π (tightened far from the
// money) with 2000 intervals.
#pragma once
#include <cmath>
#include "black-scholes.hpp"
#include "gauss-kronrod.hpp"

namespace surrogate {

constexpr double HESTON_INV_PI = 1 / M_PI;
constexpr double HESTON_TOLERANCE = 1e-10 * M_PI;
constexpr int HESTON_MAX_INTERVALS = 2000;

struct HestonIntegrand {
  double x = 0, w = 0, scale = 0, T = 0, v0 = 0, kappaTheta = 0, kappa = 0, sigma = 0, rho = 0,
         oneMinusRho2 = 0;

  void operator()(double t, double* out) const {
    const double omt = 1 - t;
    if (!(omt > 0)) {
      out[0] = 0;
      out[1] = 0;
      return;
    }
    const double u = (scale * t) / omt;
    const double jac = scale / (omt * omt);
    const double a = u * u + 0.25;
    const double s2a = sigma * sigma * a;

    const double br = kappa - 0.5 * rho * sigma;
    const double bi = -rho * sigma * u;
    const double d2r = br * br + sigma * sigma * (oneMinusRho2 * u * u + 0.25);
    const double d2i = 2 * br * bi;
    const double mod = std::sqrt(d2r * d2r + d2i * d2i);
    const double dr = std::sqrt(0.5 * (mod + d2r));
    const double di = d2i / (2 * dr);
    double sr = br + dr;
    double si = bi + di;
    double mr = br - dr;
    double mi = bi - di;
    const double ss = sr * sr + si * si;
    const double mm = mr * mr + mi * mi;
    if (ss >= mm) {
      mr = (-s2a * sr) / ss;
      mi = (s2a * si) / ss;
    } else {
      sr = (-s2a * mr) / mm;
      si = (s2a * mi) / mm;
    }
    const double sAbs2 = sr * sr + si * si;
    const double qr = (-a * sr) / sAbs2;
    const double qi = (a * si) / sAbs2;
    const double gr = (mr * sr + mi * si) / sAbs2;
    const double gi = (mi * sr - mr * si) / sAbs2;
    const double ed = std::exp(-dr * T);
    const double sh = std::sin(0.5 * di * T);
    const double ch = std::cos(0.5 * di * T);
    const double cd = 1 - 2 * sh * sh;
    const double sd = 2 * sh * ch;
    const double er = ed * cd;
    const double ei = -ed * sd;
    const double oer = -std::expm1(-dr * T) * cd + 2 * sh * sh;
    const double oei = ed * sd;
    const double ar = 1 - (gr * er - gi * ei);
    const double ai = -(gr * ei + gi * er);
    const double hr = 1 - gr;
    const double hi = -gi;
    const double nr = qr * oer - qi * oei;
    const double ni = qr * oei + qi * oer;
    const double aa = ar * ar + ai * ai;
    const double Dr = (nr * ar + ni * ai) / aa;
    const double Di = (ni * ar - nr * ai) / aa;
    const double pr = hr * sr - hi * si;
    const double pi = hr * si + hi * sr;
    const double pp = pr * pr + pi * pi;
    const double Wr = (nr * pr + ni * pi) / pp;
    const double Wi = (ni * pr - nr * pi) / pp;
    const double wr = sigma * sigma * Wr;
    const double wi = sigma * sigma * Wi;
    const double w2 = wr * wr + wi * wi;
    double Lr, Li;
    if (w2 < 1e-12) {
      const double w2r = wr * wr - wi * wi;
      const double w2i = 2 * wr * wi;
      const double w3r = w2r * wr - w2i * wi;
      const double w3i = w2r * wi + w2i * wr;
      Lr = 1 - 0.5 * wr + w2r / 3 - 0.25 * w3r;
      Li = -0.5 * wi + w2i / 3 - 0.25 * w3i;
    } else {
      const double lr = 0.5 * std::log1p(2 * wr + w2);
      const double li = std::atan2(wi, 1 + wr);
      Lr = (lr * wr + li * wi) / w2;
      Li = (li * wr - lr * wi) / w2;
    }
    const double WLr = Wr * Lr - Wi * Li;
    const double WLi = Wr * Li + Wi * Lr;
    const double Ar = kappaTheta * (qr * T - 2 * WLr) + v0 * Dr;
    const double Ai = kappaTheta * (qi * T - 2 * WLi) + v0 * Di;

    const double phase = u * x;
    const double eh = std::exp(Ar);
    const double ca = std::cos(phase + Ai);
    const double sa = std::sin(phase + Ai);
    const double eb = std::exp(-0.5 * w * a);
    const double cb = std::cos(phase);
    const double sb = std::sin(phase);
    const double df = (eh * ca - eb * cb) / a;
    const double dg = (-u * (eh * sa - eb * sb)) / a;
    out[0] = df * jac;
    out[1] = (0.5 * df + dg) * jac;
  }
};

inline double hestonIntegratedVariance(double v0, double kappa, double theta, double maturity) {
  const double decay = kappa * maturity > 1e-300 ? -std::expm1(-kappa * maturity) / kappa : maturity;
  const double w = theta * maturity + (v0 - theta) * decay;
  return w > 0 ? w : 0;
}

class Heston {
 public:
  Heston() : quadrature_(HESTON_MAX_INTERVALS) {}

  /** Writes price and delta into out[0..1]. */
  void price(double spot, double strike, double rate, double dividend, double maturity, double v0,
             double kappa, double theta, double sigma, double rho, bool isCall, double* out) {
    const double w = hestonIntegratedVariance(v0, kappa, theta, maturity);
    const bool deterministic =
        maturity == 0 || sigma == 0 || w < 1e-16 || (v0 == 0 && kappa * theta == 0);
    const double bsVol = maturity > 0 ? std::sqrt(w / maturity) : 0;
    blackScholesInto(spot, strike, rate, dividend, bsVol, maturity, isCall, bs_);
    if (deterministic) {
      out[0] = bs_[0];
      out[1] = bs_[1];
      return;
    }
    const double forward = spot * std::exp((rate - dividend) * maturity);
    HestonIntegrand& q = integrand_;
    q.x = std::log(forward / strike);
    q.w = w;
    q.scale = 1 / std::sqrt(w);
    q.T = maturity;
    q.v0 = v0;
    q.kappa = kappa;
    q.kappaTheta = kappa * theta;
    q.sigma = sigma;
    q.rho = rho;
    q.oneMinusRho2 = (1 - rho) * (1 + rho);
    const double ratio = forward < strike ? forward / strike : strike / forward;
    const double scale = 4 * std::sqrt(ratio);
    quadrature_.integrate(q, true, 0, 1, scale < 1 ? HESTON_TOLERANCE * scale : HESTON_TOLERANCE, 3);
    const double df = std::exp(-rate * maturity);
    const double factor = df * std::sqrt(forward * strike) * HESTON_INV_PI;
    const double sDq = df * forward;
    const double kDf = df * strike;
    const double lower = isCall ? (sDq > kDf ? sDq - kDf : 0) : kDf > sDq ? kDf - sDq : 0;
    const double upper = isCall ? sDq : kDf;
    const double price = bs_[0] - factor * quadrature_.value[0];
    out[0] = price < lower ? lower : price > upper ? upper : price;
    out[1] = bs_[1] - (factor / spot) * quadrature_.value[1];
  }

 private:
  AdaptiveGaussKronrod quadrature_;
  HestonIntegrand integrand_;
  double bs_[6] = {0, 0, 0, 0, 0, 0};
};

}  // namespace surrogate
