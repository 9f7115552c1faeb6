#include "archetype/profile.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

namespace archetype {
namespace {

// The reference data set, features only (Instagram visit score, spending
// rank).  A tiny local parser keeps this test independent of the CSV module.
Matrix load_reference() {
  std::ifstream in(ARCHETYPE_TEST_DATA_DIR "/instagram_visits_clustering.csv");
  if (!in) throw std::runtime_error("cannot open the reference CSV");
  std::string line;
  std::getline(in, line);  // header
  std::vector<float> values;
  std::size_t rows = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::string id, visit, spend;
    std::getline(ss, id, ',');
    std::getline(ss, visit, ',');
    std::getline(ss, spend, ',');
    values.push_back(std::stof(visit));
    values.push_back(std::stof(spend));
    ++rows;
  }
  Matrix X(rows, 2);
  X.values = std::move(values);
  return X;
}

Matrix column(std::vector<float> v) {
  Matrix X(v.size(), 1);
  X.values = std::move(v);
  return X;
}

void expect_rel(double actual, double expected, double rel = 1e-6) {
  EXPECT_NEAR(actual, expected, std::fabs(expected) * rel) << "expected " << expected;
}

TEST(ProfileGolden, MatchesReferenceStatistics) {
  const Matrix X = load_reference();
  ASSERT_EQ(X.rows, 2600u);

  const FeatureProfile e = profile_feature(X, 0);
  EXPECT_EQ(e.count, 2600u);
  expect_rel(e.mean, 63.32346154);
  expect_rel(e.std, 26.5746479);
  expect_rel(e.skew, -0.40554912);
  expect_rel(e.skew_unbiased, -0.40578326);
  expect_rel(e.kurtosis, -1.23565183);
  EXPECT_EQ(e.min, 5.0);
  EXPECT_EQ(e.max, 118.0);

  const FeatureProfile m = profile_feature(X, 1);
  expect_rel(m.mean, 42.84840781);
  expect_rel(m.std, 28.75281799);
  expect_rel(m.skew, 0.54965191);
  expect_rel(m.skew_unbiased, 0.54996925);
  expect_rel(m.kurtosis, -1.28361845);
}

TEST(ProfileGolden, QQIsThinnedAndNearlyLinear) {
  const Matrix X = load_reference();
  const QQData qq = qq_normal(X, 0, 512);
  ASSERT_EQ(qq.theoretical.size(), 512u);
  ASSERT_EQ(qq.sample.size(), 512u);
  EXPECT_EQ(qq.sample.front(), 5.0);
  EXPECT_EQ(qq.sample.back(), 118.0);
  // The extremes keep the full-sample quantiles: 1 - 0.5^(1/n), 0.5^(1/n).
  EXPECT_DOUBLE_EQ(qq.theoretical.back(), normal_quantile(std::pow(0.5, 1.0 / 2600.0)));
  EXPECT_GT(qq.r, 0.9);
  EXPECT_LE(qq.r, 1.0);
}

TEST(ProfileMoments, SmallSampleByHand) {
  // 1, 2, 3, 10: mean 4, deviations -3 -2 -1 6; m2 = 50/4, m3 = 180/4, m4 = 1394/4.
  const FeatureProfile p = profile_feature(column({1, 2, 3, 10}), 0);
  const double m2 = 12.5, m3 = 45.0, m4 = 348.5;
  EXPECT_DOUBLE_EQ(p.mean, 4.0);
  EXPECT_DOUBLE_EQ(p.std, std::sqrt(m2));
  EXPECT_DOUBLE_EQ(p.skew, m3 / std::pow(m2, 1.5));
  EXPECT_DOUBLE_EQ(p.skew_unbiased, p.skew * std::sqrt(12.0) / 2.0);
  EXPECT_DOUBLE_EQ(p.kurtosis, m4 / (m2 * m2) - 3.0);
  EXPECT_EQ(p.min, 1.0);
  EXPECT_EQ(p.max, 10.0);
}

TEST(ProfileMoments, ConstantAndTinyColumns) {
  const FeatureProfile c = profile_feature(column({7, 7, 7}), 0);
  EXPECT_EQ(c.mean, 7.0);
  EXPECT_EQ(c.std, 0.0);
  EXPECT_EQ(c.skew, 0.0);
  EXPECT_EQ(c.skew_unbiased, 0.0);
  EXPECT_EQ(c.kurtosis, 0.0);

  const FeatureProfile two = profile_feature(column({1, 3}), 0);
  EXPECT_NE(two.std, 0.0);
  EXPECT_EQ(two.skew_unbiased, 0.0);  // undefined below three rows

  EXPECT_EQ(profile_feature(Matrix(0, 1), 0).count, 0u);
  EXPECT_THROW(profile_feature(Matrix(3, 1), 1), std::out_of_range);
}

TEST(ProfileMoments, BlockedSumSpansSeveralBlocks) {
  // 10000 rows cross two block boundaries; the values are exact in float
  // and the sums exact in double, so the mean is exact.
  std::vector<float> v(10000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 7);
  const FeatureProfile p = profile_feature(column(v), 0);
  double sum = 0.0;
  for (float x : v) sum += x;
  EXPECT_EQ(p.mean, sum / 10000.0);
}

TEST(ProfileNormalQuantile, KnownPoints) {
  EXPECT_EQ(normal_quantile(0.5), 0.0);
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-15);
  EXPECT_NEAR(normal_quantile(0.025), -1.959963984540054, 1e-15);
  EXPECT_NEAR(normal_quantile(0.02), -2.0537489106318225, 1e-15);  // near tail
  EXPECT_NEAR(normal_quantile(1e-10), -6.361340902404056, 1e-14);  // near tail
  EXPECT_NEAR(normal_quantile(1e-300), -37.0470962993612, 1e-12);  // far tail
  EXPECT_THROW(normal_quantile(0.0), std::domain_error);
  EXPECT_THROW(normal_quantile(1.0), std::domain_error);
}

