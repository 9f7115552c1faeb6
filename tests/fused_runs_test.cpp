// The fused runs (issue: one pass for the whole sweep): every model of a
// fused batch must end exactly where it ends when fitted alone.
#include <gtest/gtest.h>

#include "archetype/error.hpp"
#include "archetype/kmeans.hpp"
#include "archetype/sweep.hpp"
#include "engine/fit_steps.hpp"
#include "test_support.hpp"

namespace archetype {
namespace {

void expect_same_run(const KMeansRun& a, const KMeansRun& b, const std::string& what) {
  EXPECT_EQ(a.seed, b.seed) << what;
  EXPECT_EQ(a.inertia, b.inertia) << what;  // bit-identical, not approximately
  EXPECT_EQ(a.n_iter, b.n_iter) << what;
  EXPECT_EQ(a.converged, b.converged) << what;
  EXPECT_EQ(a.centers, b.centers) << what;
}

/// Each restart of each k run alone: n_init = 1 with the restart's seed.
KMeansRun lone_run(Backend& b, const Matrix& X, const FixedPoint& fp, KMeansParams p, int k, int r) {
  p.seed = p.seed + static_cast<std::uint64_t>(r);
  p.n_init = 1;
  return run_restarts(b, X, fp, p, {k}).front().front();
}

// k = 2..10 with 10 restarts each (90 models) fused, against each model alone.
TEST(FusedRuns, EveryModelOfTheSweepEqualsItsLoneFit) {
  const Matrix X = test::random_blobs(40000, 2, 5, 77, 0.9f);  // above 32,768 rows: threaded passes
  const FixedPoint fp = FixedPoint::for_data(X);
  auto b = make_cpu_backend(2);
  b->bind(X, fp, 10);
  KMeansParams p;
  std::vector<int> ks;
  for (int k = 2; k <= 10; ++k) ks.push_back(k);
  const auto fused = run_restarts(*b, X, fp, p, ks);
  ASSERT_EQ(fused.size(), ks.size());
  for (std::size_t i = 0; i < ks.size(); ++i) {
    ASSERT_EQ(fused[i].size(), 10u);
    for (int r = 0; r < 10; r += 3)  // a subset of restarts keeps the test fast
      expect_same_run(fused[i][static_cast<std::size_t>(r)], lone_run(*b, X, fp, p, ks[i], r),
                      "k = " + std::to_string(ks[i]) + ", restart " + std::to_string(r));
  }
}

// Restarts whose centres together exceed what a batch can count (int):
// refused with a message before they are made (the count used to wrap and
// the reservation failed as a logic error).
TEST(FusedRuns, MoreCentresThanABatchHoldsAreRefused) {
  Matrix X(1000000, 1);
  for (std::size_t i = 0; i < X.rows; ++i) X.values[i] = static_cast<float>(i % 977);
  const FixedPoint fp = FixedPoint::for_data(X);
  auto b = make_cpu_backend(1);
  KMeansParams p;
  p.n_init = 3000;  // 3,000 x 1,000,000 centres > 2^31 - 1
  try {
    run_restarts(*b, X, fp, p, {1000000});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("lower n_init or the range of k"), std::string::npos) << e.what();
  }
}

// Data with duplicates and more clusters than natural groups: empty
// clusters are relocated inside the fused loop exactly as in a lone fit.
TEST(FusedRuns, RelocationAndMaxIterBehaveAsInLoneFits) {
  Matrix X(3000, 2);
  for (std::size_t i = 0; i < X.rows; ++i) {
    X.values[2 * i] = static_cast<float>(i % 3);
    X.values[2 * i + 1] = static_cast<float>((i % 3) * (i % 3)) + (i % 250 == 0 ? 0.25f : 0.0f);
  }
  const FixedPoint fp = FixedPoint::for_data(X);
  auto b = make_cpu_backend(1);
  b->bind(X, fp, 8);
  KMeansParams p;
  p.max_iter = 3;  // some models stop on max_iter, some converge
  p.n_init = 4;
  const std::vector<int> ks = {2, 5, 8};
  const auto fused = run_restarts(*b, X, fp, p, ks);
  for (std::size_t i = 0; i < ks.size(); ++i)
    for (int r = 0; r < p.n_init; ++r)
      expect_same_run(fused[i][static_cast<std::size_t>(r)], lone_run(*b, X, fp, p, ks[i], r),
                      "k = " + std::to_string(ks[i]) + ", restart " + std::to_string(r));
}

// The fused sweep's points equal fit_kmeans of each k alone (restarts fused
// within the k), and the same for 1 and 2 threads.
TEST(FusedRuns, SweepPointsEqualSeparateFits) {
  const Matrix X = test::random_blobs(6000, 3, 4, 12);
  const FixedPoint fp = FixedPoint::for_data(X);
  SweepParams sp;
  sp.k_min = 2;
  sp.k_max = 6;
  sp.kmeans.n_init = 5;
  long long reported = 0;
  sp.progress = [&](const char*, int live, int models, long long passes) {
    EXPECT_LE(live, models);
    EXPECT_EQ(models, 25);
    reported = passes;
  };
  auto b1 = make_cpu_backend(1);
  b1->bind(X, fp, 6);
  const SweepResult sweep = run_sweep(*b1, X, fp, sp);
  EXPECT_GT(reported, 0);
  ASSERT_EQ(sweep.points.size(), 5u);
  auto b2 = make_cpu_backend(2);
  b2->bind(X, fp, 6);
  for (const SweepPoint& pt : sweep.points) {
    KMeansParams kp = sp.kmeans;
    kp.n_clusters = pt.k;
    const KMeansResult fit = fit_kmeans(*b2, X, fp, kp);
    EXPECT_EQ(pt.wcss, fit.inertia) << "k = " << pt.k;
    EXPECT_EQ(pt.n_iter, fit.n_iter) << "k = " << pt.k;
    EXPECT_EQ(pt.sizes, fit.counts) << "k = " << pt.k;
  }
}

}  // namespace
}  // namespace archetype
