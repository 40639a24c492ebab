// Globally adaptive Gauss–Kronrod (QK21) quadrature of one or two integrands: a C++ transcription
// of libs/pricing/src/gauss-kronrod.ts (same nodes, same bisection order, same stopping rule). The
// integrand is a template parameter, as idiomatic C++ would have it (the compiler may inline it).
#pragma once
#include <cmath>
#include <vector>

namespace surrogate {

constexpr double XGK[11] = {
    0.995657163025808080735527280689003, 0.973906528517171720077964012084452,
    0.930157491355708226001207180059508, 0.865063366688984510732096688423493,
    0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
    0.562757134668604683339000099272694, 0.433395394129247190799265943165784,
    0.294392862701460198131126603103866, 0.14887433898163121088482600112972,
    0,
};
constexpr double WGK[11] = {
    0.011694638867371874278064396062192, 0.03255816230796472747881897245939,
    0.05475589657435199603138130024458,  0.07503967481091995276704314091619,
    0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
    0.123491976262065851077600525452125, 0.134709217311473325928054001771707,
    0.142775938577060080797094273138717, 0.147739104901338491374841515972068,
    0.149445554002916905664936468389821,
};
constexpr double WG[5] = {
    0.066671344308688137593568809893332, 0.149451349150580593145776339657697,
    0.219086362515982043995534934228163, 0.269266719309996355091226921569469,
    0.295524224714752870173892994651338,
};

class AdaptiveGaussKronrod {
 public:
  explicit AdaptiveGaussKronrod(int maxIntervals)
      : maxIntervals_(maxIntervals),
        lo_(maxIntervals),
        hi_(maxIntervals),
        err_(maxIntervals),
        val0_(maxIntervals),
        val1_(maxIntervals) {}

  double value[2] = {0, 0};
  double error = 0;
  int evaluations = 0;

  /** Integrates f (writing two components) over [a, b], first split into `pieces` intervals. */
  template <class F>
  void integrate(F& f, bool two, double a, double b, double tolerance, int pieces) {
    int n = 0;
    int evals = 0;
    const double width = (b - a) / pieces;
    for (int i = 0; i < pieces; i++) {
      const double l = a + i * width;
      const double r = i == pieces - 1 ? b : a + (i + 1) * width;
      rule(f, two, l, r);
      evals += 21;
      lo_[n] = l;
      hi_[n] = r;
      val0_[n] = part_[0];
      val1_[n] = part_[1];
      err_[n] = part_[2];
      n++;
    }
    for (;;) {
      double total = 0;
      int worst = 0;
      for (int i = 0; i < n; i++) {
        total += err_[i];
        if (err_[i] > err_[worst]) worst = i;
      }
      if (total <= tolerance || n >= maxIntervals_) break;
      const double l = lo_[worst];
      const double r = hi_[worst];
      const double m = 0.5 * (l + r);
      if (!(m > l && m < r)) break;
      rule(f, two, l, m);
      val0_[worst] = part_[0];
      val1_[worst] = part_[1];
      err_[worst] = part_[2];
      hi_[worst] = m;
      rule(f, two, m, r);
      lo_[n] = m;
      hi_[n] = r;
      val0_[n] = part_[0];
      val1_[n] = part_[1];
      err_[n] = part_[2];
      n++;
      evals += 42;
    }
    double v0 = 0, v1 = 0, e = 0;
    for (int i = 0; i < n; i++) {
      v0 += val0_[i];
      v1 += val1_[i];
      e += err_[i];
    }
    value[0] = v0;
    value[1] = v1;
    error = e;
    evaluations = evals;
  }

 private:
  template <class F>
  void rule(F& f, bool two, double a, double b) {
    const double c = 0.5 * (a + b);
    const double h = 0.5 * (b - a);
    double fx[2];
    f(c, fx);
    double k0 = WGK[10] * fx[0];
    double g0 = 0;
    double k1 = two ? WGK[10] * fx[1] : 0;
    double g1 = 0;
    for (int j = 0; j < 10; j++) {
      const double dx = h * XGK[j];
      f(c - dx, fx);
      const double l0 = fx[0];
      const double l1 = fx[1];
      f(c + dx, fx);
      const double s0 = l0 + fx[0];
      k0 += WGK[j] * s0;
      if (j & 1) g0 += WG[j >> 1] * s0;
      if (two) {
        const double s1 = l1 + fx[1];
        k1 += WGK[j] * s1;
        if (j & 1) g1 += WG[j >> 1] * s1;
      }
    }
    part_[0] = k0 * h;
    part_[1] = k1 * h;
    const double e0 = std::fabs((k0 - g0) * h);
    const double e1 = std::fabs((k1 - g1) * h);
    part_[2] = e0 > e1 ? e0 : e1;
  }

  int maxIntervals_;
  std::vector<double> lo_, hi_, err_, val0_, val1_;
  double part_[3] = {0, 0, 0};
};

}  // namespace surrogate
