// The public engine API (archetype/clusterer.hpp): the same bits as the
// engine's free functions on a bound CPU backend, for any layout of the
// caller's array; predict/transform against host computations; errors;
// results independent of call order; the auto fallback.  Synthetic data
// only (never the reference dataset).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "archetype/clusterer.hpp"
#include "archetype/distance.hpp"
#include "archetype/error.hpp"
#include "engine/clusterer_access.hpp"
#include "engine/fault_injection.hpp"
#include "engine/faulty_backend.hpp"
#include "fit_compare.hpp"
#include "test_support.hpp"

namespace archetype {
namespace {

using test::cpu_options;
using test::expect_same_fit;

KMeansParams params(int k, int n_init = 3) {
  KMeansParams p;
  p.n_clusters = k;
  p.n_init = n_init;
  p.seed = 11;
  return p;
}

/// The existing path: fit_kmeans on a CPU backend bound to X.
KMeansResult reference_fit(const Matrix& X, const KMeansParams& p) {
  const FixedPoint fp = FixedPoint::for_data(X);
  const std::unique_ptr<Backend> b = make_cpu_backend(1);
  b->bind(X, fp, p.n_clusters);
  return fit_kmeans(*b, X, fp, p);
}

void expect_same_scores(const DispersionScores& a, const DispersionScores& b) {
  EXPECT_EQ(a.defined, b.defined);
  EXPECT_EQ(a.calinski_harabasz, b.calinski_harabasz);
  EXPECT_EQ(a.davies_bouldin, b.davies_bouldin);
}

template <typename F>
std::string input_error(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError";
  return "";
}

TEST(Clusterer, FitIsBitIdenticalToFitKmeansOnABoundCpuBackend) {
  for (std::size_t d : {1u, 3u, 7u}) {
    const Matrix X = test::random_blobs(2500, d, 4, 100 + d);
    Clusterer c(DataView::of(X), cpu_options());
    EXPECT_EQ(c.data().values, X.values.data()) << "C-contiguous float32 is used in place";
    EXPECT_EQ(c.rows(), X.rows);
    EXPECT_EQ(c.cols(), d);
    EXPECT_EQ(c.backend_name(), "cpu");
    EXPECT_EQ(c.fixed_point().dist_exp, FixedPoint::for_data(X).dist_exp);
    const KMeansResult got = c.fit(params(4));
    ASSERT_EQ(got.labels.size(), X.rows) << "labels are always returned";
    expect_same_fit(got, reference_fit(X, params(4)));
  }
}

TEST(Clusterer, OtherLayoutsAndFloat64GiveTheFloat32CopysResult) {
  const Matrix X = test::random_blobs(1500, 3, 3, 21);
  const std::size_t n = X.rows, d = X.cols;
  const KMeansResult want = reference_fit(X, params(3));

  // float64, with a perturbation far below float32 precision: rounded once.
  std::vector<double> f64(n * d);
  for (std::size_t i = 0; i < n * d; ++i) f64[i] = static_cast<double>(X.values[i]) * (1.0 + 1e-12);
  // Column-major (Fortran order).
  std::vector<float> fortran(n * d);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) fortran[j * n + i] = X.at(i, j);
  // Padded rows (a slice of a wider array).
  std::vector<float> padded(n * (d + 2), -1.0f);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) padded[i * (d + 2) + j] = X.at(i, j);
  // Rows stored in reverse, walked with a negative stride (a[::-1]).
  std::vector<float> reversed(n * d);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) reversed[(n - 1 - i) * d + j] = X.at(i, j);
  const std::ptrdiff_t sd = static_cast<std::ptrdiff_t>(d), sn = static_cast<std::ptrdiff_t>(n);

  const std::vector<DataView> views = {
      {f64.data(), DataView::DType::Float64, n, d, sd, 1},
      {fortran.data(), DataView::DType::Float32, n, d, 1, sn},
      {padded.data(), DataView::DType::Float32, n, d, sd + 2, 1},
      {reversed.data() + (n - 1) * d, DataView::DType::Float32, n, d, -sd, 1},
  };
  for (std::size_t v = 0; v < views.size(); ++v) {
    Clusterer c(views[v], cpu_options());
    EXPECT_NE(c.data().values, static_cast<const float*>(views[v].data)) << v << ": copied";
    EXPECT_EQ(std::vector<float>(c.data().values, c.data().values + n * d), X.values) << v;
    expect_same_fit(c.fit(params(3)), want);
  }
}

