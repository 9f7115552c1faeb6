// The CUDA backend's k-means++ distance cache (kernels.cuh): seeding runs
// step by step in the order seed_fused calls the passes, the models'
// caches folding one centre a step, starting over when a slot's centres
// change, and turned off, all against the CPU backend bit for bit.
// Labelled `gpu`; skipped without a device.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gpu/pass_parity.hpp"
#include "test_support.hpp"

namespace archetype {
namespace {

using test::bound_pair;
using test::Pair;

/// Both backends are reserved for two models of up to kSteps centres and
/// kMaxK in all: a mean k of 16 or more, where the CUDA backend caches.
constexpr int kSteps = 14;
constexpr int kMaxK = 32;

/// Two models' centres, model after model, and each model's k.
struct TwoModels {
  std::vector<float> a, b;
  std::vector<float> centers() const {
    std::vector<float> c = a;
    c.insert(c.end(), b.begin(), b.end());
    return c;
  }
};

/// k-means++ potentials of both models with 3 and 2 candidates; returns the
/// 7 values (CPU and GPU compared).
std::vector<std::int64_t> potentials(Pair& p, const Matrix& X, const TwoModels& m, const int* slots,
                                     const std::vector<float>& cands) {
  const std::size_t d = X.cols;
  const int ks[2] = {static_cast<int>(m.a.size() / d), static_cast<int>(m.b.size() / d)};
  const std::vector<float> centers = m.centers();
  const ModelBatch batch{centers.data(), ks, 2, slots};
  const int trials[2] = {3, 2};
  std::vector<std::int64_t> pa(7), pb(7);
  p.cpu->kpp_potentials(batch, cands.data(), trials, pa.data());
  p.gpu->kpp_potentials(batch, cands.data(), trials, pb.data());
  EXPECT_EQ(pa, pb) << "potentials at k " << ks[0];
  return pa;
}

/// k-means++ sampling of both models, targets spread over [0, pot).
void sample(Pair& p, const Matrix& X, const TwoModels& m, const int* slots, std::int64_t pot_a, std::int64_t pot_b) {
  const std::size_t d = X.cols;
  const int ks[2] = {static_cast<int>(m.a.size() / d), static_cast<int>(m.b.size() / d)};
  const std::vector<float> centers = m.centers();
  const ModelBatch batch{centers.data(), ks, 2, slots};
  const int n_targets[2] = {pot_a > 0 ? 3 : 0, pot_b > 0 ? 2 : 0};
  std::vector<std::int64_t> targets;
  if (pot_a > 0) targets.insert(targets.end(), {0, pot_a / 3, pot_a - 1});
  if (pot_b > 0) targets.insert(targets.end(), {pot_b / 2, pot_b - 1});
  if (targets.empty()) return;
  std::vector<std::int64_t> sa(targets.size()), sb(targets.size());
  p.cpu->kpp_sample(batch, targets.data(), n_targets, sa.data());
  p.gpu->kpp_sample(batch, targets.data(), n_targets, sb.data());
  EXPECT_EQ(sa, sb) << "sampled rows at k " << ks[0];
}

/// Seeds two models for `steps` centres as seed_fused does: the first
/// centre's potentials, then per step sampling under the current centres
/// and the candidates' potentials, the first candidate becoming the next
/// centre (its potential the next step's total).  Returns the centres.
TwoModels seed_side_by_side(Pair& p, const Matrix& X, int steps, const int* slots, std::size_t salt) {
  const std::size_t d = X.cols, n = X.rows;
  auto row = [&](std::size_t r) { return std::vector<float>(X.row(r % n), X.row(r % n) + d); };
  TwoModels m;
  m.a = row(salt + 1);
  m.b = row(salt * 3 + 5);
  std::vector<float> none(5 * d, 0.0f);
  const std::vector<std::int64_t> first = potentials(p, X, m, slots, none);
  std::int64_t pot_a = first[0], pot_b = first[4];
  for (int k = 2; k <= steps; ++k) {
    sample(p, X, m, slots, pot_a, pot_b);  // folds the newest centre first
    std::vector<float> cands;
    for (std::size_t r : {11u, 13u, 17u, 19u, 23u}) {
      const std::vector<float> c = row(r * static_cast<std::size_t>(k) + salt);
      cands.insert(cands.end(), c.begin(), c.end());
    }
    const std::vector<std::int64_t> pots = potentials(p, X, m, slots, cands);
    m.a.insert(m.a.end(), cands.begin(), cands.begin() + static_cast<std::ptrdiff_t>(d));  // candidate 0 of a
    m.b.insert(m.b.end(), cands.begin() + static_cast<std::ptrdiff_t>(3 * d),
               cands.begin() + static_cast<std::ptrdiff_t>(4 * d));  // candidate 0 of b
    pot_a = pots[1];
    pot_b = pots[5];
  }
  sample(p, X, m, slots, pot_a, pot_b);
  return m;
}

/// Sets an environment variable for the scope (unset again however the
/// scope ends).
struct ScopedEnv {
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }
  const char* name_;
};

// (rows, features, rows per streamed chunk or 0: resident)
class CudaKppCache : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t, std::size_t>> {};

TEST_P(CudaKppCache, SeedingStepsEqualTheCpu) {
  REQUIRE_GPU();
  const auto [n, d, chunk] = GetParam();
  const Matrix X = test::random_blobs(n, d, 9, 300 + n + d);
  const FixedPoint fp = FixedPoint::for_data(X);
  const std::string chunk_rows = chunk ? std::to_string(chunk) : "";
  Pair p = bound_pair(X, fp, kMaxK, nullptr, chunk_rows.c_str());
  if (chunk) {
    ASSERT_NE(p.gpu->device().find("streamed"), std::string::npos) << p.gpu->device();
  }
  p.cpu->reserve_batch(2, kMaxK);
  p.gpu->reserve_batch(2, kMaxK);
  const int slots[2] = {0, 1};
  TwoModels m = seed_side_by_side(p, X, kSteps, slots, 0);
  // As many centres as cached, one of them another row: the cache is not a
  // prefix of the model's centres and starts over.
  for (std::size_t j = 0; j < d; ++j) m.a[5 * d + j] = X.row(n / 2)[j];
  std::vector<float> cands(5 * d);
  for (std::size_t i = 0; i < cands.size(); ++i) cands[i] = X.values[(i * 7919 + 3) % X.values.size()];
  const std::vector<std::int64_t> pots = potentials(p, X, m, slots, cands);
  sample(p, X, m, slots, pots[0], pots[4]);
  // The same slots, other centres (no reserve_batch between): each cache
  // finds more centres than its model has and starts over.
  const int swapped[2] = {1, 0};
  seed_side_by_side(p, X, 5, swapped, 1000);
  // Without slots, nothing is cached.
  seed_side_by_side(p, X, 4, nullptr, 2000);
}

// The specialised width 2 and generic ones, resident and streamed in
// chunks (row counts that end in a partial tile).
INSTANTIATE_TEST_SUITE_P(Shapes, CudaKppCache,
                         ::testing::Values(std::make_tuple(std::size_t{20011}, std::size_t{2}, std::size_t{0}),
                                           std::make_tuple(std::size_t{20011}, std::size_t{7}, std::size_t{0}),
                                           std::make_tuple(std::size_t{20011}, std::size_t{7}, std::size_t{8192}),
                                           std::make_tuple(std::size_t{9001}, std::size_t{64}, std::size_t{4096})));

TEST(CudaKppCache, TurnedOffGivesTheSameBits) {
  REQUIRE_GPU();
  const Matrix X = test::random_blobs(12007, 5, 6, 77);
  const FixedPoint fp = FixedPoint::for_data(X);
  Pair p = bound_pair(X, fp, kMaxK);
  p.cpu->reserve_batch(2, kMaxK);
  {
    const ScopedEnv off("ARCHETYPE_CUDA_KPP_CACHE", "0");  // read by reserve_batch
    p.gpu->reserve_batch(2, kMaxK);
  }
  const int slots[2] = {0, 1};
  seed_side_by_side(p, X, 8, slots, 0);
}

// Weighted rows, streamed: the sampling gathers the targets' tiles, and the
// cached distances are read by data row.
TEST(CudaKppCache, WeightedStreamedSamplingEqualsTheCpu) {
  REQUIRE_GPU();
  const Matrix X = test::random_blobs(20011, 3, 7, 91);
  std::vector<std::int32_t> w(X.rows);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<std::int32_t>(i % 5);  // zeros included
  const FixedPoint fp = FixedPoint::for_data(X);
  Pair p = bound_pair(X, fp, kMaxK, w.data(), "4096");
  ASSERT_NE(p.gpu->device().find("streamed"), std::string::npos) << p.gpu->device();
  p.cpu->reserve_batch(2, kMaxK);
  p.gpu->reserve_batch(2, kMaxK);
  const int slots[2] = {0, 1};
  seed_side_by_side(p, X, 10, slots, 0);
}

}  // namespace
}  // namespace archetype
