// Pieces of the CPU block kernels (src/engine/cpu_kernels.hpp) that the
// shape tests reach only through whole passes: the vectorised quantized
// sum at the edges of its exact range, and rounding at infinities and NaN.
#include "engine/cpu_kernels.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "archetype/fixed_point.hpp"

namespace archetype {
namespace {

std::int64_t scalar_sum(const std::vector<float>& v, float scale) {
  std::int64_t sum = 0;
  for (float x : v) sum += static_cast<std::int64_t>(std::nearbyint(x * scale));
  return sum;
}

TEST(CpuKernels, QuantizedSumIsExactAcrossItsRange) {
  // Values from 0 to 2^54 (256 of them sum below 2^62, as on the
  // fixed-point grid), including powers of two around 2^31, the largest
  // float below 2^51 (the vector form's limit), 2^51 and 2^52 (value by
  // value) and halves.
  std::mt19937 gen(11);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::uniform_int_distribution<int> e(-4, 54);
  for (int round = 0; round < 200; ++round) {
    const std::size_t m = 1 + static_cast<std::size_t>(round) % 256;  // every tail length
    std::vector<float> v(m);
    for (float& x : v) x = std::ldexp(u(gen), e(gen));
    v[0] = std::ldexp(1.0f, 31 - round % 3);
    if (m > 1) v[1] = std::nextafter(std::ldexp(1.0f, 51), 0.0f);
    if (m > 2) v[2] = 2.5f;
    if (m > 3 && round % 2) v[3] = std::ldexp(1.0f, 51 + round % 4 / 2);
    ASSERT_EQ(cpu::quantized_sum(v.data(), m, 1.0f), scalar_sum(v, 1.0f)) << "m = " << m;
    ASSERT_EQ(cpu::quantized_sum(v.data(), m, 0.25f), scalar_sum(v, 0.25f)) << "m = " << m;
  }
}

TEST(CpuKernels, QuantizedSumRoundsHalvesToEvenWithEitherSign) {
  // Every x.5 between -2^22 and 2^22 at a few magnitudes, and the values
  // next to them, both signs (the vector form rounds by adding 1.5 x 2^52
  // in double: ties must go to even, as rint, for negative values too).
  std::vector<float> v;
  for (int e = 0; e <= 22; ++e) {
    const float base = std::ldexp(1.0f, e);
    for (float h : {0.5f, 1.5f, 2.5f}) {
      const float x = base + h;
      for (float y : {x, std::nextafter(x, 0.0f), std::nextafter(x, 1e30f)}) {
        v.push_back(y);
        v.push_back(-y);
      }
    }
  }
  v.push_back(-0.0f);
  v.push_back(0.49999997f);
  v.push_back(-0.49999997f);
  for (std::size_t m : {v.size(), std::size_t{16}, std::size_t{33}})
    EXPECT_EQ(cpu::quantized_sum(v.data(), m, 1.0f), scalar_sum(std::vector<float>(v.begin(), v.begin() + m), 1.0f))
        << "m = " << m;
  // One value at a time against rint: a wrong rounding cannot cancel out.
  for (float x : v) {
    std::vector<float> one(16, 0.0f);
    one[5] = x;
    ASSERT_EQ(cpu::quantized_sum(one.data(), one.size(), 1.0f), static_cast<std::int64_t>(std::nearbyint(x))) << x;
  }
}

TEST(CpuKernels, QuantizedSumOutsideTheGridFallsBackValueByValue) {
  // 2^51 and above in magnitude, and NaN-free negative values beyond
  // -2^51, are outside the vector form's range: the sum must still be the
  // exact one (no silent wrap).
  std::vector<float> v(37, 3.0f);
  v[5] = std::ldexp(1.0f, 62);
  EXPECT_EQ(cpu::quantized_sum(v.data(), v.size(), 1.0f), scalar_sum(v, 1.0f));
  v[5] = -7.5f;
  EXPECT_EQ(cpu::quantized_sum(v.data(), v.size(), 1.0f), scalar_sum(v, 1.0f));
  v[5] = -std::ldexp(1.0f, 55);
  EXPECT_EQ(cpu::quantized_sum(v.data(), v.size(), 1.0f), scalar_sum(v, 1.0f));
  v[5] = std::ldexp(1.0f, 61) * 1.5f;
  v[6] = std::ldexp(1.0f, 61) * 1.25f;
  EXPECT_EQ(cpu::quantized_sum(v.data(), 7, 1.0f), scalar_sum(std::vector<float>(v.begin(), v.begin() + 7), 1.0f));
}

TEST(CpuKernels, WeightedQuantizedSum) {
  std::vector<float> v = {0.5f, 1.5f, 2.5f, 1e12f, 7.25f};
  std::vector<std::int32_t> w = {3, 1, 2, 5, 1};
  std::int64_t expect = 0;
  for (std::size_t i = 0; i < v.size(); ++i) expect += w[i] * static_cast<std::int64_t>(std::nearbyint(v[i]));
  EXPECT_EQ(cpu::quantized_sum(v.data(), v.size(), 1.0f, w.data()), expect);
}

TEST(CpuKernels, RoundingKeepsInfinitiesAndNaN) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(round_half_even(inf), inf);
  EXPECT_EQ(round_half_even(-inf), -inf);
  EXPECT_TRUE(std::isnan(round_half_even(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(round_half_even(std::nextafter(8388608.0f, 0.0f)), 8388608.0f);  // 2^23 - 0.5: ties to even
  EXPECT_EQ(round_half_even(-std::nextafter(8388608.0f, 0.0f)), -8388608.0f);
  EXPECT_TRUE(std::signbit(round_half_even(-0.25f)));  // -0, as rint
}

}  // namespace
}  // namespace archetype