TEST(Clusterer, PredictAndTransformMatchAHostComputation) {
  const Matrix X = test::random_blobs(3000, 3, 4, 5);
  Clusterer c(DataView::of(X), cpu_options());
  const KMeansResult fit = c.fit(params(4));
  // A fit's own centres give back its labels.
  EXPECT_EQ(c.predict(fit.centers, 4).labels, fit.labels);

  // Centres that are not this data's (shifted, one far away).
  std::vector<double> centers = fit.centers;
  for (std::size_t i = 0; i < centers.size(); ++i) centers[i] = centers[i] * 1.5 + 0.25;
  centers[0] = 40.0;
  const Prediction p = c.predict(centers, 4);
  const std::vector<double> dist = c.transform(centers, 4);
  ASSERT_EQ(dist.size(), X.rows * 4);
  const std::vector<float> cf(centers.begin(), centers.end());
  double inertia = 0.0;
  for (std::size_t i = 0; i < X.rows; ++i) {
    int best = 0;
    float best_d2 = std::numeric_limits<float>::infinity();
    for (int k = 0; k < 4; ++k) {
      const float d2 = squared_distance(X.row(i), cf.data() + static_cast<std::size_t>(k) * 3, 3);
      if (d2 < best_d2) {
        best_d2 = d2;
        best = k;
      }
      EXPECT_EQ(dist[i * 4 + static_cast<std::size_t>(k)], std::sqrt(static_cast<double>(d2)));
      double exact = 0.0;
      for (std::size_t j = 0; j < 3; ++j) {
        const double diff = static_cast<double>(X.at(i, j)) - cf[static_cast<std::size_t>(k) * 3 + j];
        exact += diff * diff;
      }
      EXPECT_NEAR(dist[i * 4 + static_cast<std::size_t>(k)], std::sqrt(exact), 1e-5 * (1.0 + std::sqrt(exact)));
    }
    ASSERT_EQ(p.labels[i], best) << "row " << i;
    inertia += best_d2;
  }
  EXPECT_NEAR(p.inertia, inertia, 1e-6 * inertia);
  // After predict (which binds with other grids) a fit is unchanged.
  expect_same_fit(c.fit(params(4)), fit);
}

TEST(Clusterer, SweepsKeptFitEqualsFitAndItsScoresTheMetrics) {
  const Matrix X = test::random_blobs(2000, 2, 4, 8);
  Clusterer c(DataView::of(X), cpu_options());
  SweepParams sp;
  sp.k_min = 2;
  sp.k_max = 5;
  sp.kmeans = params(0);
  const SweepResult s = c.sweep(sp, 3);
  ASSERT_TRUE(s.kept.has_value());
  ASSERT_EQ(s.kept->labels.size(), X.rows) << "the kept fit has its labels";
  const KMeansResult fit = c.fit(params(3));
  expect_same_fit(*s.kept, fit);
  const SweepPoint& p3 = s.points[1];
  ASSERT_EQ(p3.k, 3);
  expect_same_scores(p3.dispersion, c.dispersion(fit.labels, 3));
  EXPECT_EQ(p3.silhouette.score, c.silhouette(fit.labels, 3).score);
  EXPECT_FALSE(c.sweep(sp, 9).kept.has_value());
}

