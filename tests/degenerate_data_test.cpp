// Degenerate data (README, "Bad input and degenerate data"): correct
// answers, compared with scikit-learn 1.2.1 where it defines them.  Every
// reference number below was printed by
//
//     /usr/bin/python3 tests/fixtures/sklearn/degenerate.py
//
// (StandardScaler, then KMeans(n_clusters=k, n_init=10, random_state=0) and
// sklearn.metrics on the same float32 data; "ValueError" where scikit-learn
// refuses a metric, which Archetype reports as undefined: null in JSON).
// The library-level helper below does what the pipeline does: profile,
// standardize, fit on the CPU backend.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "archetype/backend.hpp"
#include "archetype/error.hpp"
#include "archetype/evaluation.hpp"
#include "archetype/kmeans.hpp"
#include "archetype/profile.hpp"
#include "archetype/scaler.hpp"
#include "cli_support.hpp"

namespace archetype {
namespace {

using json = nlohmann::ordered_json;
using Rows = std::vector<std::vector<float>>;

Matrix matrix_of(const Rows& rows) {
  Matrix X(rows.size(), rows.front().size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < X.cols; ++j) X.at(i, j) = rows[i][j];
  return X;
}

/// The pipeline's steps on `raw`: standardize, fit k with the defaults,
/// then the silhouette (exact, or on a sample of `silhouette_sample` rows)
/// and the dispersion scores.
struct Fitted {
  StandardScaler scaler;
  Matrix z;
  FixedPoint fp;
  std::unique_ptr<Backend> backend;
  KMeansResult fit;
  SilhouetteResult silhouette;
  DispersionScores dispersion;

  std::vector<std::int64_t> sorted_sizes() const {
    std::vector<std::int64_t> s = fit.counts;
    std::sort(s.begin(), s.end());
    return s;
  }
  /// Centre c in original units.
  std::vector<double> centre(std::size_t c) const {
    std::vector<double> v;
    for (std::size_t j = 0; j < fit.d; ++j) v.push_back(scaler.inverse(fit.centers[c * fit.d + j], j));
    return v;
  }
  /// The centres of the non-empty clusters, in original units, sorted.
  std::vector<std::vector<double>> used_centres() const {
    std::vector<std::vector<double>> out;
    for (std::size_t c = 0; c < static_cast<std::size_t>(fit.k); ++c)
      if (fit.counts[c] > 0) out.push_back(centre(c));
    std::sort(out.begin(), out.end());
    return out;
  }
};

Fitted fit_like_the_pipeline(const Matrix& raw, int k, std::size_t silhouette_sample = 0) {
  Fitted f;
  std::vector<FeatureProfile> profiles;
  for (std::size_t j = 0; j < raw.cols; ++j) profiles.push_back(profile_feature(raw, j));
  f.scaler = StandardScaler::from_profiles(profiles);
  f.z = f.scaler.transform(raw);
  f.fp = FixedPoint::for_data(f.z);
  f.backend = make_cpu_backend(2);
  f.backend->bind(f.z, f.fp, k);
  KMeansParams p;
  p.n_clusters = k;
  f.fit = fit_kmeans(*f.backend, f.z, f.fp, p);
  f.dispersion = dispersion_scores(*f.backend, f.fp, f.fit);
  f.silhouette = silhouette(*f.backend, f.z, f.fit.labels, k, SilhouetteParams{silhouette_sample, 42});
  return f;
}

void expect_centres(const std::vector<std::vector<double>>& actual, const std::vector<std::vector<double>>& expected,
                    double tol) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t c = 0; c < expected.size(); ++c)
    for (std::size_t j = 0; j < expected[c].size(); ++j)
      EXPECT_NEAR(actual[c][j], expected[c][j], tol) << "centre " << c << ", feature " << j;
}

void expect_converged_quickly(const KMeansResult& fit) {
  for (const KMeansRun& run : fit.runs) {
    EXPECT_TRUE(run.converged) << "seed " << run.seed;
    EXPECT_LE(run.n_iter, 3) << "seed " << run.seed;
  }
}

