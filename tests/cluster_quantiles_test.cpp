// cluster_median_quantiles: the per-cluster histograms (rows grouped by
// cluster, a branch-free bin search) against a plain reference (every row's
// bin by std::upper_bound, counted in one table), at several widths, k and
// thread counts, with values on the bin edges and an empty cluster.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "archetype/scaler.hpp"
#include "study/cluster_quantiles.hpp"
#include "study/feature_stats.hpp"

namespace archetype {
namespace {

/// The definition in cluster_quantiles.hpp, spelled out plainly.
std::vector<double> reference_quantiles(const Matrix& z, const std::vector<std::int32_t>& labels, int k,
                                        const std::vector<FeatureSummary>& profile, const StandardScaler& scaler) {
  constexpr std::size_t kBins = 64;
  const std::size_t d = z.cols, kk = static_cast<std::size_t>(k);
  std::vector<std::int64_t> counts(kk * d * kBins, 0);
  for (std::size_t j = 0; j < d; ++j) {
    std::vector<float> edges;
    const std::vector<double>& s = profile[j].qq.sample;
    for (std::size_t b = 1; b < kBins && !s.empty(); ++b)
      edges.push_back(static_cast<float>((s[(b * (s.size() - 1) + kBins / 2) / kBins] - scaler.mean[j]) / scaler.scale[j]));
    for (std::size_t i = 0; i < z.rows; ++i) {
      const auto b = static_cast<std::size_t>(std::upper_bound(edges.begin(), edges.end(), z.at(i, j)) - edges.begin());
      ++counts[(static_cast<std::size_t>(labels[i]) * d + j) * kBins + b];
    }
  }
  // The median's bin: the first whose cumulative count reaches half the
  // cluster (counts are exact in double), interpolated within it.
  std::vector<double> q(kk * d, 0.5), cum(kBins);
  for (std::size_t x = 0; x < kk * d; ++x) {
    std::partial_sum(counts.begin() + static_cast<std::ptrdiff_t>(x * kBins),
                     counts.begin() + static_cast<std::ptrdiff_t>((x + 1) * kBins), cum.begin());
    if (cum.back() == 0) continue;
    const double half = cum.back() / 2;
    const auto b = static_cast<std::size_t>(
        std::find_if(cum.begin(), cum.end(), [&](double c) { return c >= half; }) - cum.begin());
    const double before = b == 0 ? 0.0 : cum[b - 1], here = cum[b] - before;
    q[x] = (static_cast<double>(b) + (here > 0 ? (half - before) / here : 0.5)) / kBins;
  }
  return q;
}

TEST(ClusterQuantiles, SameAsPlainHistogramsAtAnyWidthKAndThreads) {
  for (const std::size_t d : {1, 3, 17, 40}) {
    for (const int k : {1, 4, 37}) {
      const std::size_t n = 3001;
      std::mt19937 rng(static_cast<unsigned>(d * 100 + static_cast<std::size_t>(k)));
      std::normal_distribution<float> normal(0.0f, 1.0f);
      std::uniform_int_distribution<int> small(0, 5);
      Matrix raw(n, d);
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j)  // every third feature in few values: rows on the bin edges
          raw.at(i, j) = j % 3 == 1 ? static_cast<float>(small(rng)) : normal(rng) * static_cast<float>(j + 1);
      std::vector<std::string> names;
      for (std::size_t j = 0; j < d; ++j) names.push_back("f" + std::to_string(j));
      const std::vector<FeatureSummary> profile = profile_features(raw, names, names, 1);
      std::vector<FeatureProfile> stats;
      for (const FeatureSummary& f : profile) stats.push_back(f.stats);
      const StandardScaler scaler = StandardScaler::from_profiles(stats);
      Matrix z = raw;
      scaler.transform_in_place(z);
      std::vector<std::int32_t> labels(n);
      std::uniform_int_distribution<int> label(0, std::max(0, k - 2));  // the last cluster empty when k > 1
      for (std::int32_t& l : labels) l = label(rng);
      const std::vector<double> want = reference_quantiles(z, labels, k, profile, scaler);
      for (const int threads : {1, 2, 3}) {
        const std::vector<double> got = cluster_median_quantiles(z, labels, k, profile, scaler, threads);
        ASSERT_EQ(got, want) << "d = " << d << ", k = " << k << ", threads = " << threads;
      }
    }
  }
}

TEST(ClusterQuantiles, EdgesOutOfOrderOrNaNAndNaNValuesCountAsDefined) {
  // The definition for any edges: a value's bin is the count of edges e with
  // !(v < e) (a NaN value: past every edge).  Edges in order take the
  // grouped search, others the plain count: the first feature has NaN
  // values, the second edges out of order, the third a NaN edge.
  const std::size_t n = 2000, d = 3;
  const int k = 3;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  // Every feature follows one value u per row (plus a little noise), and
  // the clusters are u's bottom tenth, middle and top tenth: their medians
  // sit in the lowest, middle and highest bins, so a wrong bin anywhere
  // moves a median.
  Matrix raw(n, d);
  std::vector<std::int32_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) {
    const float u = normal(rng);
    labels[i] = u < -1.2816f ? 0 : (u > 1.2816f ? 2 : 1);
    for (std::size_t j = 0; j < d; ++j) raw.at(i, j) = u * static_cast<float>(j + 1) + 0.01f * normal(rng);
  }
  const std::vector<std::string> names = {"a", "b", "c"};
  std::vector<FeatureSummary> profile = profile_features(raw, names, names, 1);
  std::reverse(profile[1].qq.sample.begin(), profile[1].qq.sample.end());
  profile[2].qq.sample[profile[2].qq.sample.size() / 3] = NAN;
  std::vector<FeatureProfile> stats;
  for (const FeatureSummary& f : profile) stats.push_back(f.stats);
  const StandardScaler scaler = StandardScaler::from_profiles(stats);
  Matrix z = raw;
  scaler.transform_in_place(z);
  for (std::size_t i = 0; i < n; i += 7) z.at(i, 0) = NAN;

  constexpr std::size_t kBins = 64;
  std::vector<double> want(static_cast<std::size_t>(k) * d, 0.5);
  for (std::size_t j = 0; j < d; ++j) {
    const std::vector<double>& s = profile[j].qq.sample;
    std::vector<float> edges;
    for (std::size_t b = 1; b < kBins; ++b)
      edges.push_back(static_cast<float>((s[(b * (s.size() - 1) + kBins / 2) / kBins] - scaler.mean[j]) / scaler.scale[j]));
    for (int c = 0; c < k; ++c) {
      std::vector<std::int64_t> h(kBins, 0);
      for (std::size_t i = 0; i < n; ++i) {
        if (labels[i] != c) continue;
        std::size_t bin = 0;
        for (float e : edges) bin += !(z.at(i, j) < e);
        ++h[bin];
      }
      std::int64_t total = 0;
      for (std::int64_t x : h) total += x;
      const double half = 0.5 * static_cast<double>(total);
      double before = 0.0;
      for (std::size_t b = 0; b < kBins; ++b) {
        const double here = static_cast<double>(h[b]);
        if (before + here >= half) {
          want[static_cast<std::size_t>(c) * d + j] = (static_cast<double>(b) + (here > 0 ? (half - before) / here : 0.5)) / kBins;
          break;
        }
        before += here;
      }
    }
  }
  for (const int threads : {1, 2}) EXPECT_EQ(cluster_median_quantiles(z, labels, k, profile, scaler, threads), want);
}

}  // namespace
}  // namespace archetype
