// Seeded synthetic data for the benchmarks: a mixture of five Gaussian
// blobs in d dimensions, standardized-looking (never all zeros).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>

#include "archetype/matrix.hpp"

namespace archetype::bench {

inline Matrix blobs(std::size_t n, std::size_t d, std::uint64_t seed = 7) {
  Matrix X(n, d);
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> noise(0.0f, 0.35f);
  const float centers[5][2] = {{0.6f, 1.5f}, {1.0f, -0.8f}, {-0.9f, 0.8f}, {-0.1f, -0.8f}, {-1.5f, -0.6f}};
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = static_cast<std::size_t>(gen() % 5);
    for (std::size_t j = 0; j < d; ++j) X.at(i, j) = centers[c][j % 2] + noise(gen);
  }
  return X;
}

/// The same kind of data as blobs(n, 2) in the reference dataset's original
/// units and CSV layout: "User ID,Instagram visit score,Spending_rank(0 to
/// 100)", an integer engagement score (clipped to 5..118) and a monetization
/// rank with 8 decimals (clipped to 1..107), as the reference file has them.
inline std::string blobs_csv(std::size_t n, std::uint64_t seed = 7) {
  const Matrix z = blobs(n, 2, seed);
  std::string out = "User ID,Instagram visit score,Spending_rank(0 to 100)\n";
  out.reserve(out.size() + n * 24);
  char line[96];
  for (std::size_t i = 0; i < n; ++i) {
    const double engagement = std::clamp(std::nearbyint(63.3 + 26.6 * z.at(i, 0)), 5.0, 118.0);
    const double monetization = std::clamp(42.8 + 28.8 * static_cast<double>(z.at(i, 1)), 1.0, 107.0);
    const int len = std::snprintf(line, sizeof line, "%zu,%.0f,%.8f\n", i, engagement, monetization);
    out.append(line, static_cast<std::size_t>(len));
  }
  return out;
}

}  // namespace archetype::bench
