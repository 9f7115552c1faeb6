// sample_weight (DataView::sample_weight, WeightGrid): integer weights give
// exactly the fit, sweep, predict and dispersion scores of the rows
// repeated w times; weights of 1 give the unweighted bits; real weights
// agree with a double-precision reference; bad weights are refused by row;
// the thread count changes nothing; the silhouette ignores weights.
// Generated data only.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "archetype/clusterer.hpp"
#include "archetype/error.hpp"
#include "fit_compare.hpp"
#include "test_support.hpp"

namespace archetype {
namespace {

using test::cpu_options;
using test::expect_same_fit;

DataView weighted_view(const Matrix& X, const std::vector<double>& w) {
  DataView v = DataView::of(X);
  v.sample_weight = w.data();
  return v;
}

/// Each row repeated w times in place (numpy.repeat(X, w, axis=0)).
Matrix repeat_rows(const Matrix& X, const std::vector<int>& w) {
  std::size_t n = 0;
  for (int c : w) n += static_cast<std::size_t>(c);
  Matrix R(n, X.cols);
  std::size_t r = 0;
  for (std::size_t i = 0; i < X.rows; ++i)
    for (int c = 0; c < w[i]; ++c, ++r) std::copy(X.row(i), X.row(i) + X.cols, R.row(r));
  return R;
}

template <typename T>
std::vector<T> repeat_values(const std::vector<T>& v, const std::vector<int>& w) {
  std::vector<T> out;
  for (std::size_t i = 0; i < v.size(); ++i) out.insert(out.end(), static_cast<std::size_t>(w[i]), v[i]);
  return out;
}

std::vector<int> integer_weights(std::size_t n, int max_w, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<int> w(n);
  for (int& v : w) v = 1 + static_cast<int>(gen() % static_cast<std::uint64_t>(max_w));
  return w;
}

KMeansParams params(int k, int n_init = 3, std::uint64_t seed = 5) {
  KMeansParams p;
  p.n_clusters = k;
  p.n_init = n_init;
  p.seed = seed;
  return p;
}

/// The weighted fit equals the repeated rows' fit: centres, means, labels
/// (repeated), inertia, iterations, every run's inertia; its cluster
/// weights are the repeated fit's counts.
void expect_fit_equals_repeated(const KMeansResult& w, const KMeansResult& rep, const std::vector<int>& weights) {
  EXPECT_EQ(w.centers, rep.centers);
  EXPECT_EQ(w.means, rep.means);
  EXPECT_EQ(repeat_values(w.labels, weights), rep.labels);
  EXPECT_EQ(w.inertia, rep.inertia);
  EXPECT_EQ(w.n_iter, rep.n_iter);
  EXPECT_EQ(w.best_run, rep.best_run);
  ASSERT_EQ(w.runs.size(), rep.runs.size());
  for (std::size_t r = 0; r < w.runs.size(); ++r) {
    EXPECT_EQ(w.runs[r].inertia, rep.runs[r].inertia) << "run " << r;
    EXPECT_EQ(w.runs[r].centers, rep.runs[r].centers) << "run " << r;
  }
  ASSERT_EQ(w.weights.size(), rep.counts.size());
  for (std::size_t c = 0; c < w.weights.size(); ++c) EXPECT_EQ(w.weights[c], static_cast<double>(rep.counts[c]));
}

struct Shape {
  std::size_t n, d;
  int k;
};

class RepeatedRows : public ::testing::TestWithParam<Shape> {};

TEST_P(RepeatedRows, IntegerWeightsFitAsRepeatedRows) {
  const Shape s = GetParam();
  const Matrix X = test::random_blobs(s.n, s.d, 4, 100 + s.d * 7 + static_cast<std::uint64_t>(s.k));
  const std::vector<int> w = integer_weights(s.n, 4, 31 + s.d);
  const std::vector<double> wd(w.begin(), w.end());
  const Matrix R = repeat_rows(X, w);
  Clusterer weighted(weighted_view(X, wd), cpu_options());
  Clusterer repeated(DataView::of(R), cpu_options());
  EXPECT_EQ(weighted.weights().exp, 0);
  EXPECT_EQ(weighted.weights().total, static_cast<std::int64_t>(R.rows));
  EXPECT_EQ(weighted.fixed_point().dist_exp, repeated.fixed_point().dist_exp);
  const KMeansResult a = weighted.fit(params(s.k));
  const KMeansResult b = repeated.fit(params(s.k));
  expect_fit_equals_repeated(a, b, w);
  // The scores that weigh rows: the repeated rows' exactly.
  const DispersionScores da = weighted.dispersion(a.labels, s.k), db = repeated.dispersion(b.labels, s.k);
  EXPECT_EQ(da.defined, db.defined);
  EXPECT_EQ(da.calinski_harabasz, db.calinski_harabasz);
  EXPECT_EQ(da.davies_bouldin, db.davies_bouldin);
  // predict on other centres: labels and weighted inertia.
  const Prediction pa = weighted.predict(a.centers, s.k), pb = repeated.predict(a.centers, s.k);
  EXPECT_EQ(repeat_values(pa.labels, w), pb.labels);
  EXPECT_EQ(pa.inertia, pb.inertia);
}

INSTANTIATE_TEST_SUITE_P(Shapes, RepeatedRows,
                         ::testing::Values(Shape{300, 1, 1}, Shape{300, 1, 3}, Shape{300, 1, 20}, Shape{300, 2, 1},
                                           Shape{300, 2, 3}, Shape{300, 2, 20}, Shape{250, 7, 1}, Shape{250, 7, 3},
                                           Shape{250, 7, 20}),
                         [](const ::testing::TestParamInfo<Shape>& i) {
                           return "d" + std::to_string(i.param.d) + "_k" + std::to_string(i.param.k);
                         });

/// The fused sweep k = 1..20 (every model's seeding and Lloyd rounds
/// sharing passes) with integer weights: the repeated rows' sweep.
class RepeatedRowsSweep : public ::testing::TestWithParam<std::size_t> {};

TEST_P(RepeatedRowsSweep, IntegerWeightsSweepAsRepeatedRows) {
  const std::size_t d = GetParam();
  const Matrix X = test::random_blobs(240, d, 3, 200 + d);
  const std::vector<int> w = integer_weights(X.rows, 5, 41 + d);
  const std::vector<double> wd(w.begin(), w.end());
  const Matrix R = repeat_rows(X, w);
  Clusterer weighted(weighted_view(X, wd), cpu_options());
  Clusterer repeated(DataView::of(R), cpu_options());
  SweepParams sp;
  sp.k_min = 1;
  sp.k_max = 20;
  sp.kmeans = params(0, 3, 9);
  const SweepResult a = weighted.sweep(sp, 2), b = repeated.sweep(sp, 2);
  ASSERT_EQ(a.points.size(), b.points.size());
  for (std::size_t i = 0; i < a.points.size(); ++i) {
    EXPECT_EQ(a.points[i].wcss, b.points[i].wcss) << "k = " << a.points[i].k;
    EXPECT_EQ(a.points[i].n_iter, b.points[i].n_iter);
    EXPECT_EQ(a.points[i].dispersion.calinski_harabasz, b.points[i].dispersion.calinski_harabasz);
    EXPECT_EQ(a.points[i].dispersion.davies_bouldin, b.points[i].dispersion.davies_bouldin);
  }
  EXPECT_EQ(a.elbow_k, b.elbow_k);
  ASSERT_TRUE(a.kept && b.kept);
  expect_fit_equals_repeated(*a.kept, *b.kept, w);
  // The fused sweep's kept fit is the lone fit, bit for bit.
  KMeansParams p = sp.kmeans;
  p.n_clusters = 2;
  expect_same_fit(*a.kept, weighted.fit(p));
}

INSTANTIATE_TEST_SUITE_P(Dims, RepeatedRowsSweep, ::testing::Values(1, 2, 7),
                         [](const ::testing::TestParamInfo<std::size_t>& i) { return "d" + std::to_string(i.param); });

/// Weights of 1 are no weights, bit for bit, on every path: small and
/// large d (the transposed copy), the Lloyd bounds (mean k >= 64), the
/// threaded passes (>= 32,768 rows).
TEST(SampleWeight, OnesAreNoWeights) {
  const Shape shapes[] = {{500, 2, 5}, {600, 5, 8}, {1500, 16, 64}, {40000, 2, 4}};
  for (const Shape& s : shapes) {
    SCOPED_TRACE(std::to_string(s.n) + "x" + std::to_string(s.d) + " k=" + std::to_string(s.k));
    const Matrix X = test::random_blobs(s.n, s.d, 6, 77 + s.d);
    const std::vector<double> ones(s.n, 1.0);
    Clusterer plain(DataView::of(X), cpu_options());
    Clusterer weighted(weighted_view(X, ones), cpu_options());
    ASSERT_TRUE(weighted.weights().weighted());
    const KMeansResult a = plain.fit(params(s.k, 2)), b = weighted.fit(params(s.k, 2));
    expect_same_fit(a, b);
    EXPECT_EQ(a.weights, b.weights);
    const DispersionScores da = plain.dispersion(a.labels, s.k), db = weighted.dispersion(b.labels, s.k);
    EXPECT_EQ(da.calinski_harabasz, db.calinski_harabasz);
    EXPECT_EQ(da.davies_bouldin, db.davies_bouldin);
    EXPECT_EQ(plain.predict(a.centers, s.k).inertia, weighted.predict(a.centers, s.k).inertia);
  }
}

TEST(SampleWeight, OnesAreNoWeightsInTheSweep) {
  const Matrix X = test::random_blobs(800, 3, 4, 19);
  const std::vector<double> ones(X.rows, 1.0);
  Clusterer plain(DataView::of(X), cpu_options()), weighted(weighted_view(X, ones), cpu_options());
  SweepParams sp;
  sp.k_min = 2;
  sp.k_max = 6;
  sp.kmeans = params(0, 3);
  const SweepResult a = plain.sweep(sp, 4), b = weighted.sweep(sp, 4);
  ASSERT_EQ(a.points.size(), b.points.size());
  for (std::size_t i = 0; i < a.points.size(); ++i) {
    EXPECT_EQ(a.points[i].wcss, b.points[i].wcss);
    EXPECT_EQ(a.points[i].sizes, b.points[i].sizes);
    EXPECT_EQ(a.points[i].silhouette.score, b.points[i].silhouette.score);
    EXPECT_EQ(a.points[i].dispersion.calinski_harabasz, b.points[i].dispersion.calinski_harabasz);
  }
  expect_same_fit(*a.kept, *b.kept);
}

// ---- real weights against double precision -----------------------------------

double sq(const Matrix& X, std::size_t i, const std::vector<double>& c, std::size_t k) {
  double s = 0.0;
  for (std::size_t j = 0; j < X.cols; ++j) {
    const double diff = static_cast<double>(X.at(i, j)) - c[k * X.cols + j];
    s += diff * diff;
  }
  return s;
}

struct Reference {
  std::vector<double> means, cluster_weight;
  double inertia = 0.0, ch = 0.0, db = 0.0;
};

/// Weighted means, inertia to `centers`, Calinski-Harabasz and
/// Davies-Bouldin (the formulas on rows repeated w times), naively in double.
Reference reference(const Matrix& X, const std::vector<double>& w, const std::vector<std::int32_t>& labels, int k,
                    const std::vector<double>& centers) {
  const std::size_t d = X.cols, kk = static_cast<std::size_t>(k);
  Reference r;
  r.means.assign(kk * d, 0.0);
  r.cluster_weight.assign(kk, 0.0);
  std::vector<double> overall(d, 0.0);
  double total = 0.0;
  for (std::size_t i = 0; i < X.rows; ++i) {
    const std::size_t c = static_cast<std::size_t>(labels[i]);
    r.cluster_weight[c] += w[i];
    total += w[i];
    for (std::size_t j = 0; j < d; ++j) {
      r.means[c * d + j] += w[i] * X.at(i, j);
      overall[j] += w[i] * X.at(i, j);
    }
    r.inertia += w[i] * sq(X, i, centers, c);
  }
  for (std::size_t c = 0; c < kk; ++c)
    for (std::size_t j = 0; j < d; ++j) r.means[c * d + j] /= r.cluster_weight[c];
  for (double& v : overall) v /= total;
  double extra = 0.0, intra = 0.0;
  std::vector<double> S(kk, 0.0);
  for (std::size_t i = 0; i < X.rows; ++i) {
    const std::size_t c = static_cast<std::size_t>(labels[i]);
    intra += w[i] * sq(X, i, r.means, c);
    S[c] += w[i] * std::sqrt(sq(X, i, r.means, c));
  }
  for (std::size_t c = 0; c < kk; ++c) {
    double dist = 0.0;
    for (std::size_t j = 0; j < d; ++j) dist += (r.means[c * d + j] - overall[j]) * (r.means[c * d + j] - overall[j]);
    extra += r.cluster_weight[c] * dist;
    S[c] /= r.cluster_weight[c];
  }
  r.ch = extra * (total - k) / (intra * (k - 1));
  for (std::size_t a = 0; a < kk; ++a) {
    double worst = 0.0;
    for (std::size_t b = 0; b < kk; ++b) {
      if (a == b) continue;
      double m2 = 0.0;
      for (std::size_t j = 0; j < d; ++j) m2 += (r.means[a * d + j] - r.means[b * d + j]) * (r.means[a * d + j] - r.means[b * d + j]);
      worst = std::max(worst, (S[a] + S[b]) / std::sqrt(m2));
    }
    r.db += worst / k;
  }
  return r;
}

TEST(SampleWeight, RealWeightsMatchDoublePrecision) {
  // Dyadic weights (exact on their grid) and weights no grid holds exactly.
  const std::vector<double> palette[] = {{0.5, 2.25, 1.0, 0.75}, {0.3, 1.7, 0.01, 2.9, 0.45}};
  for (const auto& values : palette) {
    const Matrix X = test::random_blobs(900, 3, 4, 23);
    std::vector<double> w(X.rows);
    for (std::size_t i = 0; i < X.rows; ++i) w[i] = values[(i * 7) % values.size()];
    Clusterer c(weighted_view(X, w), cpu_options());
    const int k = 4;
    KMeansParams p = params(k);
    p.tol = 0.0;  // to the fixed point: the centres are the final labels' means
    const KMeansResult fit = c.fit(p);
    const Reference ref = reference(X, w, fit.labels, k, fit.centers);
    // Tolerances: float32 rows, the centres' grid (max|x| 2^-23), weights
    // to 24 significant bits: relative 1e-6 on sums, 1e-6 absolute on means.
    for (std::size_t i = 0; i < ref.means.size(); ++i) EXPECT_NEAR(fit.means[i], ref.means[i], 1e-6) << i;
    for (std::size_t c2 = 0; c2 < static_cast<std::size_t>(k); ++c2)
      EXPECT_NEAR(fit.weights[c2], ref.cluster_weight[c2], 1e-6 * ref.cluster_weight[c2]);
    EXPECT_NEAR(fit.inertia, ref.inertia, 1e-6 * ref.inertia);
    // A converged weighted Lloyd fit: every centre is its cluster's weighted mean.
    EXPECT_EQ(fit.centers, fit.means);
    const DispersionScores s = c.dispersion(fit.labels, k);
    ASSERT_TRUE(s.defined);
    EXPECT_NEAR(s.calinski_harabasz, ref.ch, 1e-6 * ref.ch);
    EXPECT_NEAR(s.davies_bouldin, ref.db, 1e-6 * ref.db);
    const Prediction pred = c.predict(fit.centers, k);
    EXPECT_EQ(pred.labels, fit.labels);
    EXPECT_NEAR(pred.inertia, ref.inertia, 1e-6 * ref.inertia);
  }
}

/// Scaling every weight by a power of two scales the inertia and nothing
/// else (the grid absorbs it): a check of the grid bookkeeping.
TEST(SampleWeight, ScaledWeightsScaleTheInertiaOnly) {
  const Matrix X = test::random_blobs(700, 2, 3, 29);
  std::vector<double> w(X.rows), w8(X.rows);
  for (std::size_t i = 0; i < X.rows; ++i) {
    w[i] = 0.25 * static_cast<double>(1 + i % 5);
    w8[i] = 8.0 * w[i];
  }
  Clusterer a(weighted_view(X, w), cpu_options()), b(weighted_view(X, w8), cpu_options());
  const KMeansResult fa = a.fit(params(3)), fb = b.fit(params(3));
  EXPECT_EQ(fa.centers, fb.centers);
  EXPECT_EQ(fa.labels, fb.labels);
  EXPECT_EQ(fa.inertia * 8.0, fb.inertia);
}

/// Weighted k-means++: a row of weight 0 is never a seed, however far it is
/// (unweighted k-means++ takes a lone far row almost surely), and never
/// fills an empty cluster.
TEST(SampleWeight, ZeroWeightRowsAreNeverSeeds) {
  Matrix X = test::random_blobs(200, 2, 2, 37);
  X.at(17, 0) = 500.0f;
  X.at(17, 1) = -500.0f;
  std::vector<double> w(X.rows, 1.0);
  w[17] = 0.0;
  Clusterer c(weighted_view(X, w), cpu_options());
  KMeansParams p = params(3, 10);
  p.max_iter = 1;  // the seeds, then one Lloyd step: still far from the outlier
  const KMeansResult fit = c.fit(p);
  for (const KMeansRun& run : fit.runs)
    for (std::size_t i = 0; i < run.centers.size(); i += 2) EXPECT_LT(std::fabs(run.centers[i]), 100.0);
  // Its label is still given (scikit-learn labels every row).
  EXPECT_GE(fit.labels[17], 0);
  // The unweighted fit does take it.
  Clusterer plain(DataView::of(X), cpu_options());
  bool taken = false;
  for (const KMeansRun& run : plain.fit(p).runs)
    for (std::size_t i = 0; i < run.centers.size(); i += 2) taken |= std::fabs(run.centers[i]) > 100.0;
  EXPECT_TRUE(taken);
}

// ---- the grid ----------------------------------------------------------------

TEST(WeightGrid, IntegersAndDyadicWeightsAreExact) {
  const std::vector<double> ints = {1, 2, 3, 1000000, 0};
  const WeightGrid gi = WeightGrid::of(ints.data(), ints.size());
  EXPECT_EQ(gi.exp, 0);
  EXPECT_EQ(gi.q, (std::vector<std::int32_t>{1, 2, 3, 1000000, 0}));
  EXPECT_EQ(gi.total, 1000006);
  const std::vector<double> dy = {0.5, 2.25, 0.125};
  const WeightGrid gd = WeightGrid::of(dy.data(), dy.size());
  EXPECT_EQ(gd.exp, 3);
  EXPECT_EQ(gd.q, (std::vector<std::int32_t>{4, 18, 1}));
  EXPECT_EQ(gd.value(gd.total), 2.875);
}

TEST(WeightGrid, OtherWeightsKeep24BitsOfTheLargest) {
  const std::vector<double> w = {0.1, 0.7, 1e-9};
  const WeightGrid g = WeightGrid::of(w.data(), w.size());
  // 0.7 < 2^0: e = 24, so 0.7 * 2^24 rounds to an integer below 2^24.
  EXPECT_EQ(g.exp, 24);
  EXPECT_EQ(g.q[1], static_cast<std::int32_t>(std::nearbyint(0.7 * 16777216.0)));
  EXPECT_EQ(g.q[2], 0);  // below half the grid: counts as 0
  EXPECT_NEAR(g.value(g.q[0]), 0.1, std::ldexp(1.0, -25));
  EXPECT_DOUBLE_EQ(g.given_total, 0.1 + 0.7 + 1e-9);
  // Integers too large for an int32 (or a total beyond 2^40) are rounded.
  const std::vector<double> big = {3e9, 1.0};
  const WeightGrid gb = WeightGrid::of(big.data(), big.size());
  EXPECT_LT(gb.exp, 0);
  EXPECT_LT(gb.q[0], std::int32_t{1} << 24);
  EXPECT_NEAR(gb.value(gb.q[0]), 3e9, 3e9 * std::ldexp(1.0, -23));
}

TEST(WeightGrid, TheTotalStaysBelow2To40) {
  const std::vector<double> w(1000, 2e9);  // exact integers, but 2e12 in total
  const WeightGrid g = WeightGrid::of(w.data(), w.size());
  EXPECT_LT(g.total, std::int64_t{1} << 40);
  EXPECT_NEAR(g.value(g.total), 2e12, 2e12 * 1e-6);
}

std::string input_error(const std::vector<double>& w) {
  const Matrix X = test::random_blobs(w.size(), 2, 2, 3);
  try {
    Clusterer c(weighted_view(X, w), cpu_options());
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(SampleWeight, BadWeightsAreRefusedByRow) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(input_error({1, 2, nan, 1}), "sample_weight: row 3: the weight nan is not finite");
  EXPECT_EQ(input_error({1, inf, 1}), "sample_weight: row 2: the weight inf is not finite");
  EXPECT_EQ(input_error({1, 2, 3, -0.5}), "sample_weight: row 4: the weight -0.5 is negative");
  EXPECT_EQ(input_error({0, 0, 0}), "sample_weight: every weight is 0 (expected a positive total)");
  EXPECT_EQ(input_error({1.5e308, 1.5e308}), "sample_weight: the weights' total is beyond the double range");
  EXPECT_EQ(input_error({0, 0, 2}), "(accepted)");
}

TEST(SampleWeight, ThreadCountChangesNothing) {
  const Matrix X = test::random_blobs(40000, 3, 5, 43);  // >= 32,768 rows: threaded passes
  std::vector<double> w(X.rows);
  std::mt19937_64 gen(7);
  for (double& v : w) v = 0.1 + static_cast<double>(gen() % 1000) / 250.0;
  Clusterer one(weighted_view(X, w), cpu_options(1)), two(weighted_view(X, w), cpu_options(2));
  expect_same_fit(one.fit(params(6, 2)), two.fit(params(6, 2)));
  SweepParams sp;
  sp.k_min = 2;
  sp.k_max = 4;
  sp.kmeans = params(0, 2);
  sp.silhouette.sample_size = 2000;
  const SweepResult a = one.sweep(sp), b = two.sweep(sp);
  for (std::size_t i = 0; i < a.points.size(); ++i) {
    EXPECT_EQ(a.points[i].wcss, b.points[i].wcss);
    EXPECT_EQ(a.points[i].dispersion.calinski_harabasz, b.points[i].dispersion.calinski_harabasz);
    EXPECT_EQ(a.points[i].silhouette.score, b.points[i].silhouette.score);
  }
}

/// The silhouette scores the rows as given: weights change the labels a fit
/// finds, not how given labels are scored (scikit-learn's silhouette_score
/// has no weights).
TEST(SampleWeight, SilhouetteIgnoresWeights) {
  const Matrix X = test::random_blobs(600, 2, 3, 47);
  std::vector<double> w(X.rows);
  for (std::size_t i = 0; i < X.rows; ++i) w[i] = static_cast<double>(1 + (i * 13) % 9);
  Clusterer weighted(weighted_view(X, w), cpu_options()), plain(DataView::of(X), cpu_options());
  const KMeansResult fit = weighted.fit(params(3));
  const SilhouetteResult a = weighted.silhouette(fit.labels, 3), b = plain.silhouette(fit.labels, 3);
  ASSERT_TRUE(a.defined);
  EXPECT_EQ(a.score, b.score);
  EXPECT_EQ(a.values, b.values);
  EXPECT_EQ(a.cluster_means, b.cluster_means);
  // ... which is not the repeated rows' silhouette.
  const std::vector<int> wi(w.begin(), w.end());
  const Matrix R = repeat_rows(X, wi);  // used in place: it must outlive the Clusterer
  Clusterer repeated(DataView::of(R), cpu_options());
  EXPECT_NE(a.score, repeated.silhouette(repeat_values(fit.labels, wi), 3).score);
}

}  // namespace
}  // namespace archetype
