// C++ reference for `surrogate bench pricing`: Black–Scholes price and greeks.
// Input columns: spot, strike, rate, dividend, volatility, maturity, isCall (1 or 0).
// Outputs: price, delta, gamma, vega, theta, rho.
#include "bench-main.hpp"
#include "black-scholes.hpp"

int main(int argc, char** argv) {
  return surrogate::benchMain(argc, argv, 7, 6, [](const double* const* c, size_t i, double* out) {
    surrogate::blackScholesInto(c[0][i], c[1][i], c[2][i], c[3][i], c[4][i], c[5][i], c[6][i] != 0, out);
  });
}
