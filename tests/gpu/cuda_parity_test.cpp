// The CUDA backend against its oracle, the CPU backend: every pass must
// return the same bits.  Labelled `gpu` in ctest; every test skips, saying
// why, where no CUDA device is usable.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "archetype/clusterer.hpp"
#include "archetype/cuda.hpp"
#include "archetype/error.hpp"
#include "archetype/evaluation.hpp"
#include "archetype/kmeans.hpp"
#include "engine/fit_steps.hpp"
#include "fit_compare.hpp"
#include "gpu/pass_parity.hpp"
#include "test_support.hpp"

namespace archetype {
namespace {

using test::bound_pair;
using test::expect_same;
using test::Pair;

class CudaParity : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t, int>> {};

TEST_P(CudaParity, EveryPassGivesTheSameBits) {
  REQUIRE_GPU();
  const auto [n, d, k] = GetParam();
  const Matrix X = test::random_blobs(n, d, k, 100 + n + d);
  const FixedPoint fp = FixedPoint::for_data(X);
  Pair p = bound_pair(X, fp, k);
  test::expect_every_pass_equal(p, X, k);
}

// Row counts with tails (no multiple of any tile: 1,024, 4,096, 32), the
// specialised widths (1, 2, 3) and the generic loop (5, 7, 64, 300), and k
// up to 1,000 (centres streamed in groups, sums by global atomics).
INSTANTIATE_TEST_SUITE_P(Shapes, CudaParity,
                         ::testing::Values(std::make_tuple(std::size_t{2600}, std::size_t{2}, 5),
                                           std::make_tuple(std::size_t{100003}, std::size_t{2}, 10),
                                           std::make_tuple(std::size_t{50000}, std::size_t{5}, 7),
                                           std::make_tuple(std::size_t{3000}, std::size_t{64}, 3),
                                           std::make_tuple(std::size_t{20011}, std::size_t{1}, 40),
                                           std::make_tuple(std::size_t{9001}, std::size_t{3}, 1000),
                                           std::make_tuple(std::size_t{12345}, std::size_t{7}, 300),
                                           std::make_tuple(std::size_t{4099}, std::size_t{64}, 1000),
                                           std::make_tuple(std::size_t{3001}, std::size_t{300}, 120)));

// The silhouette at the same widths (d = 300 runs on the CPU in the same
// order), against the CPU bit for bit.
class CudaSilhouetteParity : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t, int>> {};

TEST_P(CudaSilhouetteParity, SameBits) {
  REQUIRE_GPU();
  const auto [n, d, k] = GetParam();
  const Matrix X = test::random_blobs(n, d, k, 7 + n + d);
  std::vector<std::int32_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) labels[i] = static_cast<std::int32_t>((i * 2654435761u) % static_cast<std::size_t>(k));
  auto cpu = make_cpu_backend(2);
  auto gpu = make_cuda_backend(0);
  std::vector<double> a(n), b(n);
  cpu->silhouette(X, labels.data(), k, a.data());
  gpu->silhouette(X, labels.data(), k, b.data());
  EXPECT_EQ(a, b);
}

INSTANTIATE_TEST_SUITE_P(Shapes, CudaSilhouetteParity,
                         ::testing::Values(std::make_tuple(std::size_t{3001}, std::size_t{1}, 3),
                                           std::make_tuple(std::size_t{2999}, std::size_t{3}, 7),
                                           std::make_tuple(std::size_t{2001}, std::size_t{7}, 40),
                                           std::make_tuple(std::size_t{1500}, std::size_t{64}, 5),
                                           std::make_tuple(std::size_t{700}, std::size_t{300}, 4)));

// Streaming (chunks forced small) at a generic width and many centres:
// every pass, batch and single, the same bits as the CPU.
TEST(CudaStreaming, WideRowsManyCentresEqualTheCpu) {
  REQUIRE_GPU();
  const Matrix X = test::random_blobs(20011, 7, 300, 5, 0.8f);
  const FixedPoint fp = FixedPoint::for_data(X);
  Pair p = bound_pair(X, fp, 300, nullptr, "8192");
  ASSERT_NE(p.gpu->device().find("streamed"), std::string::npos) << p.gpu->device();
  // 317 centres: the 300 of the single passes, then the batch's second
  // model (17) reads the 17 after them.
  std::vector<float> centers(317 * 7);
  for (std::size_t i = 0; i < centers.size(); ++i) centers[i] = X.values[(i * 131 + 5) % X.values.size()];
  p.cpu->reset_labels();
  p.gpu->reset_labels();
  for (int pass = 0; pass < 2; ++pass) test::lloyd_pass_both(p, centers.data(), 300);
  std::vector<std::int32_t> labels(X.rows);
  p.cpu->copy_labels(labels.data());
  std::vector<std::int64_t> sqa(300), sqb(300), ra(300), rb(300);
  p.cpu->dispersion(centers.data(), 300, labels.data(), sqa.data(), ra.data());
  p.gpu->dispersion(centers.data(), 300, labels.data(), sqb.data(), rb.data());
  EXPECT_EQ(sqa, sqb);
  EXPECT_EQ(ra, rb);
  const int ks[2] = {300, 17};
  const ModelBatch batch{centers.data(), ks, 2};
  p.cpu->reserve_batch(2, 317);
  p.gpu->reserve_batch(2, 317);
  std::vector<PassSums> fa(2), fb(2);
  p.cpu->lloyd_batch(batch, fa.data());
  p.gpu->lloyd_batch(batch, fb.data());
  expect_same(fa[0], fb[0]);
  expect_same(fa[1], fb[1]);
  const int trials[2] = {kMaxTrials, 5};
  std::vector<float> cands(static_cast<std::size_t>(kMaxTrials + 5) * 7);
  for (std::size_t i = 0; i < cands.size(); ++i) cands[i] = X.values[(i * 7919 + 1) % X.values.size()];
  std::vector<std::int64_t> pa(2 + kMaxTrials + 5), pb(pa.size());
  p.cpu->kpp_potentials(batch, cands.data(), trials, pa.data());
  p.gpu->kpp_potentials(batch, cands.data(), trials, pb.data());
  EXPECT_EQ(pa, pb);
  const int n_targets[2] = {2, 2};
  const std::int64_t p0 = pa[0], p1 = pa[1 + kMaxTrials];
  const std::vector<std::int64_t> targets = {p0 / 3, p0 - 1, 0, p1 / 2};
  std::vector<std::int64_t> sa(4), sb(4);
  p.cpu->kpp_sample(batch, targets.data(), n_targets, sa.data());
  p.gpu->kpp_sample(batch, targets.data(), n_targets, sb.data());
  EXPECT_EQ(sa, sb);
}

/// run_restarts on both backends: every run's centres, inertia and
/// iterations equal.
void expect_same_restarts(Pair& p, const Matrix& X, const FixedPoint& fp, const KMeansParams& kp,
                          const std::vector<int>& ks) {
  const auto a = run_restarts(*p.cpu, X, fp, kp, ks);
  const auto b = run_restarts(*p.gpu, X, fp, kp, ks);
  for (std::size_t i = 0; i < ks.size(); ++i)
    for (std::size_t r = 0; r < a[i].size(); ++r) {
      EXPECT_EQ(a[i][r].centers, b[i][r].centers) << "k " << ks[i] << " run " << r;
      EXPECT_EQ(a[i][r].inertia, b[i][r].inertia) << "k " << ks[i] << " run " << r;
      EXPECT_EQ(a[i][r].n_iter, b[i][r].n_iter) << "k " << ks[i] << " run " << r;
    }
}

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
  expect_same_restarts(p, X, fp, kp, ks);
}

