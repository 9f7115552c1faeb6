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
#include "test_support.hpp"

namespace archetype {
namespace {

#define REQUIRE_GPU()                                                        \
  do {                                                                       \
    const CudaStatus s = cuda_probe(0);                                      \
    if (!s.usable) GTEST_SKIP() << "no usable CUDA device: " << s.reason;    \
  } while (0)

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

struct Pair {
  std::unique_ptr<Backend> cpu, gpu;
};

Pair bound_pair(const Matrix& X, const WeightGrid& w, const FixedPoint& fp, int k_max, const char* chunk = "") {
  if (*chunk) setenv("ARCHETYPE_CUDA_CHUNK_ROWS", chunk, 1);
  Pair p{make_cpu_backend(2), make_cuda_backend(0)};
  p.cpu->bind(X, w.data(), fp, k_max);
  p.gpu->bind(X, w.data(), fp, k_max);
  unsetenv("ARCHETYPE_CUDA_CHUNK_ROWS");
  return p;
}

void expect_same(const PassSums& a, const PassSums& b) {
  EXPECT_EQ(a.counts, b.counts);
  EXPECT_EQ(a.sums, b.sums);
  EXPECT_EQ(a.inertia_q, b.inertia_q);
  EXPECT_EQ(a.changed, b.changed);
}

/// Every pass of both backends on the same weighted binding.
void check_every_pass(Pair& p, const Matrix& X, int k) {
  const std::size_t n = X.rows, d = X.cols;
  p.cpu->reset_labels();
  p.gpu->reset_labels();
  std::vector<float> centers(static_cast<std::size_t>(k) * d);
  PassSums a, b;
  for (int pass = 0; pass < 3; ++pass) {
    for (std::size_t i = 0; i < centers.size(); ++i) centers[i] = X.values[(i * 131 + pass * 17) % X.values.size()];
    p.cpu->lloyd_pass(centers.data(), k, a);
    p.gpu->lloyd_pass(centers.data(), k, b);
    expect_same(a, b);
  }
  std::vector<std::int32_t> la(n), lb(n);
  p.cpu->copy_labels(la.data());
  p.gpu->copy_labels(lb.data());
  EXPECT_EQ(la, lb);
  std::vector<std::int64_t> sqa(k), sqb(k), ra(k), rb(k);
  p.cpu->dispersion(centers.data(), k, la.data(), sqa.data(), ra.data());
  p.gpu->dispersion(centers.data(), k, la.data(), sqb.data(), rb.data());
  EXPECT_EQ(sqa, sqb);
  EXPECT_EQ(ra, rb);

  const int ks[3] = {1, std::max(1, k / 2), k};
  const int total = ks[0] + ks[1] + ks[2];
  std::vector<float> bc(static_cast<std::size_t>(total) * d);
  for (std::size_t i = 0; i < bc.size(); ++i) bc[i] = X.values[(i * 7919 + 3) % X.values.size()];
  const ModelBatch batch{bc.data(), ks, 3};
  p.cpu->reserve_batch(3, total);
  p.gpu->reserve_batch(3, total);
  std::vector<PassSums> fa(3), fb(3);
  p.cpu->lloyd_batch(batch, fa.data());
  p.gpu->lloyd_batch(batch, fb.data());
  for (std::size_t m = 0; m < 3; ++m) expect_same(fa[m], fb[m]);

  const int trials[3] = {4, 0, 3};
  std::vector<float> cands;
  for (std::size_t r : {7u, 11u, 13u, 17u, 19u, 23u, 29u}) cands.insert(cands.end(), X.row(r % n), X.row(r % n) + d);
  std::vector<std::int64_t> pa(3 + 7), pb(3 + 7);
  p.cpu->kpp_potentials(batch, cands.data(), trials, pa.data());
  p.gpu->kpp_potentials(batch, cands.data(), trials, pb.data());
  EXPECT_EQ(pa, pb);
  const std::int64_t pot0 = pa[0], pot1 = pa[5], pot2 = pa[6];
  const int n_targets[3] = {4, 2, 3};
  const std::vector<std::int64_t> targets = {0, pot0 / 7, pot0 / 2, pot0 - 1, pot1 / 3, pot1 - 1, 0, pot2 / 5, pot2 - 1};
  std::vector<std::int64_t> sa(targets.size()), sb(targets.size());
  p.cpu->kpp_sample(batch, targets.data(), n_targets, sa.data());
  p.gpu->kpp_sample(batch, targets.data(), n_targets, sb.data());
  EXPECT_EQ(sa, sb);
}

class CudaWeightedParity : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t, int, bool>> {};

TEST_P(CudaWeightedParity, EveryPassGivesTheSameBits) {
  REQUIRE_GPU();
  const auto [n, d, k, real] = GetParam();
  const Matrix X = test::random_blobs(n, d, k, 300 + n + d);
  const WeightGrid w = make_weights(n, real, 5 + n);
  const FixedPoint fp = FixedPoint::for_data(X, &w);
  Pair p = bound_pair(X, w, fp, k);
  check_every_pass(p, X, k);
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
    Pair p = bound_pair(X, w, fp, 30, "8192");
    ASSERT_NE(p.gpu->device().find("streamed"), std::string::npos) << p.gpu->device();
    check_every_pass(p, X, 30);
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
  EngineOptions cpu_o, gpu_o;
  cpu_o.backend = "cpu";
  gpu_o.backend = "cuda";
  Clusterer cpu(v, cpu_o), gpu(v, gpu_o);
  ASSERT_EQ(gpu.backend_name(), "cuda");
  KMeansParams kp;
  kp.n_clusters = 5;
  kp.n_init = 3;
  const KMeansResult fa = cpu.fit(kp), fb = gpu.fit(kp);
  test::expect_same_fit(fa, fb);
  EXPECT_EQ(fa.weights, fb.weights);
  SweepParams sp;
  sp.k_min = 2;
  sp.k_max = 6;
  sp.kmeans = kp;
  sp.silhouette.sample_size = 3000;
  const SweepResult sa = cpu.sweep(sp, 4), sb = gpu.sweep(sp, 4);
  ASSERT_EQ(sa.points.size(), sb.points.size());
  for (std::size_t i = 0; i < sa.points.size(); ++i) {
    EXPECT_EQ(sa.points[i].wcss, sb.points[i].wcss) << i;
    EXPECT_EQ(sa.points[i].silhouette.score, sb.points[i].silhouette.score) << i;
    EXPECT_EQ(sa.points[i].dispersion.calinski_harabasz, sb.points[i].dispersion.calinski_harabasz) << i;
    EXPECT_EQ(sa.points[i].dispersion.davies_bouldin, sb.points[i].dispersion.davies_bouldin) << i;
  }
  test::expect_same_fit(*sa.kept, *sb.kept);
  const Prediction pa = cpu.predict(fa.centers, 5), pb = gpu.predict(fa.centers, 5);
  EXPECT_EQ(pa.labels, pb.labels);
  EXPECT_EQ(pa.inertia, pb.inertia);
  const DispersionScores da = cpu.dispersion(fa.labels, 5), db = gpu.dispersion(fa.labels, 5);
  EXPECT_EQ(da.calinski_harabasz, db.calinski_harabasz);
  EXPECT_EQ(da.davies_bouldin, db.davies_bouldin);
}

}  // namespace
}  // namespace archetype
