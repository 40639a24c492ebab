// C++ reference for `surrogate bench pricing`: Heston price and delta.
// Input columns: spot, strike, rate, dividend, maturity, v0, kappa, theta, sigma, rho, isCall (1 or 0).
// Outputs: price, delta.
#include "bench-main.hpp"
#include "heston.hpp"

int main(int argc, char** argv) {
  surrogate::Heston heston;
  return surrogate::benchMain(argc, argv, 11, 2, [&heston](const double* const* c, size_t i, double* out) {
    heston.price(c[0][i], c[1][i], c[2][i], c[3][i], c[4][i], c[5][i], c[6][i], c[7][i], c[8][i], c[9][i],
                 c[10][i] != 0, out);
  });
}