TEST(ProfileQQ, SmallSampleMatchesScipyProbplot) {
  // scipy.stats.probplot([3, 1, 4, 1, 5]): Filliben medians
  // 1 - 0.5^0.2, (2 - 0.3175) / 5.365, 0.5, (4 - 0.3175) / 5.365, 0.5^0.2.
  const QQData qq = qq_normal(column({3, 1, 4, 1, 5}), 0);
  const std::vector<double> osm = {-1.1289975352961017, -0.4856527065756922, 0.0, 0.485652706575692,
                                   1.1289975352961017};
  const std::vector<double> osr = {1, 1, 3, 4, 5};
  ASSERT_EQ(qq.theoretical.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_NEAR(qq.theoretical[i], osm[i], 1e-15);
    EXPECT_EQ(qq.sample[i], osr[i]);
  }
  EXPECT_NEAR(qq.slope, 1.9771506261662772, 1e-13);
  EXPECT_NEAR(qq.intercept, 2.8, 1e-13);
  EXPECT_NEAR(qq.r, 0.9605263203268395, 1e-13);
}

TEST(ProfileQQ, ThinningKeepsEvenlySpacedRanks) {
  std::vector<float> v(10);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(9 - i);
  const QQData qq = qq_normal(column(v), 0, 4);
  // Ranks 0, 3, 6, 9 of ten, with the ten-point quantiles.
  ASSERT_EQ(qq.sample.size(), 4u);
  EXPECT_EQ(qq.sample, (std::vector<double>{0, 3, 6, 9}));
  EXPECT_DOUBLE_EQ(qq.theoretical[1], normal_quantile((4 - 0.3175) / 10.365));
  EXPECT_DOUBLE_EQ(qq.theoretical[2], normal_quantile((7 - 0.3175) / 10.365));
  EXPECT_THROW(qq_normal(column(v), 0, 1), std::invalid_argument);
}

TEST(ProfileQQ, DegenerateSamples) {
  EXPECT_TRUE(qq_normal(Matrix(0, 1), 0).sample.empty());
  const QQData one = qq_normal(column({4}), 0);
  ASSERT_EQ(one.sample.size(), 1u);
  EXPECT_EQ(one.theoretical[0], 0.0);
  EXPECT_EQ(one.slope, 0.0);
  EXPECT_EQ(one.intercept, 4.0);
  const QQData flat = qq_normal(column({2, 2, 2}), 0);
  EXPECT_EQ(flat.slope, 0.0);
  EXPECT_EQ(flat.r, 0.0);
}

