#include "archetype/fixed_point.hpp"

#include <gtest/gtest.h>

#include <cfenv>
#include <cmath>
#include <limits>
#include <random>

namespace archetype {
namespace {

TEST(FixedPointRounding, MatchesRintOnHalvesAndEdges) {
  const float cases[] = {0.0f, -0.0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.49999997f, 8388607.5f, -8388607.5f,
                         8388608.0f, 8388609.0f, 16777217.0f, 1e9f, -1e9f, 1e-30f, -1e-30f, 3.4e38f, 1.0f, -1.0f};
  for (float v : cases) EXPECT_EQ(round_half_even(v), std::nearbyint(v)) << v;
}

TEST(FixedPointRounding, MatchesRintOnRandomValues) {
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::uniform_int_distribution<int> e(-30, 40);
  for (int i = 0; i < 200000; ++i) {
    const float v = std::ldexp(u(gen), e(gen));
    ASSERT_EQ(round_half_even(v), std::nearbyint(v)) << v;
  }
}

TEST(FixedPointGrid, BoundsKeepSumsInsideInt64) {
  Matrix X(3, 2);
  X.values = {1.0f, -2.0f, 0.5f, 0.25f, -3.0f, 1.0f};
  const FixedPoint fp = FixedPoint::for_data(X);
  // max |x| = 3: 3 * 2^feature_exp < 2^kFeatureBits and doubling would
  // overflow that, so a 256-row block of quantized values sums in an int32.
  EXPECT_LT(3.0 * std::ldexp(1.0, fp.feature_exp), std::ldexp(1.0, kFeatureBits));
  EXPECT_GE(3.0 * std::ldexp(1.0, fp.feature_exp + 1), std::ldexp(1.0, kFeatureBits));
  EXPECT_LE(256.0 * (std::ldexp(1.0, kFeatureBits) - 1.0), std::ldexp(1.0, 31) - 1.0);
  // max squared distance <= 4 * max |row|^2 = 40, times 3 rows, under 2^62.
  EXPECT_LT(3.0 * 40.0 * std::ldexp(1.0, fp.dist_exp), std::ldexp(1.0, 62));
  EXPECT_EQ(quantize_feature(-3.0f, fp.feature_scale()), -static_cast<std::int32_t>(3.0 * std::ldexp(1.0, fp.feature_exp)));
}

// Half a step below 2^23 the rounded value would be 2^23 (a 256-row block
// of them overflows an int32 sum): such data get the next coarser grid.
TEST(FixedPointGrid, NoValueRoundsToTheTopOfTheGrid) {
  for (const float top : {0.99999994f, -0.99999994f, 1.9999999f, 0.75f, 1.0f}) {
    Matrix X(2, 1);
    X.values = {top, 0.125f};
    const FixedPoint fp = FixedPoint::for_data(X);
    EXPECT_LT(std::abs(quantize_feature(top, fp.feature_scale())), std::int32_t{1} << kFeatureBits) << top;
    // and the grid is no coarser than it needs to be
    EXPECT_GE(std::abs(quantize_feature(top, fp.feature_scale())), std::int32_t{1} << (kFeatureBits - 1)) << top;
  }
}

TEST(FixedPointGrid, AllZeroDataIsHarmless) {
  Matrix X(4, 2);
  const FixedPoint fp = FixedPoint::for_data(X);
  EXPECT_EQ(quantize_feature(0.0f, fp.feature_scale()), 0);
  EXPECT_TRUE(std::isfinite(fp.dist_scale()));
}

}  // namespace
}  // namespace archetype