/// 0,0 / 5,5 / 10,0 repeated: only three distinct rows.
Matrix three_points(std::size_t n) {
  const float pts[3][2] = {{0, 0}, {5, 5}, {10, 0}};
  Matrix X(n, 2);
  for (std::size_t i = 0; i < n; ++i) {
    X.at(i, 0) = pts[i % 3][0];
    X.at(i, 1) = pts[i % 3][1];
  }
  return X;
}

const std::vector<std::vector<double>> kThreePoints = {{0, 0}, {5, 5}, {10, 0}};

// ---------------------------------------------------------------------------
// Library level
// ---------------------------------------------------------------------------

// scikit-learn: inertia 5.05e-30, sizes [0, 10, 10, 10], n_iter 1,
// silhouette 1.0, and ConvergenceWarning "Number of distinct clusters (3)
// found smaller than n_clusters (4)"; the fourth centre duplicates one.
// Before the relocation fix every run here went to max_iter (300): the
// clusters traded the duplicate rows back and forth.
TEST(DegenerateData, KAboveTheDistinctRows) {
  const Fitted f = fit_like_the_pipeline(three_points(30), 4);
  EXPECT_LT(f.fit.inertia, 1e-9);
  EXPECT_EQ(f.sorted_sizes(), (std::vector<std::int64_t>{0, 10, 10, 10}));
  expect_converged_quickly(f.fit);
  expect_centres(f.used_centres(), kThreePoints, 1e-5);
  for (std::size_t c = 0; c < 4; ++c) {  // the empty cluster's centre duplicates a used one
    const std::vector<double> v = f.centre(c);
    EXPECT_TRUE(std::any_of(kThreePoints.begin(), kThreePoints.end(), [&](const std::vector<double>& p) {
      return std::fabs(v[0] - p[0]) < 1e-5 && std::fabs(v[1] - p[1]) < 1e-5;
    })) << "centre " << c;
  }
  ASSERT_TRUE(f.silhouette.defined);
  EXPECT_NEAR(f.silhouette.score, 1.0, 1e-12);
}

// scikit-learn: inertia 0.0, sizes [0, 5], both centres (3, 4); silhouette,
// Calinski-Harabasz and Davies-Bouldin raise ValueError (1 label).
TEST(DegenerateData, AllRowsIdentical) {
  const Fitted f = fit_like_the_pipeline(matrix_of(Rows(5, {3, 4})), 2);
  EXPECT_EQ(f.fit.inertia, 0.0);
  EXPECT_EQ(f.sorted_sizes(), (std::vector<std::int64_t>{0, 5}));
  expect_converged_quickly(f.fit);
  expect_centres({f.centre(0), f.centre(1)}, {{3, 4}, {3, 4}}, 0.0);
  EXPECT_TRUE(f.scaler.constant[0] && f.scaler.constant[1]);
  EXPECT_FALSE(f.silhouette.defined);
  EXPECT_FALSE(f.dispersion.defined);
}

// scikit-learn: inertia 0.19123505976095623, sizes [3, 3], centres (2, 5)
// and (11, 5), silhouette 0.8504629629629629, Calinski-Harabasz
// 121.49999999999997, Davies-Bouldin 0.14814814814814833.  The constant
// feature keeps scale 1 (z = 0), as StandardScaler does.
TEST(DegenerateData, ConstantFeature) {
  const Fitted f = fit_like_the_pipeline(matrix_of({{1, 5}, {2, 5}, {3, 5}, {10, 5}, {11, 5}, {12, 5}}), 2);
  EXPECT_FALSE(f.scaler.constant[0]);
  EXPECT_TRUE(f.scaler.constant[1]);
  EXPECT_EQ(f.scaler.scale[1], 1.0);
  EXPECT_NEAR(f.fit.inertia / 0.19123505976095623, 1.0, 1e-6);
  EXPECT_EQ(f.sorted_sizes(), (std::vector<std::int64_t>{3, 3}));
  expect_centres(f.used_centres(), {{2, 5}, {11, 5}}, 1e-5);
  EXPECT_NEAR(f.silhouette.score, 0.8504629629629629, 1e-6);
  EXPECT_NEAR(f.dispersion.calinski_harabasz / 121.49999999999997, 1.0, 1e-6);
  EXPECT_NEAR(f.dispersion.davies_bouldin, 0.14814814814814833, 1e-6);
}