// The radix sort behind the QQ data (three 11-bit passes, counted in one
// pass, a digit shared by every key skipped) against std::sort: every rank
// kept (max_points = n), the values compared bit for bit, -0.0 before +0.0.
TEST(ProfileQQ, SampleIsTheSortedColumnBitForBit) {
  std::mt19937 rng(11);
  const float inf = std::numeric_limits<float>::infinity();
  auto bits = [](double v) {
    std::uint64_t u = 0;
    std::memcpy(&u, &v, sizeof u);
    return u;
  };
  auto by_value_then_sign = [](float a, float b) { return a < b || (a == b && std::signbit(a) && !std::signbit(b)); };
  for (std::size_t n : {1u, 2u, 3u, 4u, 5u, 17u, 1000u, 4096u * 5 + 7}) {
    for (int kind = 0; kind < 3; ++kind) {
      std::vector<float> v(n);
      for (float& x : v) {
        const unsigned pick = rng() % 16;
        if (kind == 0) {  // duplicates, zeros of both signs, infinities, wide exponents
          x = pick == 0 ? 0.0f : pick == 1 ? -0.0f : pick == 2 ? inf : pick == 3 ? -inf
              : static_cast<float>(static_cast<int>(rng() % 9) - 4) * std::ldexp(1.0f, static_cast<int>(rng() % 60) - 30);
        } else if (kind == 1) {  // a tight range: the top digits are shared by every key
          x = -83.7f + static_cast<float>(rng() % 100000) * 1e-5f;
        } else {  // one value
          x = 2.5f;
        }
      }
      std::vector<float> sorted = v;
      std::sort(sorted.begin(), sorted.end(), by_value_then_sign);
      const QQData qq = qq_normal(column(v), 0, std::max<std::size_t>(n, 2));
      ASSERT_EQ(qq.sample.size(), n);
      for (std::size_t i = 0; i < n; ++i)
        ASSERT_EQ(bits(qq.sample[i]), bits(static_cast<double>(sorted[i]))) << "n " << n << " kind " << kind << " rank " << i;
    }
  }
}

// The moments with kLanes blocks' sums side by side: the same bits as one
// chain per sum (blocked_sum's order, written out here), the first of equal
// extremes kept (-0.0 and +0.0 as the rows give them).
TEST(ProfileMoments, SideBySideBlocksGiveTheOneChainBits) {
  std::mt19937 rng(5);
  std::lognormal_distribution<float> heavy(0.0f, 2.0f);
  for (std::size_t n : {1u, 4095u, 4096u * 4, 4096u * 9 + 123}) {
    std::vector<float> v(n);
    for (float& x : v) x = (rng() % 5 == 0 ? -1.0f : 1.0f) * heavy(rng);
    if (n > 10) v[3] = -0.0f, v[7] = 0.0f;
    double lo = v[0], hi = v[0], total = 0.0;
    for (std::size_t b = 0; b < n; b += 4096) {
      double block = 0.0;
      for (std::size_t i = b; i < std::min(n, b + 4096); ++i) {
        lo = std::min(lo, static_cast<double>(v[i]));
        hi = std::max(hi, static_cast<double>(v[i]));
        block += v[i];
      }
      total += block;
    }
    const double mean = total / static_cast<double>(n);
    double t2 = 0.0, t4 = 0.0;
    for (std::size_t b = 0; b < n; b += 4096) {
      double b2 = 0.0, b4 = 0.0;
      for (std::size_t i = b; i < std::min(n, b + 4096); ++i) {
        const double d = v[i] - mean;
        const double d2 = d * d;
        b2 += d2;
        b4 += d2 * d2;
      }
      t2 += b2;
      t4 += b4;
    }
    const FeatureProfile p = profile_feature(column(v), 0);
    EXPECT_EQ(p.mean, mean) << n;
    EXPECT_EQ(p.std, std::sqrt(t2 / static_cast<double>(n))) << n;
    if (t2 > 0.0) {
      EXPECT_EQ(p.kurtosis, (t4 / static_cast<double>(n)) / ((t2 / static_cast<double>(n)) * (t2 / static_cast<double>(n))) - 3.0)
          << n;
    }
    EXPECT_EQ(p.min, lo) << n;
    EXPECT_EQ(p.max, hi) << n;
    EXPECT_EQ(std::signbit(p.min), std::signbit(lo)) << n;
  }
  // Zeros only: the first one's sign.
  EXPECT_TRUE(std::signbit(profile_feature(column({-0.0f, 0.0f}), 0).min));
  EXPECT_FALSE(std::signbit(profile_feature(column({0.0f, -0.0f}), 0).min));
}

}  // namespace
}  // namespace archetype
