// The CUDA backend against its oracle, the CPU backend: every pass must
// return the same bits.  Labelled `gpu` in ctest; every test skips, saying
// why, where no CUDA device is usable.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "archetype/cuda.hpp"
#include "archetype/error.hpp"
#include "archetype/evaluation.hpp"
#include "archetype/kmeans.hpp"
#include "test_support.hpp"

namespace archetype {
namespace {

#define REQUIRE_GPU()                                                        \
  do {                                                                       \
    const CudaStatus s = cuda_probe(0);                                      \
    if (!s.usable) GTEST_SKIP() << "no usable CUDA device: " << s.reason;    \
  } while (0)

struct Pair {
  std::unique_ptr<Backend> cpu, gpu;
};

Pair bound_pair(const Matrix& X, const FixedPoint& fp, int k_max) {
  Pair p{make_cpu_backend(2), make_cuda_backend(0)};
  p.cpu->bind(X, fp, k_max);
  p.gpu->bind(X, fp, k_max);
  return p;
}

void expect_same(const PassSums& a, const PassSums& b) {
  EXPECT_EQ(a.counts, b.counts);
  EXPECT_EQ(a.sums, b.sums);
  EXPECT_EQ(a.inertia_q, b.inertia_q);
  EXPECT_EQ(a.changed, b.changed);
}

class CudaParity : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t, int>> {};

TEST_P(CudaParity, EveryPassGivesTheSameBits) {
  REQUIRE_GPU();
  const auto [n, d, k] = GetParam();
  const Matrix X = test::random_blobs(n, d, k, 100 + n + d);
  const FixedPoint fp = FixedPoint::for_data(X);
  Pair p = bound_pair(X, fp, k);
  p.cpu->reset_labels();
  p.gpu->reset_labels();
  std::vector<float> centers(static_cast<std::size_t>(k) * d);
  PassSums a, b;
  for (int pass = 0; pass < 4; ++pass) {
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
  p.cpu->dispersion(centers.data(), k, sqa.data(), ra.data());
  p.gpu->dispersion(centers.data(), k, sqb.data(), rb.data());
  EXPECT_EQ(sqa, sqb);
  EXPECT_EQ(ra, rb);

  // Fused passes: three models of different k (the last uses all k_max
  // centres) and their k-means++ passes.
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
  for (int m = 0; m < 3; ++m) expect_same(fa[static_cast<std::size_t>(m)], fb[static_cast<std::size_t>(m)]);

  const int trials[3] = {4, 0, 3};
  std::vector<float> cands;
  for (std::size_t r : {7u, 11u, 13u, 17u, 19u, 23u, 29u})
    cands.insert(cands.end(), X.row(r % n), X.row(r % n) + d);
  std::vector<std::int64_t> pa(3 + 7), pb(3 + 7);
  p.cpu->kpp_potentials(batch, cands.data(), trials, pa.data());
  p.gpu->kpp_potentials(batch, cands.data(), trials, pb.data());
  EXPECT_EQ(pa, pb);
  const std::int64_t pot0 = pa[0], pot1 = pa[5], pot2 = pa[6];
  const int n_targets[3] = {4, 2, 3};
  const std::vector<std::int64_t> targets = {0, pot0 / 7, pot0 / 2, pot0 - 1, pot1 / 3, pot1 - 1, 0, pot2 / 5, pot2 - 1};
  std::vector<std::int64_t> ra2(targets.size()), rb2(targets.size());
  p.cpu->kpp_sample(batch, targets.data(), n_targets, ra2.data());
  p.gpu->kpp_sample(batch, targets.data(), n_targets, rb2.data());
  EXPECT_EQ(ra2, rb2);
}

INSTANTIATE_TEST_SUITE_P(Shapes, CudaParity,
                         ::testing::Values(std::make_tuple(std::size_t{2600}, std::size_t{2}, 5),
                                           std::make_tuple(std::size_t{100003}, std::size_t{2}, 10),
                                           std::make_tuple(std::size_t{50000}, std::size_t{5}, 7),
                                           std::make_tuple(std::size_t{3000}, std::size_t{64}, 3)));

TEST(CudaParityFit, WholeFitAndSilhouetteOnTheReferenceData) {
  REQUIRE_GPU();
  const Matrix X = test::reference_scaled();
  const FixedPoint fp = FixedPoint::for_data(X);
  Pair p = bound_pair(X, fp, 10);
  for (int k : {2, 5, 10}) {
    KMeansParams kp;
    kp.n_clusters = k;
    const KMeansResult a = fit_kmeans(*p.cpu, X, fp, kp);
    const KMeansResult b = fit_kmeans(*p.gpu, X, fp, kp);
    EXPECT_EQ(a.centers, b.centers) << k;
    EXPECT_EQ(a.labels, b.labels) << k;
    EXPECT_EQ(a.inertia, b.inertia) << k;
    const SilhouetteResult sa = silhouette(*p.cpu, X, a.labels, k, {});
    const SilhouetteResult sb = silhouette(*p.gpu, X, b.labels, k, {});
    EXPECT_EQ(sa.values, sb.values) << k;
    EXPECT_EQ(sa.score, sb.score) << k;
    const DispersionScores da = dispersion_scores(*p.cpu, fp, a);
    const DispersionScores db = dispersion_scores(*p.gpu, fp, b);
    EXPECT_EQ(da.calinski_harabasz, db.calinski_harabasz);
    EXPECT_EQ(da.davies_bouldin, db.davies_bouldin);
  }
}

TEST(CudaParityFit, FusedSweepOnTheReferenceData) {
  REQUIRE_GPU();
  const Matrix X = test::reference_scaled();
  const FixedPoint fp = FixedPoint::for_data(X);
  Pair p = bound_pair(X, fp, 10);
  KMeansParams kp;
  std::vector<int> ks;
  for (int k = 2; k <= 10; ++k) ks.push_back(k);
  const auto a = run_restarts(*p.cpu, X, fp, kp, ks);
  const auto b = run_restarts(*p.gpu, X, fp, kp, ks);
  for (std::size_t i = 0; i < ks.size(); ++i)
    for (std::size_t r = 0; r < a[i].size(); ++r) {
      EXPECT_EQ(a[i][r].centers, b[i][r].centers) << "k " << ks[i] << " run " << r;
      EXPECT_EQ(a[i][r].inertia, b[i][r].inertia) << "k " << ks[i] << " run " << r;
      EXPECT_EQ(a[i][r].n_iter, b[i][r].n_iter) << "k " << ks[i] << " run " << r;
    }
}

TEST(CudaParityFit, MillionRows) {
  REQUIRE_GPU();
  const Matrix X = test::random_blobs(1000000, 2, 5, 77, 0.8f);
  const FixedPoint fp = FixedPoint::for_data(X);
  Pair p = bound_pair(X, fp, 5);
  KMeansParams kp;
  kp.n_clusters = 5;
  kp.n_init = 3;
  const KMeansResult a = fit_kmeans(*p.cpu, X, fp, kp);
  const KMeansResult b = fit_kmeans(*p.gpu, X, fp, kp);
  EXPECT_EQ(a.centers, b.centers);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.inertia, b.inertia);
  SilhouetteParams sp;
  sp.sample_size = 20000;
  EXPECT_EQ(silhouette(*p.cpu, X, a.labels, 5, sp).values, silhouette(*p.gpu, X, b.labels, 5, sp).values);
}

// Data streamed from host memory in chunks (forced small here with the
// testing hook) give the same bits as the CPU: the fused sweep's runs, the
// final labels, the dispersion sums.
TEST(CudaStreaming, ChunkedPassesEqualTheCpu) {
  REQUIRE_GPU();
  const Matrix X = test::random_blobs(100003, 2, 5, 91, 0.8f);
  const FixedPoint fp = FixedPoint::for_data(X);
  setenv("ARCHETYPE_CUDA_CHUNK_ROWS", "8192", 1);
  Pair p = bound_pair(X, fp, 6);
  unsetenv("ARCHETYPE_CUDA_CHUNK_ROWS");
  EXPECT_NE(p.gpu->device().find("streamed"), std::string::npos) << p.gpu->device();
  KMeansParams kp;
  kp.n_init = 3;
  const std::vector<int> ks = {2, 4, 6};
  const auto a = run_restarts(*p.cpu, X, fp, kp, ks);
  const auto b = run_restarts(*p.gpu, X, fp, kp, ks);
  for (std::size_t i = 0; i < ks.size(); ++i)
    for (std::size_t r = 0; r < a[i].size(); ++r) {
      EXPECT_EQ(a[i][r].centers, b[i][r].centers) << "k " << ks[i] << " run " << r;
      EXPECT_EQ(a[i][r].n_iter, b[i][r].n_iter) << "k " << ks[i] << " run " << r;
    }
  kp.n_clusters = 4;
  const KMeansResult fa = fit_kmeans(*p.cpu, X, fp, kp);
  const KMeansResult fb = fit_kmeans(*p.gpu, X, fp, kp);
  EXPECT_EQ(fa.labels, fb.labels);
  EXPECT_EQ(fa.inertia, fb.inertia);
  const DispersionScores da = dispersion_scores(*p.cpu, fp, fa);
  const DispersionScores db = dispersion_scores(*p.gpu, fp, fb);
  EXPECT_EQ(da.calinski_harabasz, db.calinski_harabasz);
  EXPECT_EQ(da.davies_bouldin, db.davies_bouldin);
}

TEST(CudaBackendErrors, TooManyClustersForSharedMemoryIsADeviceError) {
  REQUIRE_GPU();
  Matrix tiny(10, 2);
  // Asking for a k_max whose shared-memory tile cannot fit is refused cleanly,
  // as a device limit (so --backend auto reruns on the CPU).
  auto gpu = make_cuda_backend(0);
  const FixedPoint fp = FixedPoint::for_data(tiny);
  EXPECT_THROW(gpu->bind(tiny, fp, 100000), DeviceError);
}

}  // namespace
}  // namespace archetype
