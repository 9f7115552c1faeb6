// The CUDA backend against its oracle, the CPU backend: every pass must
// return the same bits.  Labelled `gpu` in ctest; every test skips, saying
// why, where no CUDA device is usable.
#include <gtest/gtest.h>

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

  std::int64_t fa[3], fb[3];
  std::int32_t fla[3], flb[3];
  p.cpu->farthest_rows(centers.data(), k, 3, fa, fla);
  p.gpu->farthest_rows(centers.data(), k, 3, fb, flb);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(fa[i], fb[i]);
    EXPECT_EQ(fla[i], flb[i]);
  }

  // k-means++ primitives.
  p.cpu->seed_distances(X.row(7));
  p.gpu->seed_distances(X.row(7));
  ASSERT_EQ(p.cpu->potential(), p.gpu->potential());
  const std::int64_t pot = p.cpu->potential();
  std::vector<std::int64_t> targets = {0, pot / 7, pot / 2, pot - 1};
  std::vector<std::int64_t> ra2(4), rb2(4);
  p.cpu->sample_by_potential(targets.data(), 4, ra2.data());
  p.gpu->sample_by_potential(targets.data(), 4, rb2.data());
  EXPECT_EQ(ra2, rb2);
  std::vector<float> cands;
  for (std::int64_t r : ra2) cands.insert(cands.end(), X.row(static_cast<std::size_t>(r)), X.row(static_cast<std::size_t>(r)) + d);
  std::vector<std::int64_t> pa(4), pb(4);
  p.cpu->trial_potentials(cands.data(), 4, pa.data());
  p.gpu->trial_potentials(cands.data(), 4, pb.data());
  EXPECT_EQ(pa, pb);
  p.cpu->commit_center(cands.data());
  p.gpu->commit_center(cands.data());
  EXPECT_EQ(p.cpu->potential(), p.gpu->potential());
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
