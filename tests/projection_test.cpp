// The segmentation figure's PCA view of data with more than 2 features:
// the components and explained variance of a known covariance, the sign
// convention, and scores of the rows.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "study/projection.hpp"

namespace archetype {
namespace {

// Rows with independent features of standard deviations 3, 2, 1, 0.5
// (then rotated so no axis is a coordinate axis): the components are the
// rotated axes and the explained shares 9/14.25 and 4/14.25.
TEST(Pca2, FindsTheTwoLargestVarianceDirections) {
  const double sd[4] = {3.0, 2.0, 1.0, 0.5};
  // An orthonormal rotation (a Householder reflection of (1,1,1,1)/2).
  const auto rot = [](std::size_t i, std::size_t j) { return (i == j ? 1.0 : 0.0) - 0.5; };
  std::mt19937_64 rng(11);
  std::normal_distribution<double> g(0.0, 1.0);
  Matrix z(20000, 4);
  for (std::size_t r = 0; r < z.rows; ++r) {
    double u[4];
    for (std::size_t j = 0; j < 4; ++j) u[j] = sd[j] * g(rng);
    for (std::size_t i = 0; i < 4; ++i) {
      double s = 0.0;
      for (std::size_t j = 0; j < 4; ++j) s += rot(i, j) * u[j];
      z.at(r, i) = static_cast<float>(s);
    }
  }
  const Pca2 p = fit_pca2(z);
  EXPECT_NEAR(p.explained[0], 9.0 / 14.25, 0.02);
  EXPECT_NEAR(p.explained[1], 4.0 / 14.25, 0.02);
  for (std::size_t a = 0; a < 2; ++a) {
    double along = 0.0, norm = 0.0;
    for (std::size_t i = 0; i < 4; ++i) {
      along += p.axes[a][i] * rot(i, a);
      norm += p.axes[a][i] * p.axes[a][i];
    }
    EXPECT_NEAR(std::fabs(along), 1.0, 1e-3) << "component " << a;
    EXPECT_NEAR(norm, 1.0, 1e-12);
    double big = 0.0;
    for (double v : p.axes[a]) big = std::fabs(v) > std::fabs(big) ? v : big;
    EXPECT_GT(big, 0.0) << "the largest loading is positive";
  }
  // Scores are the centred row along each component.
  const std::array<double, 2> s = p.scores(z.row(7));
  double expect0 = 0.0;
  for (std::size_t j = 0; j < 4; ++j) expect0 += (z.at(7, j) - p.mean[j]) * p.axes[0][j];
  EXPECT_DOUBLE_EQ(s[0], expect0);
}

// 2,000 features (above 1,414: the Gram matrix of the rows, never a
// d x d covariance) along two known orthogonal directions plus a little
// noise: the components are those directions.
TEST(Pca2, WideDataFindTheirDirectionsWithoutACovariance) {
  constexpr std::size_t d = 2000, n = 80;
  std::vector<double> a1(d), a2(d);
  for (std::size_t j = 0; j < d; ++j) {
    a1[j] = 1.0 / std::sqrt(static_cast<double>(d));
    a2[j] = (j % 2 == 0 ? 1.0 : -1.0) / std::sqrt(static_cast<double>(d));
  }
  std::mt19937_64 rng(5);
  std::normal_distribution<double> g(0.0, 1.0);
  Matrix z(n, d);
  for (std::size_t i = 0; i < n; ++i) {
    const double s1 = 40.0 * g(rng), s2 = 15.0 * g(rng);
    for (std::size_t j = 0; j < d; ++j) z.at(i, j) = static_cast<float>(s1 * a1[j] + s2 * a2[j] + 0.01 * g(rng));
  }
  const Pca2 p = fit_pca2(z);
  const auto dot = [](const std::vector<double>& x, const std::vector<double>& y) {
    double s = 0.0;
    for (std::size_t j = 0; j < x.size(); ++j) s += x[j] * y[j];
    return s;
  };
  EXPECT_NEAR(std::fabs(dot(p.axes[0], a1)), 1.0, 1e-3);
  EXPECT_NEAR(std::fabs(dot(p.axes[1], a2)), 1.0, 1e-3);
  EXPECT_NEAR(dot(p.axes[0], p.axes[0]), 1.0, 1e-12);
  EXPECT_NEAR(dot(p.axes[1], p.axes[1]), 1.0, 1e-12);
  EXPECT_NEAR(dot(p.axes[0], p.axes[1]), 0.0, 1e-9);
  EXPECT_GT(p.explained[0], p.explained[1]);
  EXPECT_GT(p.explained[0] + p.explained[1], 0.99);
  EXPECT_LE(p.explained[0] + p.explained[1], 1.0 + 1e-9);
  // Deterministic.
  const Pca2 q = fit_pca2(z);
  EXPECT_EQ(p.axes[0], q.axes[0]);
  EXPECT_EQ(p.explained, q.explained);
}

TEST(Pca2, SampleOfAWideMatrixIsBoundedAndDeterministic) {
  Matrix z(3000, 300);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (float& v : z.values) v = u(rng);
  for (std::size_t i = 0; i < z.rows; ++i) z.at(i, 5) = 4.0f * z.at(i, 0);  // one dominant direction
  const Pca2 a = fit_pca2(z), b = fit_pca2(z);
  EXPECT_EQ(a.axes[0], b.axes[0]);
  EXPECT_EQ(a.explained, b.explained);
  EXPECT_GT(a.explained[0], a.explained[1]);
  EXPECT_GT(std::fabs(a.axes[0][5]), 0.9);
}

}  // namespace
}  // namespace archetype