// Restarts at k >= 64, where the CPU prunes with Yinyang bounds and keeps
// labels and running sums per slot (none of that exists on the GPU), and
// both backends keep each model's k-means++ distances between passes: the
// same runs.
TEST(CudaParityFit, RestartsWhereTheCpuPrunes) {
  REQUIRE_GPU();
  const Matrix X = test::random_blobs(20011, 16, 40, 123, 0.9f);
  const FixedPoint fp = FixedPoint::for_data(X);
  Pair p = bound_pair(X, fp, 100);
  KMeansParams kp;
  kp.n_init = 2;
  const std::vector<int> ks = {64, 100};
  expect_same_restarts(p, X, fp, kp, ks);
}

// Exact ties across the groups in which the GPU streams its centres
// through shared memory: centre 500 + j is a copy of centre j (d = 64,
// k = 1,000), so every row ties between two centres in different groups
// and must take the lower index, resident and streamed, lone and batch.
TEST(CudaTies, CopiesInOtherCentreGroupsLoseToTheLowerIndex) {
  REQUIRE_GPU();
  const Matrix X = test::random_blobs(9001, 64, 30, 17, 0.8f);
  const FixedPoint fp = FixedPoint::for_data(X);
  constexpr int half = 500, k = 2 * half;
  std::vector<float> centers(static_cast<std::size_t>(k) * 64);
  for (std::size_t i = 0; i < static_cast<std::size_t>(half) * 64; ++i)
    centers[i] = centers[i + static_cast<std::size_t>(half) * 64] = X.values[(i * 7919) % X.values.size()];
  for (const char* chunk : {"", "4096"}) {
    Pair p = bound_pair(X, fp, k, nullptr, chunk);
    PassSums a, b;
    p.cpu->lloyd_pass(centers.data(), k, a);
    p.gpu->lloyd_pass(centers.data(), k, b);
    expect_same(a, b);
    for (int c = half; c < k; ++c) EXPECT_EQ(b.counts[static_cast<std::size_t>(c)], 0) << chunk;
    p.cpu->reserve_batch(1, k);
    p.gpu->reserve_batch(1, k);
    const int ks[1] = {k};
    p.cpu->lloyd_batch(ModelBatch{centers.data(), ks, 1}, &a);
    p.gpu->lloyd_batch(ModelBatch{centers.data(), ks, 1}, &b);
    expect_same(a, b);
  }
}