TEST(Clusterer, RebindsWhenALargerKIsAsked) {
  const Matrix X = test::random_blobs(1200, 3, 5, 9);
  Clusterer c(DataView::of(X), cpu_options(1));
  for (int k : {2, 6, 3, 8, 8})  // grows, shrinks (no rebind needed), grows again
    expect_same_fit(c.fit(params(k, 2)), reference_fit(X, params(k, 2)));
  SweepParams sp;
  sp.k_min = 9;
  sp.k_max = 11;
  sp.kmeans = params(0, 1);
  EXPECT_EQ(c.sweep(sp).points.size(), 3u);
  const KMeansResult f11 = c.fit(params(11, 1));
  const FixedPoint fp = FixedPoint::for_data(X);
  const std::unique_ptr<Backend> b = make_cpu_backend(1);
  b->bind(X, fp, 11);
  expect_same_scores(c.dispersion(f11.labels, 11), dispersion_scores(*b, fp, f11));
}

TEST(Clusterer, BadInputIsAnInputErrorNamingTheValue) {
  Matrix X = test::random_blobs(10, 3, 2, 1);
  X.at(4, 1) = std::numeric_limits<float>::quiet_NaN();
  std::string m = input_error([&] { Clusterer(DataView::of(X), cpu_options()); });
  EXPECT_NE(m.find("row 5, column 2"), std::string::npos) << m;
  EXPECT_NE(m.find("not finite"), std::string::npos) << m;

  std::vector<double> f64(30, 0.5);
  f64[3 * 3 + 2] = -std::numeric_limits<double>::infinity();
  m = input_error([&] { Clusterer({f64.data(), DataView::DType::Float64, 10, 3, 3, 1}, cpu_options()); });
  EXPECT_NE(m.find("row 4, column 3"), std::string::npos) << m;
  f64[3 * 3 + 2] = 1e300;  // finite in double, not in float
  m = input_error([&] { Clusterer({f64.data(), DataView::DType::Float64, 10, 3, 3, 1}, cpu_options()); });
  EXPECT_NE(m.find("row 4, column 3"), std::string::npos) << m;
  EXPECT_NE(m.find("float32"), std::string::npos) << m;

  const Matrix ok = test::random_blobs(10, 3, 2, 1);
  input_error([&] { Clusterer({ok.values.data(), DataView::DType::Float32, 0, 3, 3, 1}, cpu_options()); });
  input_error([&] { Clusterer({ok.values.data(), DataView::DType::Float32, 10, 0, 0, 1}, cpu_options()); });
  input_error([&] { Clusterer({nullptr, DataView::DType::Float32, 10, 3, 3, 1}, cpu_options()); });
  input_error([&] {
    Clusterer({ok.values.data(), DataView::DType::Float32, 10, 3, std::numeric_limits<std::ptrdiff_t>::max() / 4, 1},
              cpu_options());
  });
  EngineOptions bad = cpu_options();
  bad.backend = "tpu";
  input_error([&] { Clusterer(DataView::of(ok), bad); });

  Clusterer c(DataView::of(ok), cpu_options());
  m = input_error([&] { c.fit(params(11)); });
  EXPECT_NE(m.find("outside [1, 10]"), std::string::npos) << m;
  input_error([&] { c.fit(params(0)); });
  input_error([&] { c.fit(params(1000000000)); });  // refused before any scratch is sized
  input_error([&] { c.predict(std::vector<double>(5, 0.0), 2); });
  input_error([&] { c.transform(std::vector<double>(6, 0.0), 0); });
  std::vector<std::int32_t> labels(10, 0);
  labels[7] = 2;
  m = input_error([&] { c.dispersion(labels, 2); });
  EXPECT_NE(m.find("row 8"), std::string::npos) << m;
  input_error([&] { c.silhouette(labels, 2); });
  input_error([&] { c.silhouette(std::vector<std::int32_t>(9, 0), 2); });
}

