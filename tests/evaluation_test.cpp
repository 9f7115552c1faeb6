// Silhouette, Calinski-Harabasz and Davies-Bouldin against naive
// double-precision oracles and the reference figures.
#include "archetype/evaluation.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "test_support.hpp"

namespace archetype {
namespace {

std::vector<std::int32_t> modulo_labels(std::size_t n, int k) {
  std::vector<std::int32_t> l(n);
  for (std::size_t i = 0; i < n; ++i) l[i] = static_cast<std::int32_t>((i * 7 + i / 3) % static_cast<std::size_t>(k));
  return l;
}

TEST(Silhouette, MatchesNaiveDoubleOracle) {
  for (std::size_t d : {1u, 2u, 5u}) {
    const Matrix X = test::random_blobs(700, d, 4, 21 + d);
    const std::vector<std::int32_t> labels = modulo_labels(X.rows, 4);
    auto b = make_cpu_backend(2);
    const SilhouetteResult r = silhouette(*b, X, labels, 4, {});
    ASSERT_TRUE(r.defined);
    const std::vector<double> ref = test::naive_silhouette(X, labels, 4);
    double mean = 0.0;
    for (std::size_t i = 0; i < X.rows; ++i) {
      EXPECT_NEAR(r.values[i], ref[i], 1e-5) << "d = " << d << " row " << i;
      mean += ref[i];
    }
    EXPECT_NEAR(r.score, mean / static_cast<double>(X.rows), 1e-6);
  }
}

TEST(Silhouette, SingletonClusterScoresZeroAndSameBitsAcrossThreads) {
  const Matrix X = test::random_blobs(301, 2, 3, 8);
  std::vector<std::int32_t> labels = modulo_labels(X.rows, 3);
  labels[0] = 3;  // a cluster of one row
  auto b1 = make_cpu_backend(1);
  auto b2 = make_cpu_backend(2);
  const SilhouetteResult r1 = silhouette(*b1, X, labels, 4, {});
  const SilhouetteResult r2 = silhouette(*b2, X, labels, 4, {});
  EXPECT_EQ(r1.values[0], 0.0);
  EXPECT_EQ(r1.cluster_means[3], 0.0);
  EXPECT_EQ(r1.values, r2.values);
  EXPECT_EQ(r1.score, r2.score);
}

TEST(Silhouette, UndefinedForOneClusterOrAllSingletons) {
  const Matrix X = test::random_blobs(10, 2, 2, 1);
  auto b = make_cpu_backend(1);
  EXPECT_FALSE(silhouette(*b, X, std::vector<std::int32_t>(10, 0), 1, {}).defined);
  std::vector<std::int32_t> all(10);
  for (int i = 0; i < 10; ++i) all[static_cast<std::size_t>(i)] = i;
  EXPECT_FALSE(silhouette(*b, X, all, 10, {}).defined);
}

TEST(Silhouette, SampleFollowsSampleSizeSemantics) {
  const Matrix X = test::random_blobs(2000, 2, 3, 4);
  const std::vector<std::int32_t> labels = modulo_labels(X.rows, 3);
  auto b = make_cpu_backend(2);
  SilhouetteParams p;
  p.sample_size = 300;
  p.seed = 5;
  const SilhouetteResult r = silhouette(*b, X, labels, 3, p);
  ASSERT_EQ(r.evaluated, 300u);
  ASSERT_EQ(r.rows.size(), 300u);
  EXPECT_TRUE(std::is_sorted(r.rows.begin(), r.rows.end()));
  // The score is the exact silhouette of the sampled rows alone.
  Matrix sub(300, 2);
  std::vector<std::int32_t> sub_labels(300);
  for (std::size_t i = 0; i < 300; ++i) {
    sub.at(i, 0) = X.at(r.rows[i], 0);
    sub.at(i, 1) = X.at(r.rows[i], 1);
    sub_labels[i] = labels[r.rows[i]];
  }
  EXPECT_EQ(silhouette(*b, sub, sub_labels, 3, {}).score, r.score);
  // Same seed, same sample; sample >= n means exact.
  EXPECT_EQ(silhouette(*b, X, labels, 3, p).rows, r.rows);
  p.sample_size = 5000;
  EXPECT_EQ(silhouette(*b, X, labels, 3, p).evaluated, 2000u);
}

/// Brute-force CH and DB (scikit-learn's formulas) for a fit.
void naive_ch_db(const Matrix& X, const std::vector<std::int32_t>& labels, int k, double& ch, double& db) {
  const std::size_t n = X.rows, d = X.cols, kk = static_cast<std::size_t>(k);
  std::vector<double> mean(kk * d, 0.0), overall(d, 0.0), cnt(kk, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    cnt[static_cast<std::size_t>(labels[i])] += 1;
    for (std::size_t j = 0; j < d; ++j) {
      mean[static_cast<std::size_t>(labels[i]) * d + j] += X.at(i, j);
      overall[j] += X.at(i, j);
    }
  }
  for (std::size_t c = 0; c < kk; ++c)
    for (std::size_t j = 0; j < d; ++j) mean[c * d + j] /= cnt[c];
  for (double& v : overall) v /= static_cast<double>(n);
  double extra = 0.0, intra = 0.0;
  std::vector<double> S(kk, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    double s = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
      const double diff = X.at(i, j) - mean[static_cast<std::size_t>(labels[i]) * d + j];
      s += diff * diff;
    }
    intra += s;
    S[static_cast<std::size_t>(labels[i])] += std::sqrt(s);
  }
  for (std::size_t c = 0; c < kk; ++c) {
    double s = 0.0;
    for (std::size_t j = 0; j < d; ++j) s += (mean[c * d + j] - overall[j]) * (mean[c * d + j] - overall[j]);
    extra += cnt[c] * s;
    S[c] /= cnt[c];
  }
  ch = extra * (static_cast<double>(n) - k) / (intra * (k - 1));
  db = 0.0;
  for (std::size_t a = 0; a < kk; ++a) {
    double worst = 0.0;
    for (std::size_t b = 0; b < kk; ++b) {
      if (a == b) continue;
      double m = 0.0;
      for (std::size_t j = 0; j < d; ++j) m += (mean[a * d + j] - mean[b * d + j]) * (mean[a * d + j] - mean[b * d + j]);
      worst = std::max(worst, (S[a] + S[b]) / std::sqrt(m));
    }
    db += worst;
  }
  db /= k;
}

TEST(Dispersion, MatchesNaiveFormulas) {
  const Matrix X = test::random_blobs(5000, 3, 5, 13, 1.0f);
  const FixedPoint fp = FixedPoint::for_data(X);
  auto b = make_cpu_backend(2);
  b->bind(X, fp, 5);
  KMeansParams p;
  p.n_clusters = 5;
  p.n_init = 2;
  const KMeansResult fit = fit_kmeans(*b, X, fp, p);
  const DispersionScores s = dispersion_scores(*b, fp, fit);
  ASSERT_TRUE(s.defined);
  double ch = 0.0, db = 0.0;
  naive_ch_db(X, fit.labels, 5, ch, db);
  EXPECT_NEAR(s.calinski_harabasz / ch, 1.0, 1e-6);
  EXPECT_NEAR(s.davies_bouldin / db, 1.0, 1e-6);
}

// The reference k = 5 solution: silhouette 0.627520886, CH 8597.035074,
// DB 0.507209270 (scikit-learn 1.2.1).
TEST(EvaluationGolden, ReferenceKFive) {
  const Matrix X = test::reference_scaled();
  const FixedPoint fp = FixedPoint::for_data(X);
  auto b = make_cpu_backend(2);
  b->bind(X, fp, 5);
  KMeansParams p;
  p.n_clusters = 5;
  const KMeansResult fit = fit_kmeans(*b, X, fp, p);
  const DispersionScores s = dispersion_scores(*b, fp, fit);
  EXPECT_NEAR(s.calinski_harabasz, 8597.035074, 8597.035074 * 1e-6);
  EXPECT_NEAR(s.davies_bouldin, 0.507209270, 1e-6);
  const SilhouetteResult sil = silhouette(*b, X, fit.labels, 5, {});
  EXPECT_NEAR(sil.score, 0.627520886, 1e-6);
}

}  // namespace
}  // namespace archetype

namespace archetype {
namespace {

// A sampled silhouette's 95% interval stays inside [-1, 1], also for a tiny
// sample of nearly perfectly separated clusters (whose normal interval
// would reach past 1).
TEST(Silhouette, SampledIntervalStaysInsideMinusOneToOne) {
  Matrix X(200, 1);
  for (std::size_t i = 0; i < X.rows; ++i)
    X.values[i] = (i % 2 ? 100.0f : -100.0f) + static_cast<float>(i % 7) * (i % 3 == 0 ? 30.0f : 0.01f);
  std::vector<std::int32_t> labels(X.rows);
  for (std::size_t i = 0; i < X.rows; ++i) labels[i] = static_cast<std::int32_t>(i % 2);
  auto b = make_cpu_backend(1);
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const SilhouetteResult r = silhouette(*b, X, labels, 2, {4, seed});
    if (!r.defined) continue;
    EXPECT_GE(r.ci_low, -1.0) << seed;
    EXPECT_LE(r.ci_high, 1.0) << seed;
    EXPECT_LE(r.ci_low, r.score);
    EXPECT_GE(r.ci_high, r.score);
  }
}

}  // namespace
}  // namespace archetype
