// kernel_density skips the terms too small to change its running sums; the
// curve must be the one every term added gives, bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "archetype/distribution.hpp"

namespace archetype {
namespace {

/// The curve's heights as first written, at the curve's own points and
/// bandwidth: every term whose exp does not underflow added in row order
/// (the oracle for the sums that skip terms).
std::vector<double> every_term(const std::vector<float>& col, std::size_t max_rows, const DensityCurve& at) {
  const std::size_t stride = std::max<std::size_t>(1, (col.size() + max_rows - 1) / max_rows);
  std::vector<double> v;
  for (std::size_t i = 0; i < col.size(); i += stride) v.push_back(col[i]);
  const double h = at.bandwidth;
  const double norm = 1.0 / (static_cast<double>(v.size()) * h * std::sqrt(2.0 * M_PI));
  std::vector<double> y;
  for (double x : at.x) {
    double s = 0.0;
    for (double xi : v) {
      const double z = (x - xi) / h;
      const double e = -0.5 * z * z;
      if (e > -746.0) s += std::exp(e);
    }
    y.push_back(s * norm);
  }
  return y;
}

TEST(KernelDensity, SkippedTermsLeaveTheBitsOfEveryTerm) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::cauchy_distribution<float> cauchy(0.0f, 1.0f);
  for (int kind = 0; kind < 4; ++kind) {
    for (std::size_t n : {1u, 2u, 7u, 3000u, 12001u}) {
      std::vector<float> col(n);
      for (float& x : col) {
        switch (kind) {
          case 0: x = normal(rng); break;
          case 1: x = cauchy(rng); break;                                   // heavy tails
          case 2: x = (rng() % 3 == 0 ? 50.0f : 0.0f) + normal(rng); break;  // two far modes
          default: x = static_cast<float>(rng() % 4); break;                // few values
        }
      }
      Matrix X(n, 1);
      X.values = col;
      const DensityCurve got = kernel_density(X, 0, 200, 5000);
      ASSERT_EQ(got.x.size(), 200u);
      ASSERT_GT(got.bandwidth, 0.0);
      const std::vector<double> want = every_term(col, 5000, got);
      for (std::size_t p = 0; p < want.size(); ++p)
        ASSERT_EQ(got.y[p], want[p]) << "kind " << kind << " n " << n << " point " << p;
    }
  }
}

}  // namespace
}  // namespace archetype