TEST(Clusterer, MetricsDoNotDependOnWhatRanBefore) {
  const Matrix X = test::random_blobs(2500, 3, 4, 13);
  Clusterer fresh(DataView::of(X), cpu_options());
  Clusterer c(DataView::of(X), cpu_options());
  const KMeansResult a = c.fit(params(3));
  const DispersionScores d1 = c.dispersion(a.labels, 3);
  SilhouetteParams sp;
  sp.sample_size = 700;
  const SilhouetteResult s1 = c.silhouette(a.labels, 3, sp);
  // Other work in between: another k (the backend's store now holds its
  // labels), a sweep, a predict with other grids.
  const KMeansResult b = c.fit(params(5));
  SweepParams sw;
  sw.k_min = 2;
  sw.k_max = 4;
  sw.kmeans = params(0, 1);
  c.sweep(sw);
  c.predict(b.centers, 5);
  expect_same_scores(c.dispersion(a.labels, 3), d1);
  expect_same_scores(fresh.dispersion(a.labels, 3), d1);
  EXPECT_EQ(c.silhouette(a.labels, 3, sp).values, s1.values);
  EXPECT_EQ(fresh.silhouette(a.labels, 3, sp).values, s1.values);
  // The labels' own means (dispersion) equal the fit's (dispersion_scores of the fit).
  const FixedPoint fp = FixedPoint::for_data(X);
  const std::unique_ptr<Backend> cpu = make_cpu_backend(1);
  cpu->bind(X, fp, 3);
  expect_same_scores(dispersion_scores(*cpu, fp, a), d1);
  EXPECT_TRUE(d1.defined);
}

TEST(Clusterer, AutoGivesUpAFailingGpuOnceAndRedoesTheCall) {
  const Matrix X = test::random_blobs(1500, 2, 3, 17);
  std::vector<std::string> notices;
  EngineOptions o;
  o.backend = "auto";
  o.notice = [&](const std::string& line) { notices.push_back(line); };
  Clusterer c = ClustererAccess::with_backend(
      DataView::of(X), o, make_faulty_backend(make_cpu_backend(1), parse_fault_spec("launch:5")));
  const KMeansResult want = reference_fit(X, params(3));
  expect_same_fit(c.fit(params(3)), want);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].rfind("GPU failed: simulated GPU: ", 0), 0u) << notices[0];
  EXPECT_NE(notices[0].find("; retrying on the CPU"), std::string::npos) << notices[0];
  EXPECT_EQ(c.backend_name(), "cpu");
  expect_same_fit(c.fit(params(3)), want);
  EXPECT_EQ(notices.size(), 1u);

  // cuda (not auto): the DeviceError is the caller's.
  o.backend = "cuda";
  Clusterer strict = ClustererAccess::with_backend(
      DataView::of(X), o, make_faulty_backend(make_cpu_backend(1), parse_fault_spec("alloc:1")));
  EXPECT_THROW(strict.fit(params(3)), DeviceError);
}

TEST(Clusterer, ProfileIsProfileFeatureOfEachColumn) {
  const Matrix X = test::random_blobs(900, 3, 2, 3);
  Clusterer c(DataView::of(X), cpu_options());
  const std::vector<FeatureProfile> p = c.profile();
  ASSERT_EQ(p.size(), 3u);
  for (std::size_t j = 0; j < 3; ++j) {
    EXPECT_EQ(p[j].mean, profile_feature(X, j).mean);
    EXPECT_EQ(p[j].kurtosis, profile_feature(X, j).kurtosis);
  }
}

TEST(Clusterer, IsMovable) {
  const Matrix X = test::random_blobs(600, 2, 3, 4);
  Clusterer a(DataView::of(X), cpu_options());
  Clusterer b = std::move(a);
  expect_same_fit(b.fit(params(3)), reference_fit(X, params(3)));
}

}  // namespace
}  // namespace archetype