// scikit-learn: the same numbers as with the constant feature.
TEST(DegenerateData, OneFeature) {
  const Fitted f = fit_like_the_pipeline(matrix_of({{1}, {2}, {3}, {10}, {11}, {12}}), 2);
  EXPECT_NEAR(f.fit.inertia / 0.19123505976095623, 1.0, 1e-6);
  EXPECT_EQ(f.sorted_sizes(), (std::vector<std::int64_t>{3, 3}));
  expect_centres(f.used_centres(), {{2}, {11}}, 1e-5);
  EXPECT_NEAR(f.silhouette.score, 0.8504629629629629, 1e-6);
  EXPECT_NEAR(f.dispersion.calinski_harabasz / 121.49999999999997, 1.0, 1e-6);
  EXPECT_NEAR(f.dispersion.davies_bouldin, 0.14814814814814833, 1e-6);
}

// 300 rows x 64 features, three clusters (features j with j % 3 == i % 3
// raised by 10) plus a deterministic spread.  scikit-learn: inertia
// 1213.9623277162723, sizes [100, 100, 100], silhouette 0.8002330843057305,
// Calinski-Harabasz 2200.172553425712, Davies-Bouldin 0.3011847302087838.
TEST(DegenerateData, SixtyFourFeatures) {
  Matrix X(300, 64);
  for (std::size_t i = 0; i < X.rows; ++i)
    for (std::size_t j = 0; j < X.cols; ++j)
      X.at(i, j) = (j % 3 == i % 3 ? 10.0f : 0.0f) + static_cast<float>((i * 7 + j * 13) % 17) / 4.0f;
  const Fitted f = fit_like_the_pipeline(X, 3);
  EXPECT_NEAR(f.fit.inertia / 1213.9623277162723, 1.0, 1e-6);
  EXPECT_EQ(f.sorted_sizes(), (std::vector<std::int64_t>{100, 100, 100}));
  EXPECT_NEAR(f.silhouette.score, 0.8002330843057305, 1e-6);
  EXPECT_NEAR(f.dispersion.calinski_harabasz / 2200.172553425712, 1.0, 1e-6);
  EXPECT_NEAR(f.dispersion.davies_bouldin, 0.3011847302087838, 1e-6);
}

// scikit-learn: inertia 0.0, the centre is the row; no metric is defined.
TEST(DegenerateData, OneRow) {
  const Fitted f = fit_like_the_pipeline(matrix_of({{1, 2}}), 1);
  EXPECT_EQ(f.fit.inertia, 0.0);
  expect_centres({f.centre(0)}, {{1, 2}}, 0.0);
  EXPECT_FALSE(f.silhouette.defined);
  EXPECT_FALSE(f.dispersion.defined);
}

// scikit-learn: k = 2 gives inertia 0.0 and sizes [1, 1], and all three
// metrics raise ValueError (2 labels > n_samples - 1); k = 1 gives
// inertia 4.0 (each standardized row is 1 from the mean in each feature)
// and the centre (2, 3.5).  Calinski-Harabasz and Davies-Bouldin used to be
// reported as 1.0 and 0.0 for k = 2.
TEST(DegenerateData, TwoRows) {
  const Matrix X = matrix_of({{1, 2}, {3, 5}});
  const Fitted two = fit_like_the_pipeline(X, 2);
  EXPECT_EQ(two.fit.inertia, 0.0);
  EXPECT_EQ(two.sorted_sizes(), (std::vector<std::int64_t>{1, 1}));
  expect_centres(two.used_centres(), {{1, 2}, {3, 5}}, 1e-6);
  EXPECT_FALSE(two.silhouette.defined);
  EXPECT_FALSE(two.dispersion.defined);
  const Fitted one = fit_like_the_pipeline(X, 1);
  EXPECT_NEAR(one.fit.inertia, 4.0, 1e-6);
  expect_centres({one.centre(0)}, {{2, 3.5}}, 1e-6);
}

