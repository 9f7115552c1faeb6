#include "archetype/kneedle.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace archetype {
namespace {

std::vector<double> range(double from, double to) {
  std::vector<double> v;
  for (double x = from; x <= to; x += 1.0) v.push_back(x);
  return v;
}

TEST(KneedleReference, InertiaCurveKneeAtFour) {
  // Inertia for k = 2..10 on the reference data.  By hand:
  //   x_norm = (k - 2) / 8, y_norm = (y - 225.0068) / 2669.4470,
  //   D = (1 - y_norm) - x_norm
  //     = [0, .5478, .6119, .5726, .4618, .3489, .2331, .1170, 0].
  // The only local maximum is index 2 (D = .6119); its threshold is
  // .6119 - mean(diff(x_norm)) = .6119 - .125 = .4869.  D[3] = .5726 stays
  // above, D[4] = .4618 falls below it first, so the knee is index 2, k = 4.
  const std::vector<double> x = range(2, 10);
  const std::vector<double> y = {2894.453828799, 1098.524009228, 593.574481068,
                                 364.868961701,  326.923907236,  294.744156344,
                                 270.056431295,  246.237501802,  225.006800368};
  const auto knee = find_knee(x, y);
  ASSERT_TRUE(knee.has_value());
  EXPECT_EQ(*knee, 2u);
  EXPECT_EQ(x[*knee], 4.0);
}

TEST(KneedleReference, HighSensitivityFindsNothing) {
  // S = 10 puts the threshold at .6119 - 1.25 < 0; D never drops that low.
  const std::vector<double> y = {2894.453828799, 1098.524009228, 593.574481068,
                                 364.868961701,  326.923907236,  294.744156344,
                                 270.056431295,  246.237501802,  225.006800368};
  EXPECT_FALSE(find_knee(range(2, 10), y, CurveShape::ConvexDecreasing, 10.0).has_value());
}

TEST(KneedleShapes, TextbookInverseCurve) {
  // y = 1/x on 1..10: D = [0, .444, .519, .5, .444, ...]; maximum at index 2
  // (threshold .519 - 1/9 = .407), D[5] = .370 is the first point below.
  const std::vector<double> x = range(1, 10);
  std::vector<double> y;
  for (double v : x) y.push_back(1.0 / v);
  EXPECT_EQ(find_knee(x, y), std::optional<std::size_t>(2));
}

TEST(KneedleShapes, ConcaveIncreasingMirror) {
  // y = 1 - 1/x has the same normalised difference curve as 1/x.
  const std::vector<double> x = range(1, 10);
  std::vector<double> y;
  for (double v : x) y.push_back(1.0 - 1.0 / v);
  EXPECT_EQ(find_knee(x, y, CurveShape::ConcaveIncreasing), std::optional<std::size_t>(2));
}

TEST(KneedleDegenerate, NoKnee) {
  EXPECT_FALSE(find_knee({1, 2, 3, 4}, {5, 5, 5, 5}).has_value());  // flat
  EXPECT_FALSE(find_knee({1, 2}, {10, 1}).has_value());             // too short
  EXPECT_FALSE(find_knee({}, {}).has_value());
  // A straight line has a zero difference curve: nothing to find.
  const std::vector<double> x = range(1, 10);
  std::vector<double> y;
  for (double v : x) y.push_back(11.0 - v);
  EXPECT_FALSE(find_knee(x, y).has_value());
  EXPECT_THROW(find_knee({1, 2, 3}, {1, 2}), std::invalid_argument);
}

}  // namespace
}  // namespace archetype
