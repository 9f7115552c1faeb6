// Shared helpers for the test suite: the reference dataset, seeded random
// data, and naive double-precision oracles for the metrics.
#pragma once

#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "archetype/clusterer.hpp"
#include "archetype/csv.hpp"
#include "archetype/matrix.hpp"
#include "archetype/profile.hpp"
#include "archetype/scaler.hpp"

namespace archetype::test {

/// The CPU backend on `threads` threads (EngineOptions for a Clusterer).
inline EngineOptions cpu_options(int threads = 2) {
  EngineOptions o;
  o.backend = "cpu";
  o.threads = threads;
  return o;
}

/// The data folder: $ARCHETYPE_DATA_DIR (set by scripts/gpu_check.sh on a
/// machine where the source tree lives elsewhere), else the source tree's.
inline std::string data_dir() {
  const char* env = std::getenv("ARCHETYPE_DATA_DIR");
  return env && *env ? std::string(env) : std::string(ARCHETYPE_TEST_DATA_DIR);
}

inline std::string reference_csv() { return data_dir() + "/instagram_visits_clustering.csv"; }

/// The reference dataset's two features, standardized as the pipeline does.
inline Matrix reference_scaled() {
  CsvOptions o;
  o.columns = {"Instagram visit score", "Spending_rank(0 to 100)"};
  const Table t = read_csv(reference_csv(), o);
  std::vector<FeatureProfile> p;
  for (std::size_t j = 0; j < t.features.cols; ++j) p.push_back(profile_feature(t.features, j));
  return StandardScaler::from_profiles(p).transform(t.features);
}

/// n x d Gaussian blobs around `centers` random centres, seeded.
inline Matrix random_blobs(std::size_t n, std::size_t d, int centers, std::uint64_t seed, float spread = 0.5f) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> mu(static_cast<std::size_t>(centers) * d);
  for (float& v : mu) v = 3.0f * g(gen);
  Matrix X(n, d);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = static_cast<std::size_t>(gen() % static_cast<std::uint64_t>(centers));
    for (std::size_t j = 0; j < d; ++j) X.at(i, j) = mu[c * d + j] + spread * g(gen);
  }
  return X;
}

inline double dist(const Matrix& X, std::size_t a, std::size_t b) {
  double s = 0.0;
  for (std::size_t j = 0; j < X.cols; ++j) {
    const double diff = static_cast<double>(X.at(a, j)) - X.at(b, j);
    s += diff * diff;
  }
  return std::sqrt(s);
}

/// scikit-learn's silhouette_samples, naively in double.
inline std::vector<double> naive_silhouette(const Matrix& X, const std::vector<std::int32_t>& labels, int k) {
  const std::size_t n = X.rows;
  std::vector<double> s(n, 0.0);
  std::vector<double> count(static_cast<std::size_t>(k), 0.0);
  for (std::int32_t l : labels) count[static_cast<std::size_t>(l)] += 1;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<double> sum(static_cast<std::size_t>(k), 0.0);
    for (std::size_t j = 0; j < n; ++j) sum[static_cast<std::size_t>(labels[j])] += dist(X, i, j);
    const std::size_t own = static_cast<std::size_t>(labels[i]);
    if (count[own] <= 1) continue;
    const double a = sum[own] / (count[own] - 1);
    double b = INFINITY;
    for (std::size_t c = 0; c < static_cast<std::size_t>(k); ++c)
      if (c != own && count[c] > 0) b = std::min(b, sum[c] / count[c]);
    s[i] = (b - a) / std::max(a, b);
  }
  return s;
}

}  // namespace archetype::test