// Silhouette clusters of 1, 127, 128, 129 and 256 rows (the kernels' and the
// CPU's chunks are 128 rows) at d = 33 and 64, bit for bit.
TEST(CudaSilhouetteParity, ClusterSizesAroundTheChunk) {
  REQUIRE_GPU();
  const std::size_t sizes[] = {1, 127, 128, 129, 256};
  std::vector<std::int32_t> labels;
  for (std::size_t c = 0; c < 5; ++c) labels.insert(labels.end(), sizes[c], static_cast<std::int32_t>(c));
  for (const std::size_t d : {33u, 64u}) {
    const Matrix X = test::random_blobs(labels.size(), d, 5, 40 + d);
    auto cpu = make_cpu_backend(2);
    auto gpu = make_cuda_backend(0);
    std::vector<double> a(X.rows), b(X.rows);
    cpu->silhouette(X, labels.data(), 5, a.data());
    gpu->silhouette(X, labels.data(), 5, b.data());
    EXPECT_EQ(a, b) << "d " << d;
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
  Pair p = bound_pair(X, fp, 6, nullptr, "8192");
  EXPECT_NE(p.gpu->device().find("streamed"), std::string::npos) << p.gpu->device();
  KMeansParams kp;
  kp.n_init = 3;
  expect_same_restarts(p, X, fp, kp, {2, 4, 6});
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

// The label-store rule on the GPU as on the CPU (backend.hpp): take_labels
// hands the labels over and empties the store; the next pass starts over.
TEST(CudaLabelStore, TakeLabelsEmptiesTheStoreAsOnTheCpu) {
  REQUIRE_GPU();
  const Matrix X = test::random_blobs(20011, 3, 4, 3);
  const FixedPoint fp = FixedPoint::for_data(X);
  for (const char* chunk : {"", "8192"}) {  // resident, streamed
    Pair p = bound_pair(X, fp, 4, nullptr, chunk);
    const std::vector<float> centers(X.values.begin(), X.values.begin() + 12);
    test::lloyd_pass_both(p, centers.data(), 4);
    std::vector<std::int32_t> la, lb;
    p.cpu->take_labels(la);
    p.gpu->take_labels(lb);
    EXPECT_EQ(la, lb) << chunk;
    std::vector<std::int32_t> out(X.rows);
    EXPECT_THROW(p.gpu->copy_labels(out.data()), std::logic_error) << chunk;
    EXPECT_EQ(test::lloyd_pass_both(p, centers.data(), 4).changed, static_cast<std::int64_t>(X.rows)) << chunk;
  }
}

// Stored labels belong to one k on both backends: a lone pass with another
// k, without reset_labels, starts from all -1 (every row counts as
// changed), then counts changes from there; and k-means++ sampling refuses
// more targets a model than kMaxTrials, as the candidates do.
TEST(CudaLabelStore, AnotherKStartsOverAsOnTheCpu) {
  REQUIRE_GPU();
  const Matrix X = test::random_blobs(20011, 3, 4, 5);
  const FixedPoint fp = FixedPoint::for_data(X);
  for (const char* chunk : {"", "8192"}) {  // resident, streamed
    Pair p = bound_pair(X, fp, 5, nullptr, chunk);
    const std::vector<float> centers(X.values.begin(), X.values.begin() + 15);
    PassSums b;
    for (const int k : {5, 4, 4, 5}) b = test::lloyd_pass_both(p, centers.data(), k);
    EXPECT_EQ(b.changed, static_cast<std::int64_t>(X.rows)) << chunk;
    p.gpu->reserve_batch(1, 5);
    const int ks[1] = {5};
    const std::int64_t targets[kMaxTrials + 1] = {};
    const int too_many[1] = {kMaxTrials + 1};
    std::int64_t rows[kMaxTrials + 1];
    EXPECT_THROW(p.gpu->kpp_sample(ModelBatch{centers.data(), ks, 1}, targets, too_many, rows), std::logic_error);
  }
}

// The Clusterer on the GPU gives the CPU Clusterer's bits: fit, sweep (its
// scores and kept fit), predict, the metrics of given labels.
TEST(CudaClusterer, EqualsTheCpuClusterer) {
  REQUIRE_GPU();
  const Matrix X = test::random_blobs(30011, 5, 6, 12);
  test::expect_clusterers_equal(DataView::of(X));
}

TEST(CudaBackendShapes, LargeKAndDAreAccepted) {
  REQUIRE_GPU();
  // No shape up to d = 1,024 and k = 4,096 is refused: centres that do not
  // fit in shared memory are streamed in groups.
  for (const std::size_t d : {std::size_t{2}, std::size_t{64}, std::size_t{1024}}) {
    const Matrix X = test::random_blobs(5000, d, 3, 11);
    auto gpu = make_cuda_backend(0);
    EXPECT_NO_THROW(gpu->bind(X, FixedPoint::for_data(X), 4096)) << d;
  }
}

}  // namespace
}  // namespace archetype

