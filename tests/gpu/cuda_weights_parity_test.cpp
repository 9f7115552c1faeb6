// sample_weight on the CUDA backend against its oracle, the CPU backend:
// every pass bound with weights (integers with zeros, and real weights
// whose quantized values reach 2^24, so the int64 group sums matter) must
// return the same bits, resident and streamed; the weighted Clusterer on
// the GPU gives the CPU Clusterer's results.  Labelled `gpu` in ctest;
// every test skips, saying why, where no CUDA device is usable.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "archetype/clusterer.hpp"
#include "archetype/cuda.hpp"
#include "archetype/evaluation.hpp"
#include "archetype/kmeans.hpp"
#include "fit_compare.hpp"
#include "gpu/pass_parity.hpp"
#include "test_support.hpp"

namespace archetype {
namespace {

using test::Pair;

/// Integer weights 0..7 (real = false) or real weights in (0, 3] on a
/// 24-bit grid (real = true).
WeightGrid make_weights(std::size_t n, bool real, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<double> w(n);
  for (double& v : w)
    v = real ? 0.001 + static_cast<double>(gen() % 3000000) * 1e-6 : static_cast<double>(gen() % 8);
  w[0] = real ? 3.0 : 7.0;  // a positive total whatever the draws
  return WeightGrid::of(w.data(), n);
}

/// Both backends bound to X with the weights (streamed in chunks of
/// `chunk` rows when given).
Pair weighted_pair(const Matrix& X, const WeightGrid& w, const FixedPoint& fp, int k_max, const char* chunk = "") {
  return test::bound_pair(X, fp, k_max, w.data(), chunk);
}

class CudaWeightedParity : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t, int, bool>> {};

TEST_P(CudaWeightedParity, EveryPassGivesTheSameBits) {
  REQUIRE_GPU();
  const auto [n, d, k, real] = GetParam();
  const Matrix X = test::random_blobs(n, d, k, 300 + n + d);
  const WeightGrid w = make_weights(n, real, 5 + n);
  const FixedPoint fp = FixedPoint::for_data(X, &w);
  Pair p = weighted_pair(X, w, fp, k);
  test::expect_every_pass_equal(p, X, k);
}

// Shared sums (small k), global atomics and streamed centre groups (k =
// 1,000), the specialised widths and the generic loop, tails everywhere;
// integer and real weights.
INSTANTIATE_TEST_SUITE_P(Shapes, CudaWeightedParity,
                         ::testing::Values(std::make_tuple(std::size_t{2600}, std::size_t{2}, 5, false),
                                           std::make_tuple(std::size_t{100003}, std::size_t{2}, 10, true),
                                           std::make_tuple(std::size_t{50000}, std::size_t{5}, 7, true),
                                           std::make_tuple(std::size_t{20011}, std::size_t{1}, 40, false),
                                           std::make_tuple(std::size_t{9001}, std::size_t{3}, 1000, true),
                                           std::make_tuple(std::size_t{4099}, std::size_t{64}, 1000, false),
                                           std::make_tuple(std::size_t{3001}, std::size_t{300}, 120, true)));

// Streamed rows carry their weights chunk by chunk; the k-means++ sampling
// gathers the targets' tiles with their weights.
TEST(CudaWeightedStreaming, EveryPassEqualsTheCpu) {
  REQUIRE_GPU();
  const Matrix X = test::random_blobs(20011, 7, 30, 5, 0.8f);
  for (const bool real : {false, true}) {
    const WeightGrid w = make_weights(X.rows, real, 77);
    const FixedPoint fp = FixedPoint::for_data(X, &w);
    Pair p = weighted_pair(X, w, fp, 30, "8192");
    ASSERT_NE(p.gpu->device().find("streamed"), std::string::npos) << p.gpu->device();
    test::expect_every_pass_equal(p, X, 30);
  }
}

// The weighted Clusterer on the GPU: the CPU Clusterer's fit, sweep
// (scores, kept fit), predict and dispersion, bit for bit.
TEST(CudaWeightedClusterer, EqualsTheCpuClusterer) {
  REQUIRE_GPU();
  const Matrix X = test::random_blobs(30011, 3, 6, 12);
  std::vector<double> w(X.rows);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.25 + static_cast<double>((i * 2654435761u) % 97) / 13.0;
  DataView v = DataView::of(X);
  v.sample_weight = w.data();
  test::expect_clusterers_equal(v);
}

}  // namespace
}  // namespace archetype