// Values whose squares overflow float32 (up to 3e38): standardized first,
// they cluster like any others.  scikit-learn: inertia 2.4999999999999996,
// sizes [1, 4], centres (-2.5000000376186655e+28, 2.5) and
// (3.0000000054977558e+38, 5.0), silhouette 0.49304731692365006,
// Calinski-Harabasz 9.000000000000002, Davies-Bouldin 0.2309401076758503.
TEST(DegenerateData, HugeValuesAreStandardizedFirst) {
  const Fitted f = fit_like_the_pipeline(matrix_of({{1e30f, 1}, {-1e30f, 2}, {1.1e30f, 3}, {-1.2e30f, 4}, {3e38f, 5}}), 2);
  EXPECT_NEAR(f.fit.inertia / 2.4999999999999996, 1.0, 1e-6);
  EXPECT_EQ(f.sorted_sizes(), (std::vector<std::int64_t>{1, 4}));
  const auto centres = f.used_centres();
  ASSERT_EQ(centres.size(), 2u);
  EXPECT_NEAR(centres[0][0] / -2.5000000376186655e+28, 1.0, 1e-5);
  EXPECT_NEAR(centres[0][1], 2.5, 1e-5);
  EXPECT_NEAR(centres[1][0] / 3.0000000054977558e+38, 1.0, 1e-6);
  EXPECT_NEAR(centres[1][1], 5.0, 1e-5);
  EXPECT_NEAR(f.silhouette.score, 0.49304731692365006, 1e-6);
  EXPECT_NEAR(f.dispersion.calinski_harabasz / 9.000000000000002, 1.0, 1e-6);
  EXPECT_NEAR(f.dispersion.davies_bouldin, 0.2309401076758503, 1e-6);
}

// The same values unstandardized: squared distances would be inf in float,
// so the fixed-point grids refuse them instead of summing garbage.
TEST(DegenerateData, HugeRawValuesAreRefusedNotSummedAsInf) {
  const Matrix X = matrix_of({{1e30f, 1}, {-1e30f, 2}, {3e38f, 5}});
  try {
    FixedPoint::for_data(X);
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "values up to 3e+38 give squared distances beyond the float32 range: expected standardized "
                           "features");
  }
}

// 100,000 rows, three distinct.  scikit-learn: k = 3 gives inertia
// 6.1e-21 and sizes [33333, 33333, 33334]; k = 4 gives sizes
// [0, 33333, 33333, 33334] with the distinct-clusters warning; the
// silhouette (sample_size=3000) is 1.0 for both.
TEST(DegenerateData, HeavyDuplicates) {
  const Matrix X = three_points(100000);
  const Fitted three = fit_like_the_pipeline(X, 3, 3000);
  EXPECT_LT(three.fit.inertia, 1e-6);
  EXPECT_EQ(three.sorted_sizes(), (std::vector<std::int64_t>{33333, 33333, 33334}));
  expect_centres(three.used_centres(), kThreePoints, 1e-5);
  EXPECT_NEAR(three.silhouette.score, 1.0, 1e-12);
  const Fitted four = fit_like_the_pipeline(X, 4, 3000);
  EXPECT_LT(four.fit.inertia, 1e-6);
  EXPECT_EQ(four.sorted_sizes(), (std::vector<std::int64_t>{0, 33333, 33333, 33334}));
  expect_converged_quickly(four.fit);
  EXPECT_NEAR(four.silhouette.score, 1.0, 1e-12);
}

TEST(DegenerateData, KAboveTheRowsIsAnInputError) {
  EXPECT_THROW(fit_like_the_pipeline(matrix_of({{1, 2}, {3, 5}}), 3), InputError);
}

// ---------------------------------------------------------------------------
// CLI level: the messages and warnings the user sees
// ---------------------------------------------------------------------------

class DegenerateCli : public test::CliTest {
 protected:
  std::string csv(const std::string& content) { return write("d.csv", content).string(); }
  std::string out() const { return (dir_ / "out").string(); }
};