namespace archetype {
namespace {

// The shape grid of scripts/gpu_check.sh (d x k), one batch Lloyd pass and
// one k-means++ potentials pass each, against the CPU bit for bit.  Its
// timings against the floors come from archetype_gpu_bench (BM_GpuGrid).
class CudaGrid : public ::testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(CudaGrid, SameBits) {
  REQUIRE_GPU();
  const auto [d, k] = GetParam();
  const std::size_t n = 20011;
  const Matrix X = test::random_blobs(n, static_cast<std::size_t>(d), 8, 31 + d);
  const FixedPoint fp = FixedPoint::for_data(X);
  Pair p = bound_pair(X, fp, k);
  std::vector<float> centers(static_cast<std::size_t>(k) * d);
  for (int c = 0; c < k; ++c)
    std::copy(X.row(static_cast<std::size_t>(c) * 37 % n), X.row(static_cast<std::size_t>(c) * 37 % n) + d,
              centers.begin() + static_cast<std::ptrdiff_t>(c) * d);
  const ModelBatch batch{centers.data(), &k, 1};
  p.cpu->reserve_batch(1, k);
  p.gpu->reserve_batch(1, k);
  PassSums a, b;
  p.cpu->lloyd_batch(batch, &a);
  p.gpu->lloyd_batch(batch, &b);
  expect_same(a, b);
  const int trials = 3;
  std::vector<float> cands(centers.begin(), centers.begin() + static_cast<std::ptrdiff_t>(std::min(k, 3)) * d);
  cands.resize(static_cast<std::size_t>(3) * d, 0.25f);
  std::vector<std::int64_t> pa(4), pb(4);
  p.cpu->kpp_potentials(batch, cands.data(), &trials, pa.data());
  p.gpu->kpp_potentials(batch, cands.data(), &trials, pb.data());
  EXPECT_EQ(pa, pb);
}

INSTANTIATE_TEST_SUITE_P(Grid, CudaGrid,
                         ::testing::Combine(::testing::Values(2, 4, 8, 16, 32, 64, 128, 256),
                                            ::testing::Values(5, 20, 100, 500)));

}  // namespace
}  // namespace archetype