TEST_F(DegenerateCli, KAboveTheRowsExitsTwoBeforeAnyWork) {
  const std::string p = csv("a,b\n1,2\n3,5\n");
  test::CliResult r = run("fit " + p + " --k 5 --no-figures --out " + out());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "archetype: error: " + p + ": --k 5: expected at most 2, the number of data rows (k-means needs a "
                                              "row per cluster)\n");
  EXPECT_FALSE(std::filesystem::exists(out()));
  r = run("run " + p + " --k 5 --no-figures --out " + out());
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find(": --k 5: expected at most 2"), std::string::npos) << r.err;
  // Without --k, `run` on one's own table chooses k by the silhouette, which
  // two rows cannot define.
  r = run("run " + p + " --no-figures --out " + out());
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--k auto: no k in the sweep has a defined silhouette"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out()));
  // One row: no sweep can start at k = 2.
  const std::string one = csv("a,b\n1,2\n");
  r = run("sweep " + one + " --no-figures --out " + out());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "archetype: error: " + one + ": --k-min 2: expected at most 1, the number of data rows (k-means "
                                                "needs a row per cluster)\n");
  EXPECT_EQ(run("fit " + one + " --k 1 --quiet --no-figures --out " + out()).code, 0);
}

TEST_F(DegenerateCli, SweepBeyondTheRowsStopsWithAWarning) {
  const std::string p = csv("a,b\n1,2\n3,5\n4,4\n9,9\n");
  const test::CliResult r = run("run " + p + " --k 2 --k-max 10 --no-figures --json --out " + out());
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string w = "--k-max 10 exceeds the 4 data rows: the sweep stops at k = 4";
  EXPECT_NE(r.err.find("archetype: warning: " + w + "\n"), std::string::npos) << r.err;
  const json s = json::parse(r.out);
  EXPECT_EQ(s["sweep"].size(), 3u);
  EXPECT_EQ(s["warnings"][0], w);
  EXPECT_TRUE(s["sweep"][2]["silhouette"].is_null());  // k = 4 = n: undefined, as in scikit-learn
}

// k = 4 on three distinct rows: a valid result with one empty cluster, and
// the warning scikit-learn gives as a ConvergenceWarning.
TEST_F(DegenerateCli, KAboveTheDistinctRowsWarns) {
  const std::string p = csv("a,b\n0,0\n5,5\n10,0\n0,0\n5,5\n10,0\n");
  // --backend cpu: a CUDA build on a machine without a GPU would add its
  // one-line fallback notice.
  const test::CliResult r = run("fit " + p + " --k 4 --backend cpu --no-figures --json --out " + out());
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string w = "k = 4 but only 3 clusters have rows (the data have fewer distinct rows than k): 1 empty, "
                        "with centres that duplicate others (as scikit-learn)";
  // The second warning: columns a, b are not the persona catalog's metrics.
  EXPECT_EQ(r.err.rfind("archetype: warning: " + w + "\narchetype: warning: the persona catalog describes", 0), 0u)
      << r.err;
  const json s = json::parse(r.out);
  ASSERT_EQ(s["warnings"].size(), 2u);
  EXPECT_EQ(s["warnings"][0], w);
  EXPECT_NEAR(s["model"]["silhouette"].get<double>(), 1.0, 1e-12);
  int empty = 0;
  for (const json& c : s["model"]["clusters"]) {
    if (c["size"] != 0) continue;
    ++empty;
    EXPECT_TRUE(c["silhouette"].is_null());  // no rows, no silhouette
  }
  EXPECT_EQ(empty, 1);
}

// All rows identical: no k has a silhouette, so --k auto cannot choose.
TEST_F(DegenerateCli, AllRowsIdenticalHasNoSilhouette) {
  const std::string p = csv("a,b\n3,4\n3,4\n3,4\n3,4\n3,4\n");
  test::CliResult r = run("run " + p + " --k 2 --k-max 3 --quiet --no-figures --json --out " + out());
  ASSERT_EQ(r.code, 0) << r.err;
  const json s = json::parse(r.out);
  for (const json& p2 : s["sweep"]) {
    EXPECT_EQ(p2["wcss"], 0.0);
    EXPECT_TRUE(p2["silhouette"].is_null());
    EXPECT_TRUE(p2["calinski_harabasz"].is_null());
  }
  EXPECT_TRUE(s["model"]["silhouette"].is_null());
  r = run("run " + p + " --k auto --k-max 3 --no-figures --out " + (dir_ / "auto").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("archetype: error: --k auto: no k in the sweep has a defined silhouette"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace archetype
